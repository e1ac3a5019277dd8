#!/usr/bin/env bash
# Set up and serve the platform on an embedded SQLite database with demo data.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/bootstrap.sh
export FLASK_APP=wsgi
export LOG_FORMAT=${LOG_FORMAT:-text}  # plain lines in a terminal; JSON in production
.venv/bin/flask init-db
.venv/bin/flask seed-demo --if-empty
echo
echo "Counter survey links (open one on a phone or in a browser):"
.venv/bin/flask counter-url --all
echo
echo "Serving on http://127.0.0.1:5000  (Ctrl+C to stop)"
exec .venv/bin/flask run --host 127.0.0.1 --port 5000
