"""The monthly table: per criterion, element, overall and priority, per agency block and service.

Everything follows each questionnaire's own definition: its scales' satisfied sets, its elements and
criteria, its priorities, ``index.min_n`` and ``index.confidence``. Criterion and priority intervals
are Wilson intervals; element and overall intervals use the effective sample size (``analysis.stats``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.codes import NO_SERVICE
from analysis.counting import SCORE_COLUMNS
from analysis.hierarchy import ALL, hierarchy_order, roll_up
from analysis.periods import parse_month, previous_month
from analysis.pooling import pool_items, pool_table
from analysis.scores import OVERALL
from analysis.stats import effective_n, standard_error, wilson_interval, z_value
from analysis.targets import status_column, target_status, targets_in_force
from questionnaires import Catalog

CSV_COLUMNS = [
    "period",
    "questionnaire",
    "version",
    "agency_code",
    "agency_name",
    "service_code",
    "level",
    "code",
    "label",
    "n",
    "n_satisfied",
    "pct_satisfied",
    "ci_low",
    "ci_high",
]
EXTRA_COLUMNS = ["change", "response_rate"]
LEVELS = ("overall", "element", "criterion", "priority")
OVERALL_LABEL = "Chỉ số hài lòng chung (khảo sát tại quầy)"
ALL_AGENCIES_NAME = "Tất cả cơ quan"
BLOCK = ["questionnaire", "version", "agency_code", "service_code"]
ROW_KEY = [*BLOCK, "level", "code"]
KEY = ["period", *BLOCK]  # a block of one month: the tables of several months are computed together


def csv_columns(table: pd.DataFrame) -> list[str]:
    """Return the columns a CSV export holds: CSV_COLUMNS, then the table's status columns."""
    return CSV_COLUMNS + [c for c in table.columns if c.startswith("status_")]


def _pooled(frame: pd.DataFrame, pools: pd.DataFrame) -> pd.DataFrame:
    """Relabel each row's version as the label of its month's pool ('1', '1+2')."""
    pooled = frame.merge(
        pools[["period", "questionnaire", "version", "pool"]], on=["period", "questionnaire", "version"]
    )
    return pooled.drop(columns="version").rename(columns={"pool": "version"})


def _by_service(frame: pd.DataFrame, by_service: bool) -> pd.DataFrame:
    """Key rows to service ALL, and also to their own service (NONE when blank) when by_service."""
    parts = [frame.assign(service_code=ALL)]
    if by_service:
        service = frame["service_code"].astype(object).where(frame["service_code"].notna(), "")
        parts.append(frame.assign(service_code=service.replace("", NO_SERVICE)))
    return pd.concat(parts, ignore_index=True)


def _aggregate(frame: pd.DataFrame, keys: list[str], dropna: bool = True, **aggs) -> pd.DataFrame:
    """As ``frame.groupby(keys, sort=False, dropna=dropna).agg(**aggs).reset_index()``, on one integer key.

    Grouping tens of thousands of rows on up to ten text keys cost more in pandas' machinery than in the
    sums; here each key is factorised once and the codes folded into one group number per row.
    """
    if frame.empty:
        return frame.groupby(keys, sort=False, dropna=dropna).agg(**aggs).reset_index()
    if dropna:
        frame = frame[frame[keys].notna().all(axis=1).to_numpy()]
    group = np.zeros(len(frame), dtype="int64")
    for key in keys:
        codes, uniques = pd.factorize(frame[key], use_na_sentinel=False)
        group, _ = pd.factorize(group * len(uniques) + codes)  # numbered in order of first appearance
    first = np.unique(group, return_index=True)[1]
    out = frame[keys].iloc[first].reset_index(drop=True)
    for name, (column, how) in aggs.items():
        out[name] = pd.Series(frame[column].to_numpy()).groupby(group, sort=True).agg(how).to_numpy()
    return out


def _item_rows(counts: pd.DataFrame, items: pd.DataFrame, z: dict) -> pd.DataFrame:
    """Criterion and priority rows: valid answers n, satisfied answers, share and Wilson interval."""
    rows = counts.merge(items, on=["questionnaire", "version", "code", "value"])
    rows = rows.assign(sat=rows["count"].where(rows["satisfied"], 0))
    keys = [*KEY, "level", "code", "element", "order", "label"]
    rows = _aggregate(rows, keys, dropna=False, n=("count", "sum"), n_satisfied=("sat", "sum"))
    rows = rows.assign(p=rows["n_satisfied"] / rows["n"])
    low, high = wilson_interval(rows["n_satisfied"], rows["n"], _per_pool(rows, z))
    return rows.assign(low=low, high=high)


