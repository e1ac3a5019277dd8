#!/usr/bin/env bash
# Print the Python that builds .venv, or stop with a clear message when it is older than 3.11.
# PYTHON chooses it; otherwise the first of python3.11 (what the pinned requirements are tested on),
# python3, python3.14, python3.13 and python3.12 that is 3.11 or newer.
set -euo pipefail

version_of() {  # "3.11.7", or nothing when it does not run
  "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || true
}

recent_enough() {  # 3.11 or newer
  local major minor
  IFS=. read -r major minor _ <<<"$1"
  [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] && ((major > 3 || (major == 3 && minor >= 11)))
}

if [ -n "${PYTHON:-}" ]; then
  candidates=("$PYTHON")
else
  candidates=()
  for name in python3.11 python3 python3.14 python3.13 python3.12; do
    if found=$(command -v "$name"); then candidates+=("$found"); fi
  done
  if [ ${#candidates[@]} -eq 0 ]; then
    echo "Python 3.11 or newer is needed and none was found: install it (Debian: apt-get install python3 python3-venv)," >&2
    echo "or point PYTHON at one, e.g. PYTHON=/opt/python3.12/bin/python3 ./run.sh" >&2
    exit 1
  fi
fi

for python in "${candidates[@]}"; do
  if recent_enough "$(version_of "$python")"; then
    echo "$python"
    exit 0
  fi
done

first=${candidates[0]}
version=$(version_of "$first")
echo "Python 3.11 or newer is needed; $first is ${version:-not a Python that runs}." >&2
echo "Install Python 3.11 or newer, or point PYTHON at one, e.g. PYTHON=/usr/bin/python3.12 ./run.sh" >&2
exit 1
