"""Questionnaire definitions as data: load, validate and describe them.

A definition is a YAML file in this folder (see ``schema.py`` and README). Loading validates the
file against the schema and then checks what a schema cannot say (unique codes, scale references).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import jsonschema
import yaml

from questionnaires.schema import SCHEMA

DEFAULT_DIR = Path(__file__).resolve().parent
RESERVED_FIELDS = {"COMMENT", "SUBMISSION_KEY", "CSRF_TOKEN", "WEBSITE", "LANG"}
_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
# libyaml's loader when PyYAML was built with it: the same safe subset, read about six times faster at start-up.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class QuestionnaireError(ValueError):
    """A definition file that cannot be used; says which file, which item and why."""

    def __init__(self, path: Path | str, item: str, reason: str):
        self.path, self.item, self.reason = str(path), item, reason
        super().__init__(f"{self.path}: {item}: {reason}")


@dataclass(frozen=True)
class Text:
    vi: str
    en: str

    def get(self, locale: str | None) -> str:
        return self.en if locale == "en" else self.vi


@dataclass(frozen=True)
class Option:
    value: int
    label: Text


@dataclass(frozen=True)
class Scale:
    id: str
    options: tuple[Option, ...]
    satisfied: frozenset[int]

    @cached_property  # asked for every answer stored, counted or checked
    def values(self) -> tuple[int, ...]:
        return tuple(o.value for o in self.options)


@dataclass(frozen=True)
class Item:
    """One question answered on a scale: a criterion, a priority or a background question."""

    code: str
    text: Text
    kind: str  # "criterion", "priority" or "background"
    scale: Scale
    element: str | None = None


@dataclass(frozen=True)
class Element:
    code: str
    title: Text
    criteria: tuple[Item, ...]
    note: Text | None = None


@dataclass(frozen=True)
class Definition:
    id: str
    version: int
    title: Text
    elements: tuple[Element, ...]
    priorities: tuple[Item, ...]
    priorities_title: Text | None
    background: tuple[Item, ...]
    comment: Text | None
    comment_max_length: int
    index: dict
    fingerprint: str
    intro: Text | None = None
    source: str = ""
    scales: dict[str, Scale] = field(default_factory=dict)

    @cached_property
    def criteria(self) -> tuple[Item, ...]:
        return tuple(c for e in self.elements for c in e.criteria)

    @cached_property
    def items(self) -> tuple[Item, ...]:
        return self.criteria + self.priorities + self.background

    @cached_property
    def items_by_code(self) -> dict[str, Item]:
        return {i.code: i for i in self.items}

    def item(self, code: str) -> Item | None:
        return self.items_by_code.get(code)

    @cached_property
    def answer_values(self) -> frozenset[tuple[str, int]]:
        """Every (item code, value) an answer to this version can be: each item on its own scale."""
        return frozenset((item.code, value) for item in self.items for value in item.scale.values)

    @property
    def min_n(self) -> int:
        return int(self.index.get("min_n", 30))

    @property
    def key(self) -> tuple[str, int]:
        return (self.id, self.version)


def fingerprint(raw: dict) -> str:
    """Hash the canonical JSON form of a definition, so that any edit changes it."""
    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _text(raw: dict | None) -> Text | None:
    return Text(raw["vi"], raw["en"]) if raw else None


def _options(raw: list) -> tuple[Option, ...]:
    return tuple(Option(o["value"], _text(o["label"])) for o in raw)


def _schema_error(path: Path, raw: dict, error: jsonschema.ValidationError) -> QuestionnaireError:
    location = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    node = raw
    code = None
    for part in error.absolute_path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and isinstance(node.get("code"), str):
            code = node["code"]
    item = (location.lstrip(".") or "(file)") + (f" ({code})" if code else "")
    return QuestionnaireError(path, item, error.message)


def parse_definition(raw: object, path: Path | str = "<definition>") -> Definition:
    """Validate a decoded definition and build its typed form."""
    path = Path(path)
    if not isinstance(raw, dict):
        raise QuestionnaireError(path, "(file)", "the file must hold a mapping of keys to values")
    errors = sorted(_VALIDATOR.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise _schema_error(path, raw, errors[0])
    scales = {}
    for s in raw["scales"]:
        options = _options(s["values"])
        values = [o.value for o in options]
        if s["id"] in scales:
            raise QuestionnaireError(path, f"scale {s['id']}", "scale id used twice")
        if len(set(values)) != len(values):
            raise QuestionnaireError(path, f"scale {s['id']}", "a value is listed twice")
        if not set(s["satisfied"]) <= set(values):
            raise QuestionnaireError(path, f"scale {s['id']}", "satisfied values must be scale values")
        scales[s["id"]] = Scale(s["id"], options, frozenset(s["satisfied"]))

    def scale(name: str, where: str) -> Scale:
        if name not in scales:
            raise QuestionnaireError(path, where, f"unknown scale '{name}'")
        return scales[name]

    elements = []
    for e in raw["elements"]:
        sc = scale(e["scale"], f"element {e['code']}")
        crits = tuple(Item(c["code"], _text(c["text"]), "criterion", sc, e["code"]) for c in e["criteria"])
        elements.append(Element(e["code"], _text(e["title"]), crits, _text(e.get("note"))))
    prio = raw.get("priorities")
    priorities = ()
    if prio:
        sc = scale(prio["scale"], "priorities")
        priorities = tuple(Item(i["code"], _text(i["text"]), "priority", sc) for i in prio["items"])
    background = tuple(
        Item(b["code"], _text(b["text"]), "background", Scale(b["code"].lower(), _options(b["options"]), frozenset()))
        for b in raw.get("background", [])
    )
    codes = [e["code"] for e in raw["elements"]] + [i.code for i in elements_items(elements, priorities, background)]
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise QuestionnaireError(path, code, "code used twice in this questionnaire")
        if code in RESERVED_FIELDS:
            raise QuestionnaireError(path, code, "code is reserved for a form field")
        seen.add(code)
    comment = raw.get("comment")
    return Definition(
        id=raw["id"],
        version=raw["version"],
        title=_text(raw["title"]),
        intro=_text(raw.get("intro")),
        elements=tuple(elements),
        priorities=priorities,
        priorities_title=_text(prio["title"]) if prio else None,
        background=background,
        comment=_text(comment["text"]) if comment else None,
        comment_max_length=comment["max_length"] if comment else 0,
        index=dict(raw["index"]),
        fingerprint=fingerprint(raw),
        source=str(path),
        scales=scales,
    )


def elements_items(elements, priorities, background) -> list[Item]:
    """Every item of a definition in form order."""
    return [c for e in elements for c in e.criteria] + list(priorities) + list(background)


def load_definition(path: Path | str) -> Definition:
    """Read and validate one YAML definition file."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        raise QuestionnaireError(path, "(file)", f"not valid YAML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionnaireError(path, "(file)", f"cannot be read: {exc}") from exc
    return parse_definition(raw, path)


