"""Fuzz: thousands of malformed inputs thrown at the citizen form, the paper-form import and the API.

Every generated input starts from a valid one (a submission built from the rendered form, a file of
valid rows, a valid API request) and gets at least one mutation that certainly makes it invalid:
a value out of range or not a number, a missing or repeated field, an unknown field, a wrong CSRF
token or submission_key, invalid UTF-8, NUL and control characters, SQL and script payloads where
they make the input invalid, huge fields and bodies, too many fields, a wrong content type or
header. Whatever the mutation, the answer must be a 4xx with a readable message (the CLI: a non-zero
exit with a readable message), never a traceback, and no row may be written.

The fuzz runs on SQLite only: the database layer is covered on both backends by the other tests,
while the fuzz targets the request handling, and running thousands of examples twice would double
the time for little. The test that stores a comment at its limit, and the tests of the bugs that
show on PostgreSQL, run on both backends.

The bugs the fuzz found (B1…B10) are fixed and pinned by the regression tests in test_regressions.py.

One module per surface (test_citizen_post, test_api, test_import), the limits exactly at and just past
them (test_limits) and the regressions; what they share is in common.py, citizen_form.py and
conftest.py.
"""
