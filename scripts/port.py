"""Where ./run.sh serves: is HOST:PORT free before anything starts, and when does the server listen there.

    python scripts/port.py free HOST PORT
        exit 0 when a server could listen there, else 1 with the reason and what to do, on standard error
    python scripts/port.py wait HOST PORT --pid PID [--timeout SECONDS]
        exit 0 once something accepts connections there; 1 if process PID ends first or time runs out

The address is chosen as Flask's development server (Werkzeug) chooses it: IPv6 when HOST has a colon,
the first address HOST resolves to, SO_REUSEADDR set (a port left in TIME_WAIT by a stopped server is free).
Standard library only: it runs before the virtual environment exists.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
import time

WILDCARD_PROBE = {"0.0.0.0": "127.0.0.1", "::": "::1"}  # listening everywhere: ask this machine


class Refused(Exception):
    """HOST:PORT cannot be served; the message says why and what to set instead."""


def parse_port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise Refused(f"PORT must be a number from 1 to 65535, not {text!r}.")
    return int(text)


def address(host: str, port: int) -> tuple[socket.AddressFamily, tuple]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise Refused(
            f"HOST={host} is not a name or address this machine knows ({exc.strerror}); "
            "set HOST to an address of this machine, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every address)."
        ) from None
    return family, infos[0][4]


def can_bind(host: str, port: int) -> bool:
    """True when free; False when another program listens there; Refused for any other reason."""
    family, sockaddr = address(host, port)
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(sockaddr)
            sock.listen()
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            if exc.errno == errno.EADDRNOTAVAIL:
                raise Refused(
                    f"HOST={host} is not an address of this machine; set HOST to one, "
                    "e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every address)."
                ) from None
            if exc.errno == errno.EACCES:
                raise Refused(
                    f"Port {port} is reserved for the administrator (ports below 1024); "
                    "set PORT=… to 1024 or above, e.g. PORT=5000."
                ) from None
            raise Refused(f"Cannot serve on {host}:{port}: {exc.strerror}.") from None
    return True


def free(host: str, port: int) -> None:
    if can_bind(host, port):
        return
    other = next((p for p in range(port + 1, min(port + 20, 65535) + 1) if can_bind(host, p)), None)
    advice = f"; set PORT=… to use another, e.g. PORT={other} ./run.sh" if other else "; set PORT=… to use another"
    raise Refused(f"Port {port} is already in use{'' if host == '127.0.0.1' else f' on {host}'}{advice}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def wait(host: str, port: int, pid: int, timeout: float) -> bool:
    family, sockaddr = address(WILDCARD_PROBE.get(host, host), port)
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(1)
            try:
                sock.connect(sockaddr)
                return True
            except OSError:
                pass
        time.sleep(0.1)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["free", "wait"])
    parser.add_argument("host")
    parser.add_argument("port")
    parser.add_argument("--pid", type=int, help="wait: the server's process")
    parser.add_argument("--timeout", type=float, default=120.0, help="wait: give up after this long")
    args = parser.parse_args(argv)
    try:
        port = parse_port(args.port)
        if args.action == "free":
            free(args.host, port)
            return 0
        return 0 if wait(args.host, port, args.pid or os.getppid(), args.timeout) else 1
    except Refused as exc:
        print(exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
