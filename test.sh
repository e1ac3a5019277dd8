#!/usr/bin/env bash
# Run the test suite (SQLite, PostgreSQL when reachable, Chromium browser tests when installed).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/bootstrap.sh dev # Python 3.11 or newer; the runtime and the development requirements
exec .venv/bin/python -m pytest "$@"
