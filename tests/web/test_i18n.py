"""Every user-visible message has a Vietnamese translation."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
METHODS = [("survey/**.py", "python"), ("survey/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(ROOT, method_map=METHODS, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_is_translated_to_vietnamese():
    with (ROOT / "survey/translations/vi/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(source_messages() - translated)
    assert source_messages(), "extraction found the messages"
    assert not missing, f"messages without a Vietnamese translation: {missing}"


def test_every_template_parses(app):
    """A template the extractor cannot parse would lose its messages silently."""
    templates = sorted((ROOT / "survey/templates").rglob("*.html"))
    assert templates
    for path in templates:
        app.jinja_env.parse(path.read_text(encoding="utf-8"))
