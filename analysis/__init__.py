"""Pure analysis of survey results: tidy pandas frames in, tables and figures out.

Never imports flask, sqlalchemy, the ``survey`` package or ``matplotlib.pyplot``, so the same
functions serve the CLI, the dashboard, the report pack and a notebook.
"""