class Catalog:
    """Every questionnaire version found in a folder, keyed by (id, version)."""

    def __init__(self, definitions: list[Definition]):
        self._by_key: dict[tuple[str, int], Definition] = {}
        for d in definitions:
            if d.key in self._by_key:
                other = self._by_key[d.key].source
                raise QuestionnaireError(d.source, "(file)", f"{d.id} version {d.version} is also defined in {other}")
            self._by_key[d.key] = d

    def __iter__(self):
        return iter(sorted(self._by_key.values(), key=lambda d: d.key))

    def __len__(self) -> int:
        return len(self._by_key)

    def get(self, qid: str, version: int | None = None) -> Definition | None:
        """Return the given version, or the latest one when version is None."""
        if version is not None:
            return self._by_key.get((qid, version))
        versions = [d for d in self._by_key.values() if d.id == qid]
        return max(versions, key=lambda d: d.version) if versions else None

    def ids(self) -> list[str]:
        return sorted({d.id for d in self._by_key.values()})


class CatalogError(ValueError):
    """One or more definition files of a folder are invalid; lists every problem."""

    def __init__(self, errors: list[QuestionnaireError]):
        self.errors = errors
        super().__init__(f"{len(errors)} invalid questionnaire file(s):\n" + "\n".join(f"  {e}" for e in errors))


def load_catalog(directory: Path | str = DEFAULT_DIR) -> Catalog:
    """Load every ``*.yaml`` definition in a folder; any invalid file raises CatalogError listing all."""
    good, bad = check_directory(directory)
    if bad:
        raise CatalogError(bad)
    return Catalog(good)


def check_directory(directory: Path | str = DEFAULT_DIR) -> tuple[list[Definition], list[QuestionnaireError]]:
    """Validate every file in a folder, collecting all errors instead of stopping at the first."""
    good, bad = [], []
    for p in sorted(Path(directory).glob("*.yaml")):
        try:
            good.append(load_definition(p))
        except QuestionnaireError as exc:
            bad.append(exc)
    return good, bad
