"""One snapshot of each month's figures, computed in one pass and shared by every worker and server.

A month's snapshot is the monthly table of every questionnaire and every agency block (ALL and each
agency's subtree: ``monthly_report`` with no filter), with each block's responses and one-time links
of the month. It is kept in the shared store (survey.reporting.store: the database, or Redis) as one
part per agency block under a generation, plus a head naming the generation, when it was taken and
the data it was taken from. Pages, charts, the API and report packs read the parts they need; no
request recomputes a month.

Freshness. ``refresh`` compares each month's data mark (the rollups' totals and an epoch that admin
changes bump) with its head and rebuilds the months that changed, one process at a time (a lock in
the store). The background worker (``watch``: ``flask figures watch``, at low priority) runs it
every FIGURES_CHECK_SECONDS; a month that keeps changing is rebuilt at most every
FIGURES_MAX_AGE - FIGURES_CHECK_SECONDS - BUILD_ALLOWANCE - CHARTS_AHEAD_SECONDS seconds (the time to
build twice and to draw ahead kept out of it), so a new response is counted within
FIGURES_MAX_AGE (60 s by default). An epoch change (a rename, a move, a target, an import) is rebuilt
at the next check whatever the age. When no background worker has reported for a while, a request
checks the months it needs itself, at most once per FIGURES_CHECK_SECONDS across all workers (so
the embedded set-up stays current without a write per request); with FIGURES_MAX_AGE = 0 (tests)
every request sees the newest data.

Each worker keeps decoded parts in a small LRU by key: a key names a generation, whose content never
changes, so what a worker keeps is never stale and needs no sharing.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.hierarchy import ALL, hierarchy_order, roll_up
from analysis.indices import EXTRA_COLUMNS
from analysis.periods import previous_month
from analysis.scores import OVERALL
from analysis.trend import TREND_COLUMNS, VOLUME_COLUMNS
from survey.models import ScoreSum
from survey.reporting import frames, store
from survey.reporting.freshness import CHECKED, HEARTBEAT, check_due, epoch
from survey.reporting.freshness import key as _key
from survey.reporting.monthly import monthly_report

TREND_MONTHS = 12
KEPT_MONTHS = TREND_MONTHS + 1  # the newest months kept fresh ahead of time: a year's trend and the month before
BUILD_ALLOWANCE = 15  # seconds two builds of a month may take at city scale, kept out of the staleness bound
LOCK = "figures"
LOCK_SECONDS = 600
WAIT_SECONDS = 30  # how long a request waits for a month another process is building for the first time
SEQ = "_seq"  # each row's place in the month's table, so that slices keep the table's order
_FLOATS = ["pct_satisfied", "ci_low", "ci_high", *EXTRA_COLUMNS]


@dataclass(frozen=True)
class Head:
    month: str
    gen: str
    taken_at: datetime
    mark: str

    def encode(self) -> bytes:
        return json.dumps(
            {"month": self.month, "gen": self.gen, "taken_at": self.taken_at.isoformat(), "mark": self.mark}
        ).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Head:
        data = json.loads(raw)
        return cls(data["month"], data["gen"], datetime.fromisoformat(data["taken_at"]), data["mark"])


# --- encoding -------------------------------------------------------------------------------------------


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def _encode(payload: dict) -> bytes:
    return zlib.compress(json.dumps(payload, default=_plain, separators=(",", ":")).encode(), 3)


def _decode(raw: bytes) -> dict:
    return json.loads(zlib.decompress(raw))


def _records(frame: pd.DataFrame) -> dict:
    shown = frame.astype(object).where(frame.notna(), None)
    return {"columns": [str(c) for c in frame.columns], "rows": shown.to_numpy().tolist()}


def _table(columns: list[str], rows: list) -> pd.DataFrame:
    """A slice of a month's table with the monthly table's own dtypes."""
    frame = pd.DataFrame(rows, columns=columns, dtype=object)  # None stays None in text columns
    strings = [c for c in frame.columns if c not in (*_FLOATS, "n", "n_satisfied", SEQ)]
    types = {**dict.fromkeys(strings, object), **{c: "float64" for c in _FLOATS if c in frame}}
    frame = frame.astype(types)
    return frame.astype({"n": "int64", "n_satisfied": "Int64", SEQ: "int64"})


# --- building -------------------------------------------------------------------------------------------


def data_marks(session: Session, epoch: str) -> dict[str, str]:
    """Each month with rollups, marked by its totals and the epoch: a different mark, different figures."""
    stmt = (
        select(ScoreSum.period, func.sum(ScoreSum.n), func.sum(ScoreSum.sum_y))
        .where(ScoreSum.scope == OVERALL)
        .group_by(ScoreSum.period)
    )
    marks = {}
    for period, n, total in session.execute(stmt):
        marks[f"{period.year:04d}-{period.month:02d}"] = f"{int(n or 0)}:{float(total or 0):.6f}:{epoch}"
    return marks


def _block_volumes(inputs: frames.Inputs, month: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Responses per block and questionnaire, and one-time links per block, of the month."""
    scores = inputs.scores
    overall = scores[(scores["scope"] == OVERALL) & (scores["period"].astype(str) == month)]
    responses = overall.groupby(["agency_code", "questionnaire"], as_index=False, observed=True)["n"].sum()
    responses = responses.astype({"agency_code": object, "questionnaire": object})
    responses = roll_up(responses, inputs.agencies, ["n"]) if len(responses) else responses
    links = inputs.interactions[inputs.interactions["period"].astype(str) == month]
    links = links.groupby("agency_code", as_index=False)[["issued", "used"]].sum().astype({"agency_code": object})
    links = roll_up(links, inputs.agencies, ["issued", "used"]) if len(links) else links
    return responses, links


