"""The front door: ./run.sh, ./test.sh and scripts/bootstrap.sh, in a copy of the project with a stand-in Python.

The stand-in reports the version it is told, makes a pretend virtual environment and records what pip is asked
to do without installing anything, so these tests need no network and never touch the project's own .venv.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import io
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FAKE_PYTHON = r"""#!/usr/bin/env bash
# A stand-in for Python: -c answers $FAKE_VERSION, -m venv makes a
# pretend environment (a copy of this script as its python), -m pip records its arguments in $FAKE_LOG
# (and fails for a requirements install when $FAKE_PIP_FAILS is set); scripts/*.py run on the real Python.
case "$1" in
  -c) echo "${FAKE_VERSION:-3.11.7}" ;;
  -m)
    case "$2" in
      venv) mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && exit "${FAKE_VENV_RC:-0}" ;;
      pip)
        shift 2
        echo "pip $*" >>"$FAKE_LOG"
        if [ -n "${FAKE_PIP_FAILS:-}" ] && [[ " $* " == *" -r "* ]]; then echo "ERROR: no such package" >&2; exit 1; fi
        if [[ " $* " == *" -r "* ]]; then echo "Collecting flask==3.1.3"; echo "Successfully installed flask-3.1.3"; fi
        ;;
    esac
    ;;
  *.py) exec "$REAL_PYTHON" "$@" ;;
  *) exit 2 ;;
