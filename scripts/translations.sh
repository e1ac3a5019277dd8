#!/usr/bin/env bash
# Refresh the message catalogue after changing user-visible strings, then list what needs translating.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pybabel extract -F babel.cfg -k _l -o survey/translations/messages.pot --no-location --sort-output . >/dev/null
.venv/bin/pybabel update -i survey/translations/messages.pot -d survey/translations --no-fuzzy-matching >/dev/null
.venv/bin/python - <<'PY'
from babel.messages.pofile import read_po
with open("survey/translations/vi/LC_MESSAGES/messages.po", "rb") as fh:
    missing = [m.id for m in read_po(fh) if m.id and not m.string]
print("\n".join(f"untranslated: {m!r}" for m in missing) or "every message has a Vietnamese translation")
PY