def build_month(session: Session, month: str, mark: str) -> Head:
    """Compute a month's figures in one pass and store them under a new generation (not yet published)."""
    tz = current_app.config["TIMEZONE"]
    inputs = frames.Inputs.read(session, [month, previous_month(month)], tz)
    table = monthly_report(session, month, inputs=inputs)
    table = table.assign(**{SEQ: np.arange(len(table))})
    responses, links = _block_volumes(inputs, month)
    gen = secrets.token_hex(6)
    taken_at = datetime.now(UTC)
    columns = [str(c) for c in table.columns]
    parts: dict[str, bytes] = {}
    by_block = dict(tuple(table.groupby("agency_code", sort=False)))
    counts = {b: dict(zip(g["questionnaire"], g["n"], strict=True)) for b, g in responses.groupby("agency_code")}
    linked = {b: (int(i), int(u)) for b, i, u in links[["agency_code", "issued", "used"]].itertuples(index=False)}
    for block in set(by_block) | set(counts) | set(linked):
        rows = by_block.get(block)
        issued, used = linked.get(block, (0, 0))
        payload = {
            "columns": columns,
            "rows": [] if rows is None else _records(rows)["rows"],
            "responses": counts.get(block, {}),
            "issued": issued,
            "used": used,
        }
        parts[_key(month, gen, "block", block)] = _encode(payload)
    parts[_key(month, gen, "agencies")] = _encode({**_records(inputs.agencies), "table_columns": columns})
    parts[_key(month, gen, "targets")] = _encode(_records(inputs.targets))
    store.current().put_many(parts)
    return Head(month, gen, taken_at, mark)  # readers see it once published


def publish(head: Head) -> None:
    """Name a stored generation as the month's figures; retire the generation before the last."""
    shared = store.current()
    previous = shared.get(_key(head.month, "head"))
    shared.put(_key(head.month, "head"), head.encode())
    if previous is not None:  # readers that took the old head a moment ago finish with their parts first
        _retire(Head.decode(previous))


BEFORE_PUBLISH = "survey.figures.before_publish"  # app.extensions: hook(session, heads) run by the watcher


def _retire(head: Head) -> None:
    """Drop the parts of a generation no head names, once the parts of the one before it are gone."""
    shared = store.current()
    pending = shared.get(_key(head.month, "retired"))
    if pending is not None and pending.decode() != head.gen:
        shared.delete_prefix(_key(head.month, pending.decode()) + ":")
    shared.put(_key(head.month, "retired"), head.gen.encode())


# --- freshness ------------------------------------------------------------------------------------------


def heads(months: list[str]) -> dict[str, Head]:
    found = store.current().get_many([_key(m, "head") for m in months])
    return {m: Head.decode(found[_key(m, "head")]) for m in months if _key(m, "head") in found}


def _due(head: Head | None, mark: str, now: datetime) -> bool:
    if head is None:
        return True
    if head.mark == mark:
        return False
    if head.mark.rsplit(":", 1)[-1] != mark.rsplit(":", 1)[-1]:
        return True  # the epoch moved: a rename, a move, a target or an import
    config = current_app.config
    spacing = spacing_seconds(config)
    return (now - head.taken_at).total_seconds() >= max(0, spacing)


def spacing_seconds(config) -> float:
    """How long a month that keeps changing keeps its figures: a response that came just after a build
    read the data waits for the next build to start (this long, plus a check's interval) and to end
    (a build, and the drawing ahead), all within FIGURES_MAX_AGE."""
    return (
        config["FIGURES_MAX_AGE"] - config["FIGURES_CHECK_SECONDS"] - BUILD_ALLOWANCE - config["CHARTS_AHEAD_SECONDS"]
    )