def _scope_rows(parts: pd.DataFrame, scores: pd.DataFrame, z: dict) -> pd.DataFrame:
    """Element or overall rows (parts carry p, n, cap, scope): mean share, interval at n_eff."""
    rows = _aggregate(parts, [*KEY, "scope"], p=("p", "mean"), cap=("cap", "sum"), fallback=("n", "max"))
    rows = rows.merge(scores, on=[*KEY, "scope"], how="left")
    n = rows["n"].fillna(rows["fallback"]).astype("int64")  # a scope missing from scores: its largest part
    se = standard_error(n, rows["sum_y"], rows["sum_y2"])
    n_eff = effective_n(rows["p"], se, n, rows["cap"])
    low, high = wilson_interval(rows["p"] * n_eff, n_eff, _per_pool(rows, z))
    return rows.assign(n=n, n_satisfied=pd.NA, low=low, high=high).drop(columns=["fallback", "sum_y", "sum_y2"])


def _per_pool(rows: pd.DataFrame, mapping: dict) -> np.ndarray:
    """Look up a per-pool setting (z, min_n, rank) for every row."""
    out = np.full(len(rows), np.nan)
    questionnaire, version = rows["questionnaire"].to_numpy(dtype=object), rows["version"].to_numpy(dtype=object)
    for (qid, label), value in mapping.items():
        out[(questionnaire == qid) & (version == label)] = value
    return out


def _labelled(elements: pd.DataFrame, overall: pd.DataFrame, definitions: dict) -> list[pd.DataFrame]:
    """Give element and overall rows their level, code, label and definition order."""
    titles = {(q, v, e.code): (e.title.vi, i) for (q, v), d in definitions.items() for i, e in enumerate(d.elements)}
    keys = list(zip(*(elements[c].to_numpy(object) for c in ("questionnaire", "version", "scope")), strict=True))
    elements = elements.assign(
        level="element", code=elements["scope"], label=[titles[k][0] for k in keys], order=[titles[k][1] for k in keys]
    )
    return [elements, overall.assign(level="overall", code=OVERALL, label=OVERALL_LABEL, order=0)]


def _status(table: pd.DataFrame, in_force: dict[str, pd.DataFrame], min_n: np.ndarray) -> pd.DataFrame:
    """Add one status column per target in force in any month; blank on priority rows and other months."""
    columns: dict[str, np.ndarray] = {}
    scored = (table["level"] != "priority").to_numpy()
    for month, targets in in_force.items():
        rows = scored & (table["period"] == month).to_numpy()
        for code, value in zip(targets["code"], targets["value"], strict=True):
            status = target_status(table["n"], 100 * table["low"], 100 * table["high"], float(value), min_n)
            column = columns.setdefault(status_column(code), np.full(len(table), None, dtype=object))
            column[rows] = np.asarray(status, dtype=object)[rows]
    return table.assign(**{name: pd.Series(c, index=table.index, dtype=object) for name, c in columns.items()})


def _order(table: pd.DataFrame, block_rank: dict, pools: pd.DataFrame) -> pd.DataFrame:
    """Sort rows: questionnaire, pool, agency block, service, level, then definition order or rank."""
    keys = zip(pools["period"], pools["questionnaire"], pools["pool"], strict=True)
    pool_rank = dict(zip(keys, pools["pool_order"], strict=True))
    services = sorted(set(table["service_code"]) - {ALL, NO_SERVICE})
    service_rank = {code: i for i, code in enumerate([ALL, *services, NO_SERVICE])}
    is_priority = table["level"] == "priority"
    rank = table.loc[is_priority].sort_values(["p", "order"], ascending=[False, True], kind="stable")
    within = table["order"].astype("float64").copy()
    within.loc[rank.index] = rank.groupby(KEY, sort=False).cumcount().astype("float64")
    sort = [
        pd.factorize(table["period"], sort=True)[0],
        pd.factorize(table["questionnaire"], sort=True)[0],
        [pool_rank[k] for k in zip(table["period"], table["questionnaire"], table["version"], strict=True)],
        table["agency_code"].map(block_rank).to_numpy(dtype="float64"),
        table["service_code"].map(service_rank).to_numpy(dtype="float64"),
        table["level"].map({lv: i for i, lv in enumerate(LEVELS)}).to_numpy(dtype="float64"),
        within.to_numpy(),
    ]
    return table.take(np.lexsort(sort[::-1])).reset_index(drop=True)  # stable, the first key first


def _block_rank(agencies: pd.DataFrame, agency: str | None, present: set[str]) -> dict:
    """Rank the agency blocks to show: ALL, then the hierarchy; or the named agency and its subtree."""
    if agency is not None:
        order = hierarchy_order(agencies, agency)
    else:
        known = hierarchy_order(agencies)
        order = [ALL, *known, *sorted(present - set(known) - {ALL})]
    return {code: i for i, code in enumerate(order)}


