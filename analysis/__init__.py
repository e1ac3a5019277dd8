"""Pure analysis of survey results: tidy pandas frames in, tables and figures out.

Never imports flask, sqlalchemy, the ``survey`` package or ``matplotlib.pyplot``, so the same
functions serve the CLI, the dashboard, the report pack and a notebook.

Monthly aggregation: ``counting`` (tidy answers → counts and score sums), ``indices``
(``monthly_table``), ``output`` (CSV and XLSX), with ``periods``, ``hierarchy``, ``pooling``,
``targets`` and ``stats`` (intervals; its docstring states the method). ``python -m analysis``
runs it on an exported file.
"""
