"""Which versions of one questionnaire may be counted together: those with an identical structure."""

from __future__ import annotations

import hashlib
import json

import pandas as pd

from questionnaires import Catalog, Definition, Scale


def _scale(scale: Scale) -> dict:
    return {"values": list(scale.values), "satisfied": sorted(scale.satisfied)}


def structure_key(definition: Definition) -> str:
    """Hash what the indices depend on: elements, their criteria, priorities, scale values, satisfied sets."""
    structure = {
        "elements": [
            {"code": e.code, "criteria": [{"code": c.code, "scale": _scale(c.scale)} for c in e.criteria]}
            for e in definition.elements
        ],
        "priorities": [{"code": p.code, "scale": _scale(p.scale)} for p in definition.priorities],
    }
    canonical = json.dumps(structure, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def pool_versions(catalog: Catalog, questionnaire: str, versions) -> list[list[int]]:
    """Group the given versions of a questionnaire into pools of identical structure, by first version."""
    pools: dict[str, list[int]] = {}
    for version in sorted({int(v) for v in versions}):
        definition = catalog.get(questionnaire, version)
        if definition is None:
            raise ValueError(f"questionnaire {questionnaire!r} version {version} is not defined")
        pools.setdefault(structure_key(definition), []).append(version)
    return list(pools.values())


def pool_label(pool: list[int]) -> str:
    """Name a pool of versions as the report shows it: '1' or '1+2'."""
    return "+".join(str(v) for v in sorted(pool))


def pool_table(catalog: Catalog, present: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Map each (questionnaire, version) present to its pool label and rank; the latest definition per pool."""
    present = present[["questionnaire", "version"]].drop_duplicates()
    rows, definitions = [], {}
    for qid in sorted(present["questionnaire"].unique()):
        versions = present.loc[present["questionnaire"] == qid, "version"]
        for rank, pool in enumerate(pool_versions(catalog, qid, versions)):
            definitions[(qid, pool_label(pool))] = catalog.get(qid, max(pool))
            rows += [(qid, v, pool_label(pool), rank) for v in pool]
    pools = pd.DataFrame(rows, columns=["questionnaire", "version", "pool", "pool_order"])
    return pools.astype(
        {"questionnaire": object, "version": "int64", "pool": object, "pool_order": "int64"}
    ), definitions


def pool_items(definitions: dict) -> pd.DataFrame:
    """List every scale value of every criterion and priority of each pool, with label and order."""
    rows = []
    for (qid, label), d in definitions.items():
        for level, items in (("criterion", d.criteria), ("priority", d.priorities)):
            for order, item in enumerate(items):
                rows += [
                    (qid, label, level, item.code, item.element, order, item.text.vi, v, v in item.scale.satisfied)
                    for v in item.scale.values
                ]
    columns = ["questionnaire", "version", "level", "code", "element", "order", "label", "value", "satisfied"]
    return pd.DataFrame(rows, columns=columns).astype({"value": "int64", "satisfied": bool})