def refresh(session: Session, months: list[str] | None = None, *, wait: bool = False, heartbeat: bool = False) -> int:
    """Rebuild the months (default: kept_months, empty months of a trend included) whose data changed;
    how many were built.

    One process at a time: without the lock nothing is done (the holder is building), unless wait.
    """
    shared = store.current()
    deadline = time.monotonic() + (WAIT_SECONDS if wait else 0)
    token = shared.acquire(LOCK, LOCK_SECONDS)
    while token is None and time.monotonic() < deadline:
        time.sleep(0.05)
        token = shared.acquire(LOCK, LOCK_SECONDS)
    if token is None:
        return 0
    try:
        current_epoch = epoch()
        marks = data_marks(session, current_epoch)
        wanted = kept_months(marks) if months is None else months
        now = datetime.now(UTC)
        known = heads(wanted)
        built = {}
        for month in wanted:
            mark = marks.get(month, f"0:0.000000:{current_epoch}")
            if _due(known.get(month), mark, now):
                built[month] = build_month(session, month, mark)
        # The watcher's hooks (the dashboard draws there the charts officials are looking at, at the
        # builder's low priority), once the new generations are stored and before they are published.
        for hook in current_app.extensions.get(BEFORE_PUBLISH, ()) if built and heartbeat else ():
            try:
                hook(session, built)
            except Exception:  # the figures are published all the same; what the hook missed is drawn on request
                current_app.logger.exception("figures: a hook before publishing failed")
        for head in built.values():
            publish(head)
        stamp = now.isoformat().encode()
        shared.put_many({CHECKED: stamp, **({HEARTBEAT: stamp} if heartbeat else {})})
        if built:
            shared.prune()
        return len(built)
    finally:
        shared.release(LOCK, token)


def kept_months(marks: dict[str, str]) -> list[str]:
    """The months a background refresh keeps fresh: a year's trend and the month before, ending with the
    newest month with data and ending with the current month (empty months of a trend included)."""
    current = datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y-%m")
    months: set[str] = set()
    for last in {current, max(marks, default=current)}:
        run = [last]
        while len(run) < KEPT_MONTHS:
            run.append(previous_month(run[-1]))
        months.update(run)
    return sorted(months, reverse=True)


def current_heads(session: Session, months: list[str]) -> dict[str, Head]:
    """The heads of the months, refreshed here first when no background worker keeps them fresh."""
    keys = {_key(m, "head"): m for m in months}
    stored = store.current().get_many([*keys, HEARTBEAT, CHECKED])  # one read of the store
    found = {m: Head.decode(stored[k]) for k, m in keys.items() if k in stored}
    missing = [m for m in months if m not in found]
    if missing or check_due(stored):
        refresh(session, months, wait=bool(missing))
        found = heads(months)
    return found


def watch(app, stop: threading.Event | None = None) -> None:
    """Keep the figures fresh until stop is set: the background worker's loop (one check per interval)."""
    stop = stop or threading.Event()
    while not stop.is_set():
        with app.app_context():
            from survey import db

            try:
                refresh(db.session(), heartbeat=True)
            except Exception:  # a failed check is logged and tried again at the next one
                app.logger.exception("figures refresh failed")
            finally:
                db.session().close()
            interval = app.config["FIGURES_CHECK_SECONDS"]
        stop.wait(interval)


# --- reading --------------------------------------------------------------------------------------------


class Kept:
    """A worker's values by key, least recently used dropped first: only for keys whose content never
    changes (a key names a generation), so nothing kept is ever stale."""

    def __init__(self, limit: int):
        self.limit = limit
        self._kept: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def found(self, keys) -> dict:
        with self._lock:
            found = {k: self._kept[k] for k in keys if k in self._kept}
            for k in found:
                self._kept.move_to_end(k)
        return found

    def keep(self, values: dict) -> None:
        with self._lock:
            self._kept.update(values)
            while len(self._kept) > self.limit:
                self._kept.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def get(self, key, build):
        found = self.found([key])
        if key not in found:
            found[key] = build()
            self.keep(found)
        return found[key]


class _Parts(Kept):
    """The worker's decoded parts, read from the store in one go for the keys it lacks."""

    def get_many(self, keys: list[str]) -> dict[str, dict]:
        found = self.found(keys)
        missing = [k for k in keys if k not in found]
        if missing:
            decoded = {k: _decode(v) for k, v in store.current().get_many(missing).items()}
            self.keep(decoded)
            found.update(decoded)
        return found


