"""Turn pip's output into a few readable lines (used by scripts/bootstrap.sh).

    pip install --progress-bar raw -r requirements.txt 2>&1 | python scripts/pip_progress.py TOTAL

On a terminal, one line keeps being rewritten: "[12/54] numpy 2.4.6 (16.9 MB) · 40 %", then "installing";
elsewhere (CI logs) only the summary. Every line this does not recognise as progress (warnings, errors,
the resolver's explanations) is printed whole, so nothing pip has to say is lost.
"""

from __future__ import annotations

import re
import sys
import time

PACKAGE = (  # a package pip is looking at: counted
    re.compile(r"^Collecting (?P<name>[^ ]+)"),
    re.compile(r"^Processing (?:\S*/)?(?P<name>[^/ ]+?)(?:\.whl|\.tar\.gz|\.zip)?(?: \(from .*\))?$"),
    re.compile(r"^Requirement already satisfied: (?P<name>[^ ]+)"),
)
STEP = (  # what pip is doing with the current package: shown, not counted
    re.compile(r"^ +Downloading (?P<name>\S+?)(?:\.whl|\.tar\.gz|\.zip)? \((?P<size>[^)]+)\)$"),
    re.compile(r"^ +Building wheel for (?P<name>\S+)"),
)
NOISE = re.compile(
    r"^(?:$|Looking in |Using cached |Downloading \S+\.metadata|  Downloading \S+\.metadata|"
    r"  (?:Preparing metadata|Getting requirements|Installing build dependencies|Created wheel|Stored in)|"
    r"Building wheels? for|Successfully built|Attempting uninstall|  Found existing installation|"
    r"    Uninstalling|      Successfully uninstalled)"
)
DOWNLOADED = re.compile(r"^Progress (?P<done>\d+) of (?P<size>\d+)$")  # --progress-bar raw
INSTALLING = re.compile(r"^Installing collected packages: (?P<names>.*)$")
INSTALLED = re.compile(r"^Successfully installed (?P<names>.*)$")


def short(name: str) -> str:
    """numpy==2.4.6, numpy-2.4.6-cp311-cp311-manylinux_2_28_x86_64 -> numpy 2.4.6"""
    name = name.split("(")[0].strip()
    if "==" in name:
        return name.replace("==", " ")
    parts = name.split("-")
    return " ".join(parts[:2]) if len(parts) >= 2 else name


class Progress:
    def __init__(self, total: int, out, tty: bool):
        self.total, self.out, self.tty = total, out, tty
        self.seen = 0
        self.satisfied = 0
        self.failed = False
        self.showing = False
        self.current = ""
        self.started = time.monotonic()
        self.installed = None

    def show(self, text: str) -> None:
        self.current = text
        if self.tty:
            self.out.write(f"\r\033[K  [{min(self.seen, self.total)}/{self.total}] {text}")
            self.out.flush()
            self.showing = True

    def say(self, text: str) -> None:
        """A whole line, below the progress line if one is shown."""
        if self.showing:
            self.out.write("\r\033[K")
            self.showing = False
        self.out.write(text if text.endswith("\n") else text + "\n")
        self.out.flush()

    def feed(self, line: str) -> None:
        bare = line.rstrip("\n")
        for pattern in PACKAGE:
            if match := pattern.match(bare):
                self.seen += 1
                satisfied = pattern is PACKAGE[2]
                self.satisfied += satisfied
                self.show(short(match["name"]) + (" (already installed)" if satisfied else ""))
                return
        for pattern in STEP:
            if match := pattern.match(bare):
                size = match.groupdict().get("size")
                self.show(short(match["name"]) + (f" ({size})" if size else ""))
                return
        if match := DOWNLOADED.match(bare):
            if self.tty and int(match["size"]):
                self.show(f"{self.current.split(' · ')[0]} · {100 * int(match['done']) // int(match['size'])} %")
            return
        if match := INSTALLING.match(bare):
            count = len(match["names"].split(", "))
            if self.tty:
                self.show(f"installing {count} package{'s' if count != 1 else ''}…")
            else:
                self.say("  Downloaded; installing…")
            return
        if match := INSTALLED.match(bare):
            self.installed = len(match["names"].split())
            return
        if NOISE.match(bare):
            return
        self.failed = self.failed or bare.startswith("ERROR")
        self.say(bare)

    def close(self) -> None:
        seconds = time.monotonic() - self.started
        if self.installed is not None:
            self.say(f"  Installed {self.installed} package{'s' if self.installed != 1 else ''} in {seconds:.0f} s.")
        elif self.seen and self.satisfied == self.seen and not self.failed:
            self.say("  All of them were installed already.")
        elif self.showing:
            self.say("")


def main() -> None:
    progress = Progress(int(sys.argv[1]), sys.stdout, sys.stdout.isatty())
    for line in sys.stdin:
        try:
            progress.feed(line)
        except Exception:  # never lose what pip said
            sys.stdout.write(line)
    progress.close()


if __name__ == "__main__":
    main()
