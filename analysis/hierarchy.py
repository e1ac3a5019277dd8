"""The agency hierarchy: an agency's figures include every agency below it; ``ALL`` is every response."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.codes import ALL


def _parents(agencies: pd.DataFrame) -> dict[str, str | None]:
    """Map each agency code to its parent code (None for roots); unknown parents are an error."""
    parents = {}
    for code, parent in zip(agencies["code"], agencies["parent_code"], strict=True):
        parents[str(code)] = None if pd.isna(parent) or parent == "" else str(parent)
    for code, parent in parents.items():
        if parent is not None and parent not in parents:
            raise ValueError(f"agency {code}: parent {parent} is not in the list of agencies")
    return parents


def _chain(code: str, parents: dict[str, str | None]) -> list[str]:
    """Return an agency and its ancestors, nearest first; a cycle raises ValueError."""
    chain = [code]
    while (parent := parents.get(chain[-1])) is not None:
        if parent in chain:
            raise ValueError(f"the agency hierarchy has a cycle: {' → '.join([*chain, parent])}")
        chain.append(parent)
    return chain


def ancestors(agencies: pd.DataFrame) -> pd.DataFrame:
    """Pair each agency with itself and every agency above it: columns agency_code, ancestor_code."""
    parents = _parents(agencies)
    rows = [(code, above) for code in sorted(parents) for above in _chain(code, parents)]
    return pd.DataFrame(rows, columns=["agency_code", "ancestor_code"], dtype=object)


def hierarchy_order(agencies: pd.DataFrame, root: str | None = None) -> list[str]:
    """List agency codes parent before children, siblings by code; only ``root``'s subtree if given."""
    parents = _parents(agencies)
    for code in parents:
        _chain(code, parents)  # raises on a cycle, which would otherwise leave agencies out silently
    children: dict[str | None, list[str]] = {}
    for code, parent in parents.items():
        children.setdefault(parent, []).append(code)
    if root is not None and root not in parents:
        raise ValueError(f"unknown agency {root!r}")
    order, stack = [], [root] if root is not None else sorted(children.get(None, []), reverse=True)
    while stack:
        code = stack.pop()
        order.append(code)
        stack.extend(sorted(children.get(code, []), reverse=True))
    return order


def _targets(agencies: pd.DataFrame, codes) -> list[list[str]]:
    """For each agency code, the blocks its rows count in: itself, its ancestors and ALL."""
    parents = _parents(agencies)
    above = {code: _chain(code, parents) for code in parents}  # every chain: a cycle anywhere is an error
    return [[*above.get(code, [code]), ALL] for code in codes]


def roll_up(frame: pd.DataFrame, agencies: pd.DataFrame, value_columns: list[str]) -> pd.DataFrame:
    """Re-key every row to each ancestor of its agency (itself included) and to ALL, summing values.

    Agencies missing from ``agencies`` count only for themselves and ALL. Rows come out sorted by keys.
    """
    keys = [c for c in frame.columns if c not in value_columns]
    # Work on integer codes, each key's codes in the order of its values, so that one integer made of
    # them (ravelled) sorts as the keys do: one single-key groupby instead of grouping and sorting text.
    agency, names = pd.factorize(frame["agency_code"].astype(object), use_na_sentinel=False)
    chains = _targets(agencies, names)
    block_ids, blocks = pd.factorize(pd.Series([b for chain in chains for b in chain], dtype=object), sort=True)
    lengths = np.array([len(chain) for chain in chains], dtype="int64")
    repeat = lengths[agency]
    rows = np.repeat(np.arange(len(frame)), repeat)
    step = np.arange(len(rows)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    first = np.cumsum(lengths) - lengths
    factors = {}
    for c in keys:
        if c == "agency_code":
            factors[c] = (block_ids[np.repeat(first[agency], repeat) + step], blocks)
        else:
            codes, uniques = pd.factorize(frame[c], sort=True, use_na_sentinel=False)
            factors[c] = (codes[rows], uniques)
    dims = [max(len(uniques), 1) for _, uniques in factors.values()]
    if math.prod(dims) >= 2**62:
        raise ValueError("roll_up: too many distinct keys to combine into one integer")
    combined = np.ravel_multi_index([codes for codes, _ in factors.values()], dims)
    values = pd.DataFrame({v: frame[v].to_numpy()[rows] for v in value_columns})
    summed = values.groupby(combined, sort=True).sum()
    parts = np.unravel_index(summed.index.to_numpy(dtype="int64"), dims)
    decoded = {c: pd.Series(uniques.take(part)) for (c, (_, uniques)), part in zip(factors.items(), parts, strict=True)}
    out = pd.DataFrame({**decoded, **{v: summed[v].to_numpy() for v in value_columns}})[list(frame.columns)]
    dtypes = {c: frame[c].dtype for c in keys if c != "agency_code"}
    return out.astype({**dtypes, "agency_code": object})
