#!/usr/bin/env bash
# Set up and serve the platform on an embedded SQLite database with demo data.
# HOST and PORT choose where it listens (default 127.0.0.1:5000); BASE_URL, the address in the printed
# links, follows them unless set.
set -euo pipefail
cd "$(dirname "$0")"
host=${HOST:-127.0.0.1}
port=${PORT:-5000}
python=$(bash scripts/python.sh)             # Python 3.11 or newer, else it stops with the reason
"$python" scripts/port.py free "$host" "$port" # a taken port stops it here, before any install
PYTHON=$python bash scripts/bootstrap.sh      # the runtime requirements only

case $host in
  0.0.0.0) here=127.0.0.1 elsewhere=" and on this machine's other addresses" ;;
  ::) here=::1 elsewhere=" and on this machine's other addresses" ;;
  *) here=$host elsewhere="" ;;
esac
case $here in
  *:*) url="http://[$here]:$port" ;;
  *) url="http://$here:$port" ;;
esac
export BASE_URL=${BASE_URL:-$url}
export FLASK_APP=wsgi
export LOG_FORMAT=${LOG_FORMAT:-text} # plain lines in a terminal; JSON in production
.venv/bin/flask init-db
.venv/bin/flask seed-demo --if-empty
echo
echo "Counter survey links (open one on a phone or in a browser):"
.venv/bin/flask counter-url --all
if [ -n "$elsewhere" ] && [ "$BASE_URL" = "$url" ]; then
  echo "(On a phone these links need this machine's address: set BASE_URL=http://ADDRESS:$port.)"
fi
echo
# Beside the server, at a lower CPU priority, and stopping with it: the task queue's consumer (report
# packs; HUEY_NICE) and the figures' watcher (shared month figures and charts; FIGURES_NICE). A helper
# asks each to stop once the server (this shell's process, after exec) has ended.
.venv/bin/huey_consumer wsgi.queue -w 1 &
consumer=$!
.venv/bin/flask figures watch >/dev/null &
watcher=$!
for helper in "$consumer" "$watcher"; do
  (while kill -0 $$ 2>/dev/null && kill -0 "$helper" 2>/dev/null; do sleep 1; done
    kill -INT "$helper" 2>/dev/null || true) &
done
# The server takes this shell's place (Ctrl+C reaches it directly); a helper says where it serves once
# it listens, and ends with it.
(.venv/bin/python scripts/port.py wait "$host" "$port" --pid $$ &&
  echo "Serving on $url$elsewhere  (Ctrl+C to stop)" &)
exec .venv/bin/flask run --host "$host" --port "$port"