def empty_table(status_columns: list[str] = ()) -> pd.DataFrame:
    """Return a table with no rows and the right columns and dtypes."""
    table = pd.DataFrame({c: pd.Series(dtype=object) for c in [*CSV_COLUMNS, *status_columns, *EXTRA_COLUMNS]})
    return _dtypes(table)


def _dtypes(table: pd.DataFrame) -> pd.DataFrame:
    floats = ["pct_satisfied", "ci_low", "ci_high", *EXTRA_COLUMNS]
    strings = [c for c in table.columns if c not in (*floats, "n", "n_satisfied")]
    return table.astype(
        {**dict.fromkeys(strings, object), **dict.fromkeys(floats, "float64"), "n": "int64", "n_satisfied": "Int64"}
    )


def _agency_frame(agencies: pd.DataFrame | None, counts: pd.DataFrame) -> pd.DataFrame:
    """Use the given agencies, or a flat list of the agencies in the data (name = code)."""
    if agencies is not None:
        return agencies
    codes = sorted(set(counts["agency_code"].astype(str)))
    return pd.DataFrame({"code": codes, "name": codes, "parent_code": [None] * len(codes)})


def _in_months(frame: pd.DataFrame | None, months: list[str], questionnaire: str | None) -> pd.DataFrame:
    """Keep the rows of the given months (and one questionnaire when given), the period as text."""
    if frame is None:
        frame = pd.DataFrame(columns=SCORE_COLUMNS)
    period = frame["period"].astype(str)
    keep = period.isin(months)
    if questionnaire is not None:
        keep &= frame["questionnaire"].astype(str) == questionnaire
    kept = frame[keep].assign(period=period[keep].astype(object))
    return kept.astype({"questionnaire": object, "agency_code": object, "version": "int64"})