esac
"""


class Project:
    """A temporary copy of the files the front door reads, run with the stand-in Python."""

    def __init__(self, root: Path, version: str = "3.11.7"):
        self.root = root
        for name in ("run.sh", "test.sh", "requirements.txt", "requirements-dev.txt"):
            shutil.copy(ROOT / name, root / name)
        shutil.copytree(ROOT / "scripts", root / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
        self.python = root / "fake" / "python3"
        self.python.parent.mkdir()
        self.python.write_text(FAKE_PYTHON)
        self.python.chmod(0o755)
        self.log = root / "pip.log"
        self.env = {
            key: value for key, value in os.environ.items() if key not in {"HOST", "PORT", "BASE_URL", "VIRTUAL_ENV"}
        }
        self.env |= {"PYTHON": str(self.python), "FAKE_VERSION": version, "FAKE_LOG": str(self.log)}
        self.env["REAL_PYTHON"] = sys.executable

    @property
    def venv(self) -> Path:
        return self.root / ".venv"

    def run(self, *command: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            command,
            cwd=self.root,
            env=self.env | env,
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )

    def bootstrap(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return self.run("bash", "scripts/bootstrap.sh", *args, **env)

    def pip_calls(self) -> list[str]:
        calls = self.log.read_text().splitlines() if self.log.exists() else []
        self.log.unlink(missing_ok=True)
        return calls

    def stamp(self, name: str) -> str | None:
        path = self.venv / f".installed-{name}"
        return path.read_text().strip() if path.exists() else None

    def hash(self, *names: str) -> str:
        return hashlib.sha256(b"".join((self.root / name).read_bytes() for name in names)).hexdigest()


@pytest.fixture
def project(tmp_path):
    return Project(tmp_path)


def pinned(name: str) -> int:
    return sum(1 for line in (ROOT / name).read_text().splitlines() if line[:1].isalnum())


@pytest.mark.parametrize("command", [["bash", "scripts/bootstrap.sh"], ["./run.sh"], ["./test.sh"]])
def test_an_old_python_is_refused_with_the_reason_before_anything_is_made(project, command):
    done = project.run(*command, FAKE_VERSION="3.10.12")
    assert done.returncode != 0
    assert "Python 3.11 or newer is needed" in done.stderr and "3.10.12" in done.stderr
    assert "PYTHON=" in done.stderr, "it says how to choose another"
    assert "Traceback" not in done.stderr
    assert not project.venv.exists() and not project.log.exists()


def test_a_runtime_install_then_nothing_until_the_requirements_change(project):
    first = project.bootstrap()
    assert first.returncode == 0, first.stderr
    assert "Creating the virtual environment" in first.stdout
    assert f"Installing {pinned('requirements.txt')} runtime packages" in first.stdout
    assert "Installed 1 package in" in first.stdout, "pip's output, summed up"
    calls = project.pip_calls()
    assert calls[0].startswith("pip install --quiet --upgrade pip")
    assert calls[1:] == ["pip install --progress-bar raw -r requirements.txt"], "the runtime set only"
    assert project.stamp("runtime") == project.hash("requirements.txt") and project.stamp("dev") is None

    again = project.bootstrap()
    assert (again.returncode, again.stdout, project.pip_calls()) == (0, "", [])

    with (project.root / "requirements.txt").open("a") as fh:
        fh.write("segno==1.6.6\n")
    changed = project.bootstrap()
    assert changed.returncode == 0 and "Creating" not in changed.stdout and "the requirements changed" in changed.stdout
    assert project.pip_calls() == ["pip install --progress-bar raw -r requirements.txt"]


def test_the_dev_set_comes_on_top_of_the_runtime_set_and_satisfies_it(project):
    assert project.bootstrap().returncode == 0
    project.pip_calls()
    dev = project.bootstrap("dev")
    assert dev.returncode == 0, dev.stderr
    assert f"Installing {pinned('requirements-dev.txt')} packages for the tests" in dev.stdout
    assert project.pip_calls() == ["pip install --progress-bar raw -r requirements-dev.txt"]
    assert project.stamp("dev") == project.hash("requirements.txt", "requirements-dev.txt")
    for args in ((), ("dev",)):
        done = project.bootstrap(*args)
        assert (done.returncode, done.stdout, project.pip_calls()) == (0, "", [])


def test_a_failed_install_is_not_trusted_by_the_next_run(project):
    failed = project.bootstrap("dev", FAKE_PIP_FAILS="1")
    assert failed.returncode != 0
    assert "ERROR: no such package" in failed.stdout + failed.stderr, "pip's own error is shown"
    assert "the next run tries again" in failed.stderr
    assert project.stamp("runtime") is None and project.stamp("dev") is None
    project.pip_calls()
    retried = project.bootstrap()
    assert retried.returncode == 0 and "Creating" not in retried.stdout
    assert project.pip_calls() == ["pip install --progress-bar raw -r requirements.txt"]


def test_a_venv_that_could_not_be_made_is_removed(project):
    done = project.bootstrap(FAKE_VENV_RC="1")
    assert done.returncode != 0 and "Could not create the virtual environment" in done.stderr
    assert not project.venv.exists()


def test_a_half_made_venv_is_made_anew(project):
    (project.venv / "bin").mkdir(parents=True)  # as an interrupted `python -m venv` leaves it
    shutil.copy(project.python, project.venv / "bin" / "python")
    done = project.bootstrap()
    assert done.returncode == 0, done.stderr
    assert "left half-made" in done.stdout and "Creating the virtual environment" in done.stdout
    assert (project.venv / ".created").exists() and project.stamp("runtime")


def test_a_venv_whose_python_no_longer_runs_is_made_anew(project):
    assert project.bootstrap("dev").returncode == 0
    project.pip_calls()
    python = project.venv / "bin" / "python"
    python.unlink()
    python.write_text("#!/bin/sh\necho 'error while loading shared libraries: libpython3.11.so.1.0' >&2\nexit 127\n")
    python.chmod(0o755)
    done = project.bootstrap()
    assert done.returncode == 0, done.stderr
    assert "no longer runs" in done.stdout
    assert project.pip_calls()[1:] == ["pip install --progress-bar raw -r requirements.txt"]


def test_a_second_install_waits_for_the_first(project):
    assert shutil.which("flock"), "util-linux's flock, as on Debian"
    holder = os.open(project.root, os.O_RDONLY)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)  # as a bootstrap.sh installing in another terminal holds it
        waiting = subprocess.Popen(
            ["bash", "scripts/bootstrap.sh"],
            cwd=project.root,
            env=project.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert waiting.stdout.readline().startswith("Another install is running in this project: waiting")
        assert waiting.poll() is None and not project.venv.exists()
    finally:
        os.close(holder)
    out, err = waiting.communicate(timeout=30)
    assert waiting.returncode == 0, err
    assert "Creating the virtual environment" in out and project.stamp("runtime")


def listening_socket(host: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket()
    sock.bind((host, 0))
    sock.listen()
    return sock


def port_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "port.py"), *args], capture_output=True, text=True, timeout=30
    )


def test_run_sh_stops_on_a_taken_port_with_what_to_do_before_installing_anything(project):
    with listening_socket() as taken:
        port = taken.getsockname()[1]
        done = project.run("./run.sh", PORT=str(port))
    assert done.returncode == 1
    assert f"Port {port} is already in use; set PORT=… to use another" in done.stderr
    assert "Traceback" not in done.stderr and "Serving on" not in done.stdout
    assert not project.venv.exists() and not project.log.exists()


def test_port_free_says_why_a_place_cannot_be_served():
    with listening_socket() as taken:
        port = taken.getsockname()[1]
        assert port_script("free", "127.0.0.1", str(port)).returncode == 1
    assert port_script("free", "127.0.0.1", str(port)).returncode == 0, "free once closed"
    for host, port, reason in [
        ("127.0.0.1", "http", "PORT must be a number from 1 to 65535"),
        ("127.0.0.1", "70000", "PORT must be a number from 1 to 65535"),
        ("no-such-host.invalid", "5000", "HOST=no-such-host.invalid is not a name or address this machine knows"),
    ]:
        done = port_script("free", host, port)
        assert done.returncode == 1 and reason in done.stderr and "Traceback" not in done.stderr


def test_port_wait_returns_once_listening_and_gives_up_when_the_server_is_gone():
    with listening_socket() as server:
        port = str(server.getsockname()[1])
        assert port_script("wait", "0.0.0.0", port, "--pid", str(os.getpid()), "--timeout", "10").returncode == 0
    ended = subprocess.Popen(["true"])
    ended.wait()
    assert port_script("wait", "127.0.0.1", port, "--pid", str(ended.pid), "--timeout", "10").returncode == 1


PIP_OUTPUT = """\
Looking in links: /opt/wheels
Collecting pyarrow==26.0.1 (from -r requirements.txt (line 40))
  Downloading pyarrow-26.0.1-cp311-cp311-manylinux_2_28_x86_64.whl (42.1 MB)
