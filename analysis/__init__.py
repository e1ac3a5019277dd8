"""Pure analysis of survey results: tidy pandas frames in, tables and figures out.

Never imports flask, sqlalchemy, the ``survey`` package or ``matplotlib.pyplot``, so the same
functions serve the CLI, the dashboard, the report pack and a notebook.

Monthly aggregation: ``counting`` (tidy answers → counts and score sums), ``indices``
(``monthly_table``), ``output`` (CSV and XLSX), with ``periods``, ``hierarchy``, ``pooling``,
``targets`` and ``stats`` (intervals; its docstring states the method). ``python -m analysis``
runs it on an exported file.

Dashboard and report pack: ``trend`` (months in a row), ``dashboard`` (what each chart shows and its
table), ``chart_text`` (titles, alt texts, headline), ``charts`` (``render_chart`` to png/svg/pdf, in
the house style of ``chart_style``, drawn by ``plots``), and ``reportpack`` (the PDF and workbook,
drawn with ``report_pages``, ``report_tables`` and ``reportpack_pages``).
"""