def _month_pools(catalog: Catalog, present: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Pool the versions present in each month, as that month's own table would."""
    parts, definitions = [], {}
    for month, group in present.groupby("period", sort=True):
        pools, found = pool_table(catalog, group)
        parts.append(pools.assign(period=month).astype({"period": object}))
        definitions.update(found)  # a pool's label names its versions: the same definition in every month
    return pd.concat(parts, ignore_index=True), definitions


def _rolled(frame, pools, agencies, by_service, columns, values) -> pd.DataFrame:
    """Pool versions, add service keys and roll agencies up for one input frame."""
    keyed = _by_service(_pooled(frame, pools), by_service)
    return roll_up(keyed[[*columns, *values]], agencies, values)


def _unrounded(counts, scores, catalog, agencies, in_force: dict, options) -> pd.DataFrame | None:
    """Compute the rows of the months in ``in_force`` with shares and bounds as unrounded proportions."""
    counts = _in_months(counts, list(in_force), options["questionnaire"])
    scores = _in_months(scores, list(in_force), options["questionnaire"])
    if counts.empty:
        return None
    pools, definitions = _month_pools(catalog, pd.concat([counts, scores])[["period", "questionnaire", "version"]])
    agencies = _agency_frame(agencies, counts)
    counts = _rolled(
        counts.rename(columns={"item_code": "code"}),
        pools,
        agencies,
        options["by_service"],
        [*KEY, "code", "value"],
        ["count"],
    )
    scores = _rolled(scores, pools, agencies, options["by_service"], [*KEY, "scope"], ["n", "sum_y", "sum_y2"])
    rank = _block_rank(agencies, options["agency"], set(counts["agency_code"]))
    counts = counts[counts["agency_code"].isin(rank)]
    z = {k: z_value(float(d.index.get("confidence", 0.95))) for k, d in definitions.items()}
    items = _item_rows(counts, pool_items(definitions), z)
    if items.empty:
        return None
    criteria = items[items["level"] == "criterion"]
    elements = _scope_rows(criteria.assign(scope=criteria["element"], cap=criteria["n"]), scores, z)
    overall = _scope_rows(elements.assign(scope=OVERALL), scores, z)
    table = pd.concat([items, *_labelled(elements, overall, definitions)], ignore_index=True)
    min_n = {k: options["min_n"] if options["min_n"] is not None else d.min_n for k, d in definitions.items()}
    table = _status(table, in_force, _per_pool(table, min_n))
    names = {**dict(zip(agencies["code"].astype(str), agencies["name"], strict=True)), ALL: ALL_AGENCIES_NAME}
    table = table.assign(agency_name=[names.get(c, c) for c in table["agency_code"].to_numpy(object)])
    return _order(table, rank, pools)


def _change(table: pd.DataFrame, previous: pd.DataFrame | None) -> pd.Series:
    """Return the change in points from the previous month's row with the same key (NaN when absent)."""
    if previous is None:
        return pd.Series(np.nan, index=table.index)
    before = previous[[*ROW_KEY, "p"]].rename(columns={"p": "p_before"})
    merged = table[ROW_KEY].merge(before, on=ROW_KEY, how="left")
    return pd.Series(100 * (table["p"].to_numpy() - merged["p_before"].to_numpy()), index=table.index)


def _response_rate(table, interactions, agencies, month: str, by_service: bool) -> pd.Series:
    """Return used/issued (%) of the block's subtree and service on overall rows; NaN elsewhere."""
    if interactions is None or table.empty:
        return pd.Series(np.nan, index=table.index)
    frame = interactions[interactions["period"].astype(str) == month]
    frame = _by_service(frame[["agency_code", "service_code", "issued", "used"]], by_service)
    rolled = roll_up(frame.astype({"agency_code": object}), agencies, ["issued", "used"])
    merged = table[["agency_code", "service_code"]].merge(rolled, on=["agency_code", "service_code"], how="left")
    issued = merged["issued"].astype("float64").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(issued > 0, 100 * merged["used"].astype("float64").to_numpy() / issued, np.nan)
    return pd.Series(np.where(table["level"] == "overall", rate, np.nan), index=table.index)


def _finish(table: pd.DataFrame, status_columns: list[str]) -> pd.DataFrame:
    """Turn proportions into percentages rounded to two decimals; fixed columns, then status, then extras."""
    table = table.assign(
        pct_satisfied=(100 * table["p"]).round(2),
        ci_low=(100 * table["low"]).round(2),
        ci_high=(100 * table["high"]).round(2),
        change=table["change"].round(2),
        response_rate=table["response_rate"].round(2),
    )
    return _dtypes(table[[*CSV_COLUMNS, *status_columns, *EXTRA_COLUMNS]].reset_index(drop=True))


def monthly_table(
    counts: pd.DataFrame,
    scores: pd.DataFrame,
    catalog: Catalog,
    agencies: pd.DataFrame | None,
    targets: pd.DataFrame | None,
    month: str,
    *,
    questionnaire: str | None = None,
    agency: str | None = None,
    by_service: bool = False,
    min_n: int | None = None,
    previous_counts: pd.DataFrame | None = None,
    previous_scores: pd.DataFrame | None = None,
    interactions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Compute a month's table of criteria, elements, overall index and priorities per agency block."""
    month = parse_month(month)
    if questionnaire is not None and questionnaire not in catalog.ids():
        raise ValueError(f"unknown questionnaire {questionnaire!r}; known: {', '.join(catalog.ids())}")
    in_force = targets_in_force(targets, month)
    status_columns = [status_column(c) for c in in_force["code"]]
    options = {"questionnaire": questionnaire, "agency": agency, "by_service": by_service, "min_n": min_n}
    table = _unrounded(counts, scores, catalog, agencies, {month: in_force}, options)
    if table is None:
        if agency is not None:
            hierarchy_order(_agency_frame(agencies, _in_months(counts, [month], None)), agency)  # unknown: error
        return empty_table(status_columns)
    previous = None
    if previous_counts is not None:
        before = {previous_month(month): in_force.iloc[:0]}
        previous = _unrounded(previous_counts, previous_scores, catalog, agencies, before, options)
    table = table.assign(
        change=_change(table, previous),
        response_rate=_response_rate(table, interactions, _agency_frame(agencies, counts), month, by_service),
    )
    return _finish(table, status_columns)


def monthly_tables(
    counts: pd.DataFrame,
    scores: pd.DataFrame,
    catalog: Catalog,
    agencies: pd.DataFrame | None,
    targets: pd.DataFrame | None,
    months: list[str],
    *,
    questionnaire: str | None = None,
    agency: str | None = None,
    min_n: int | None = None,
) -> pd.DataFrame:
    """Compute the tables of several months at once: each month's rows as its monthly_table (service ALL).

    The status columns are those of the targets in force in any of the months, blank in the others;
    change and response rate are left blank.
    """
    months = [parse_month(m) for m in months]
    in_force = {m: targets_in_force(targets, m) for m in months}
    status_columns = list(dict.fromkeys(status_column(c) for f in in_force.values() for c in f["code"]))
    options = {"questionnaire": questionnaire, "agency": agency, "by_service": False, "min_n": min_n}
    table = _unrounded(counts, scores, catalog, agencies, in_force, options)
    if table is None:
        return empty_table(status_columns)
    return _finish(table.assign(change=np.nan, response_rate=np.nan), status_columns)
