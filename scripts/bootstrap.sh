#!/usr/bin/env bash
# Make .venv ready: `bash scripts/bootstrap.sh` installs what the running app needs (requirements.txt),
# `bash scripts/bootstrap.sh dev` adds the tests, benchmarks and linters (requirements-dev.txt).
#
# A step is recorded only once it has succeeded, so an interrupted or failed run leaves nothing that the
# next one trusts: .venv/.created is written once the virtual environment exists with its pip (a .venv
# without it, or whose Python no longer runs, is made anew), .venv/.installed-runtime and
# .venv/.installed-dev hold the hashes of the requirement files pip last installed in full (no match:
# that set is installed again). A dev install satisfies the runtime set too.
set -euo pipefail
cd "$(dirname "$0")/.."
wanted=${1:-runtime}
case $wanted in
  runtime | dev) ;;
  *) echo "usage: bash scripts/bootstrap.sh [runtime|dev]" >&2 && exit 2 ;;
esac
python=$(bash scripts/python.sh)  # stops here, with the reason, unless it is Python 3.11 or newer
venv=.venv
if command -v flock >/dev/null; then  # one install at a time (./run.sh and ./test.sh started together)
  exec 9<.
  flock -n 9 || { echo "Another install is running in this project: waiting for it to finish…" && flock 9; }
fi

if [ -e "$venv/.requirements.sha256" ] && [ ! -e "$venv/.created" ]; then
  touch "$venv/.created"  # made by an earlier bootstrap.sh, which wrote that stamp only after a full install
  rm "$venv/.requirements.sha256"
fi
if [ -e "$venv" ] || [ -L "$venv" ]; then
  if [ ! -e "$venv/.created" ]; then
    echo "The virtual environment in $venv was left half-made (an interrupted or failed first run): making it anew."
    rm -rf "$venv"
  elif ! "$venv/bin/python" -c 'import sys, pip; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
    echo "The Python of $venv no longer runs (removed or upgraded since?): making the virtual environment anew."
    rm -rf "$venv"
  fi
fi

fresh=""
if [ ! -e "$venv" ]; then
  fresh=1
  version=$("$python" -c 'import platform; print(platform.python_version())')
  echo "Creating the virtual environment in $venv (Python $version, $python)…"
  if ! "$python" -m venv "$venv" || ! "$venv/bin/python" -m pip install --quiet --upgrade pip; then
    rm -rf "$venv"
    echo "Could not create the virtual environment (see above; on Debian: apt-get install python3-venv)." >&2
    exit 1
  fi
  touch "$venv/.created"
fi

count() {  # the packages a requirements file pins
  grep -cE '^[A-Za-z0-9]' "$@" | awk -F: '{ n += $NF } END { print n }'
}
runtime_hash=$(sha256sum requirements.txt | cut -d' ' -f1)
dev_hash=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
has() { [ "$(cat "$venv/.installed-$1" 2>/dev/null)" = "$2" ]; }

if has dev "$dev_hash" || { [ "$wanted" = runtime ] && has runtime "$runtime_hash"; }; then
  exit 0
fi
first=$fresh
if [ "$wanted" = runtime ]; then
  file=requirements.txt total=$(count requirements.txt)
  what="$total runtime packages" takes="about a minute"
elif has runtime "$runtime_hash"; then  # a runtime-only venv (./run.sh) gets the development extras
  file=requirements-dev.txt total=$(count requirements.txt requirements-dev.txt)
  what="$(count requirements-dev.txt) packages for the tests, benchmarks and linters" takes="under a minute"
  [ -e "$venv/.installed-dev" ] || first=1
else
  file=requirements-dev.txt total=$(count requirements.txt requirements-dev.txt)
  what="$total packages, runtime and development" takes="one to two minutes"
fi
if [ -n "$first" ]; then
  echo "Installing $what (the first time takes $takes)…"
else
  echo "Installing $what (the requirements changed, or an earlier install did not finish)…"
fi

rm -f "$venv/.installed-runtime" "$venv/.installed-dev"  # the set changes from here on: trusted again once installed
if ! "$venv/bin/python" -m pip install --progress-bar raw -r "$file" 2>&1 | "$venv/bin/python" scripts/pip_progress.py "$total"; then
  echo "Installing the requirements failed (see above); the next run tries again." >&2
  exit 1
fi
echo "$runtime_hash" >"$venv/.installed-runtime"
if [ "$wanted" = dev ]; then
  echo "$dev_hash" >"$venv/.installed-dev"
fi
