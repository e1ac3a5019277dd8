"""How long the command line takes to start: `flask --app wsgi --help` and light commands.

Usage: .venv/bin/python bench/startup.py [--runs 7] [--python PATH]

Prepares a temporary SQLite database (`flask init-db`), then runs each command --runs times in a
fresh process (as a person types it) with --python (default: this interpreter; give the runtime-only
virtual environment that ./run.sh installs to measure what a user meets), and prints the median and
the slowest wall time beside the target, and whether pandas, matplotlib, openpyxl or pyarrow were
imported on the way (they must not be: only reports, charts and files need them). Target: under
1 s for each. Exit status 0 when every median is met.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.0  # seconds
COMMANDS = {
    "flask --app wsgi --help": ["--help"],
    "flask --app wsgi user list": ["user", "list"],
    "flask --app wsgi counter-url --all": ["counter-url", "--all"],
    "flask --app wsgi questionnaires check": ["questionnaires", "check"],
}
HEAVY = ("pandas", "matplotlib", "openpyxl", "pyarrow")
PROBE = (
    "import sys, runpy; sys.argv = ['flask', '--app', 'wsgi', *sys.argv[1:]]\n"
    "try:\n    runpy.run_module('flask', run_name='__main__')\nexcept SystemExit:\n    pass\n"
    f"print('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
)


def flask_env(database: Path) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "bench", "LOG_FORMAT": "text"}
    env.pop("FLASK_APP", None)
    return env


PYTHON = [sys.executable]


def run(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([*PYTHON, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - start


def heavy_imports(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([*PYTHON, "-c", PROBE, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    line = [x for x in done.stderr.splitlines() if x.startswith("HEAVY:")]
    return line[-1].removeprefix("HEAVY:") if line else "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--python", help="the interpreter of the virtual environment to measure")
    options = parser.parse_args()
    if options.python:
        PYTHON[:] = [options.python]
    print(f"interpreter: {PYTHON[0]}")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        env = flask_env(Path(tmp) / "bench.sqlite3")
        run(["init-db"], env)
        print(f"{'command':<42} {'median':>8} {'slowest':>8}  target  heavy imports")
        for label, args in COMMANDS.items():
            run(args, env)  # the first run writes bytecode caches; a person's second run is like the rest
            times = [run(args, env) for _ in range(options.runs)]
            median = statistics.median(times)
            met = median < TARGET
            ok &= met
            heavy = heavy_imports(args, env) or "none"
            print(f"{label:<42} {median:7.2f}s {max(times):7.2f}s  < {TARGET:.0f} s {'met' if met else 'NOT MET'}"
                  f"  {heavy}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
