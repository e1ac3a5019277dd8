#!/usr/bin/env bash
# Make .venv ready: `bash scripts/bootstrap.sh` installs what the running app needs (requirements.txt),
# `bash scripts/bootstrap.sh dev` adds the tests, benchmarks and linters (requirements-dev.txt).
#
# .venv/.installed-runtime and .venv/.installed-dev hold the hashes of the requirement files pip last
# installed in full (no match: that set is installed again). A dev install satisfies the runtime set too.
set -euo pipefail
cd "$(dirname "$0")/.."
wanted=${1:-runtime}
case $wanted in
  runtime | dev) ;;
  *) echo "usage: bash scripts/bootstrap.sh [runtime|dev]" >&2 && exit 2 ;;
esac
python=${PYTHON:-$(command -v python3.11 || command -v python3)}
venv=.venv
if [ ! -x "$venv/bin/python" ]; then
  echo "Creating the virtual environment with $python"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
fi

runtime_hash=$(sha256sum requirements.txt | cut -d' ' -f1)
dev_hash=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
has() { [ "$(cat "$venv/.installed-$1" 2>/dev/null)" = "$2" ]; }

if has dev "$dev_hash" || { [ "$wanted" = runtime ] && has runtime "$runtime_hash"; }; then
  exit 0
fi
if [ "$wanted" = runtime ]; then file=requirements.txt; else file=requirements-dev.txt; fi
echo "Installing $file"
rm -f "$venv/.installed-runtime" "$venv/.installed-dev"  # trusted again once installed
"$venv/bin/python" -m pip install --quiet -r "$file"
echo "$runtime_hash" >"$venv/.installed-runtime"
if [ "$wanted" = dev ]; then
  echo "$dev_hash" >"$venv/.installed-dev"
fi