Progress 0 of 42100000
Progress 25260000 of 42100000
WARNING: the cache directory is not writable
Processing /srv/wheels/segno-1.6.6-py3-none-any.whl (from -r requirements.txt (line 44))
Requirement already satisfied: numpy==2.4.6 in ./.venv/lib/python3.11/site-packages (from -r requirements.txt)
Installing collected packages: segno, pyarrow
Successfully installed pyarrow-26.0.1 segno-1.6.6
"""


def test_pip_progress_sums_pip_up_and_keeps_what_is_not_progress():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "pip_progress.py"), "3"],
        input=PIP_OUTPUT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    lines = done.stdout.splitlines()
    assert lines[0] == "WARNING: the cache directory is not writable"
    assert lines[1] == "  Downloaded; installing…" and re.fullmatch(r"  Installed 2 packages in \d+ s\.", lines[2])
    assert len(lines) == 3


def test_pip_progress_on_a_terminal_is_one_line_rewritten():
    spec = importlib.util.spec_from_file_location("pip_progress", ROOT / "scripts" / "pip_progress.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = io.StringIO()
    progress = module.Progress(3, out, tty=True)
    for line in PIP_OUTPUT.splitlines(keepends=True):
        progress.feed(line)
    progress.close()
    shown = [part.removeprefix("\033[K") for part in out.getvalue().split("\r") if part.strip("\033[K")]
    assert "  [1/3] pyarrow 26.0.1 (42.1 MB) · 60 %" in shown
    assert "WARNING: the cache directory is not writable\n" in shown, "a whole line, not glued to the progress"
    assert "  [3/3] numpy 2.4.6 (already installed)" in shown and "  [3/3] installing 2 packages…" in shown
    assert re.fullmatch(r"  Installed 2 packages in \d+ s\.\n", shown[-1])