_parts = _Parts(4096)


@dataclass(frozen=True)
class Month:
    """A month's snapshot as one reader sees it: its head and what it reads from its parts."""

    head: Head

    def _part(self, name: str, *rest: str) -> dict | None:
        key = _key(self.head.month, self.head.gen, name, *rest)
        return _parts.get_many([key]).get(key)

    def agencies(self) -> pd.DataFrame:
        part = self._part("agencies")
        return pd.DataFrame(part["rows"], columns=part["columns"], dtype=object)

    def status_columns(self) -> list[str]:
        return [c for c in self._part("agencies")["table_columns"] if c.startswith("status_")]

    def targets(self) -> pd.DataFrame:
        part = self._part("targets")
        frame = pd.DataFrame(part["rows"], columns=part["columns"])
        for column in ("period_start", "period_end"):
            frame[column] = [date.fromisoformat(v) if v else None for v in frame[column]]
        return frame

    def blocks(self, codes: list[str]) -> dict[str, dict]:
        keys = {c: _key(self.head.month, self.head.gen, "block", c) for c in codes}
        found = _parts.get_many(list(keys.values()))
        return {c: found[k] for c, k in keys.items() if k in found}


def _rows(parts: dict[str, dict], questionnaire: str | None) -> pd.DataFrame | None:
    columns, rows = None, []
    for part in parts.values():
        columns = columns or part["columns"]
        rows.extend(part["rows"])
    if columns is None:
        return None
    frame = _table(columns, rows)
    if questionnaire is not None:
        frame = frame[frame["questionnaire"] == questionnaire]
    return frame.sort_values(SEQ, kind="stable").drop(columns=SEQ).reset_index(drop=True)


def _empty(status_columns: list[str] = ()) -> pd.DataFrame:
    from analysis.indices import empty_table

    return empty_table(list(status_columns))


def month_table(month: Month, agency: str | None, questionnaire: str | None, blocks: list[str] | None = None):
    """The month's table of the blocks given (default: the agency's subtree, or every block for ALL)."""
    if blocks is None:
        agencies = month.agencies()
        codes = set(agencies["code"])
        if agency is not None and agency not in codes:
            return _empty(month.status_columns())
        blocks = hierarchy_order(agencies, agency) if agency is not None else [ALL, *hierarchy_order(agencies)]
    table = _rows(month.blocks(blocks), questionnaire)
    return table if table is not None and len(table) else _empty(month.status_columns())


def taken_at(found: dict[str, Head], month: str) -> datetime | None:
    head = found.get(month)
    return head.taken_at if head else None


def version(found: dict[str, Head]) -> str:
    """A digest of the generations read: what a chart or a page of them depends on."""
    text = ",".join(f"{m}={h.gen}" for m, h in sorted(found.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def trend_and_volume(found: dict[str, Head], months: list[str], block: str, questionnaire: str):
    """The block's overall index per month (largest pool) and its responses and links per month."""
    keys = {m: _key(m, found[m].gen, "block", block) for m in months if m in found}
    parts = _parts.get_many(list(keys.values()))  # the year's parts of the block in one read
    trend_parts, volume = [], []
    for m in months:
        part = parts.get(keys.get(m, ""))
        if part is None:
            volume.append((m, 0, 0, 0))
            continue
        volume.append((m, int(part["responses"].get(questionnaire, 0)), part["issued"], part["used"]))
        rows = _rows({block: part}, questionnaire)
        if rows is not None:
            keep = (rows["level"] == "overall") & (rows["service_code"] == ALL)
            trend_parts.append(rows[keep])
    pieces = [p for p in trend_parts if len(p)]
    trend = pd.concat([_empty(), *pieces], ignore_index=True) if pieces else _empty()
    trend = trend.sort_values(["period", "n"], ascending=[True, False], kind="stable").drop_duplicates("period")
    status = list(dict.fromkeys(c for p in pieces for c in p.columns if c.startswith("status_")))
    trend = trend.reindex(columns=TREND_COLUMNS + status).reset_index(drop=True)
    frame = pd.DataFrame(volume, columns=["period", "responses", "issued", "used"])
    issued = frame["issued"].astype("float64").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(issued > 0, 100 * frame["used"].astype("float64").to_numpy() / issued, np.nan)
    frame = frame.assign(
        issued=pd.array(frame["issued"], dtype="Int64"), used=pd.array(frame["used"], dtype="Int64"),
        response_rate=np.round(rate, 2),
    )  # fmt: skip
    return trend, frame.astype({"period": object, "responses": "int64", "response_rate": "float64"})[VOLUME_COLUMNS]
