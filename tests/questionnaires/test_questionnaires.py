"""Questionnaire definitions: the shipped files, and clear errors for broken ones."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from questionnaires import DEFAULT_DIR, QuestionnaireError, fingerprint, load_catalog, load_definition, parse_definition

SIPAS = yaml.safe_load((DEFAULT_DIR / "sipas.yaml").read_text(encoding="utf-8"))


def test_shipped_questionnaires():
    catalog = load_catalog()
    assert catalog.ids() == ["quay-nhanh", "sipas", "tt01"]
    sipas = catalog.get("sipas")
    assert sipas.version == 1
    assert [e.code for e in sipas.elements] == ["TC", "TT", "CC", "KQ", "PA"]
    assert [c.code for c in sipas.criteria] == [
        "TC1",
        "TC2",
        "TC3",
        "TC4",
        "TT1",
        "TT2",
        "TT3",
        "TT4",
        "CC1",
        "CC2",
        "CC3",
        "CC4",
        "CC5",
        "KQ1",
        "KQ2",
        "KQ3",
        "PA1",
        "PA2",
        "PA3",
    ]
    assert sipas.item("CC1").text.vi == "Công chức có thái độ giao tiếp lịch sự, tôn trọng đối với người dân."
    assert sipas.item("TC1").scale.satisfied == {4, 5}
    assert [o.label.vi for o in sipas.item("TC1").scale.options] == [
        "Rất không hài lòng",
        "Không hài lòng",
        "Bình thường",
        "Hài lòng",
        "Rất hài lòng",
    ]
    assert [p.code for p in sipas.priorities] == [f"UT{i}" for i in range(1, 10)]
    assert sipas.item("UT1").scale.satisfied == {2, 3}
    assert len(sipas.background) == 5 and sipas.comment_max_length == 1000
    assert len(catalog.get("quay-nhanh").criteria) == 5
    tt01 = catalog.get("tt01")
    assert [c.code for c in tt01.criteria] == [f"DG{i}" for i in range(1, 10)]
    assert tt01.item("DG1").scale.values == (0, 1, 2) and tt01.item("DG1").scale.satisfied == {1, 2}


def test_fingerprint_changes_with_any_edit():
    edited = copy.deepcopy(SIPAS)
    edited["elements"][0]["criteria"][0]["text"]["en"] += "!"
    assert fingerprint(SIPAS) == fingerprint(copy.deepcopy(SIPAS)) != fingerprint(edited)


def broken(mutate) -> QuestionnaireError:
    raw = copy.deepcopy(SIPAS)
    mutate(raw)
    with pytest.raises(QuestionnaireError) as info:
        parse_definition(raw, "questionnaires/broken.yaml")
    return info.value


@pytest.mark.parametrize(
    ("mutate", "item", "reason"),
    [
        (
            lambda r: r["elements"][1]["criteria"][2]["text"].pop("en"),
            "elements[1].criteria[2].text (TT3)",
            "'en' is a required property",
        ),
        (lambda r: r["elements"][0]["criteria"][1].update(code="TC1"), "TC1", "code used twice"),
        (lambda r: r["elements"][0].update(scale="stars"), "element TC", "unknown scale 'stars'"),
        (lambda r: r["scales"][0].update(satisfied=[6]), "scale satisfaction", "satisfied values must be scale values"),
        (lambda r: r.update(version=0), "version", "less than the minimum of 1"),
        (lambda r: r.pop("index"), "(file)", "'index' is a required property"),
        (
            lambda r: r["elements"][0]["criteria"][0].update(code="tc1"),
            "elements[0].criteria[0].code (tc1)",
            "does not match",
        ),
        (lambda r: r["elements"][0]["criteria"][0].update(code="COMMENT"), "COMMENT", "reserved"),
        (lambda r: r.update(colour="red"), "(file)", "Additional properties are not allowed"),
    ],
)
def test_invalid_definition_names_file_item_and_reason(mutate, item, reason):
    error = broken(mutate)
    assert error.path == "questionnaires/broken.yaml"
    assert error.item == item
    assert reason in error.reason
    assert str(error).startswith("questionnaires/broken.yaml: ")


def test_unreadable_yaml_is_reported(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="bad.yaml: \\(file\\): not valid YAML"):
        load_definition(bad)


def test_two_files_with_one_version_are_refused(tmp_path: Path):
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(yaml.safe_dump(SIPAS, allow_unicode=True), encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="sipas version 1 is also defined in"):
        load_catalog(tmp_path)


def test_catalog_gives_latest_version_by_default(tmp_path: Path):
    v2 = copy.deepcopy(SIPAS)
    v2["version"] = 2
    (tmp_path / "sipas.yaml").write_text(yaml.safe_dump(SIPAS, allow_unicode=True), encoding="utf-8")
    (tmp_path / "sipas-v2.yaml").write_text(yaml.safe_dump(v2, allow_unicode=True), encoding="utf-8")
    catalog = load_catalog(tmp_path)
    assert catalog.get("sipas").version == 2 and catalog.get("sipas", 1).version == 1
    assert catalog.get("sipas", 3) is None and catalog.get("nothing") is None


def test_catalog_lists_every_invalid_file(tmp_path: Path):
    from questionnaires import CatalogError

    (tmp_path / "a.yaml").write_text("id: a\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("- not a mapping\n", encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    assert [e.path.rsplit("/", 1)[-1] for e in info.value.errors] == ["a.yaml", "b.yaml"]
    assert "2 invalid questionnaire file(s)" in str(info.value) and "mapping of keys to values" in str(info.value)
