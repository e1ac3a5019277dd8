"""Time the monthly report on a month of N responses, against DuckDB counting the same month from Parquet.

Usage:
    .venv/bin/python bench/aggregate.py [--responses 1000000] [--postgres URL] [--seed 7] [--repeat 5]
        [--keep DIR | --reuse DIR]

330,000 responses is a month of Hà Nội at its planned peak (docs: sipas.md), 10 million the stress case.

Builds one month of synthetic `sipas` responses (157 agencies in a city → departments/wards tree,
20 services, 19 criteria, realistic skips) in a fresh SQLite database (and in a private schema of
PostgreSQL when a URL is given), with the monthly rollups the application keeps as responses arrive,
and writes the same month as Parquet in the export layout. Then:

- runs `flask --app wsgi report monthly` in a child process and prints its wall time and peak memory
  (the report reads the month's counts grouped in SQL, computes every index and writes CSV + XLSX);
- times the same report in-process (aggregation to files, without interpreter start-up), each run
  with a fresh app and database connection, and takes the median of --repeat runs;
- times DuckDB computing the criterion counts (agency × item × value) from the Parquet file, file
  cache warm, median of as many runs, interleaved with the report's so that both see the same machine;
- prints the ratio of the medians, in-process report / DuckDB (the figure the README records).
  Targets: ratio ≤ 1.5, peak memory < 1.5 GB at 10 million.

--keep DIR builds in a new folder and keeps it; --reuse DIR measures such a folder again without
building (the database is first brought to the latest migration).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import _serve  # noqa: E402

from analysis.counting import count_answers  # noqa: E402
from analysis.periods import month_bounds  # noqa: E402
from questionnaires import load_catalog  # noqa: E402

MONTH = "2026-10"
CHUNK = 250_000
RATIO_TARGET, MEMORY_TARGET = 1.5, 1.5 * 1024**3


def reference(rng: np.random.Generator):
    """157 agencies (city, 30 departments, 126 wards/communes) and 20 services."""
    agencies = [("HN", "UBND Thành phố Hà Nội", "thanh_pho", None)]
    agencies += [(f"SO-{i:02d}", f"Sở số {i}", "so", "HN") for i in range(1, 31)]
    agencies += [(f"P-{i:03d}", f"UBND Phường/Xã số {i}", "phuong", "HN") for i in range(1, 127)]
    services = [(f"DV-{i:02d}", f"Thủ tục số {i}", "Lĩnh vực", 5) for i in range(1, 21)]
    level = rng.uniform(0.78, 0.96, size=len(agencies))  # probability of a satisfied answer, per agency
    return agencies, services, level


def draw_chunk(rng, size, first_id, criteria, level, start_utc, seconds):
    """A chunk of responses: ids, agency/service indexes, timestamps and a (size × criteria) value matrix."""
    ids = np.arange(first_id, first_id + size, dtype=np.int64)
    agency = rng.integers(1, len(level), size=size)  # responses are recorded below the city level
    service = rng.integers(0, 20, size=size)
    stamps = start_utc + pd.to_timedelta(rng.integers(0, seconds, size=size), unit="s")
    p = np.clip(level[agency][:, None] + rng.normal(0, 0.05, size=(size, 1)), 0.02, 0.995)
    satisfied = rng.random((size, len(criteria))) < p
    values = np.where(
        satisfied,
        rng.choice([4, 5], size=satisfied.shape, p=[0.6, 0.4]),
        rng.choice([1, 2, 3], size=satisfied.shape, p=[0.15, 0.3, 0.55]),
    )
    skip = rng.random(values.shape) < np.array([0.3 if c.startswith("PA") else 0.04 for c in criteria])
    return ids, agency, service, stamps, np.where(skip, 0, values)


def tidy_frame(ids, agency_codes, service_codes, stamps, values, criteria) -> pd.DataFrame:
    mask = values > 0
    rows, cols = np.nonzero(mask)
    return pd.DataFrame(
        {
            "response_id": ids[rows],
            "submitted_at": stamps[rows],
            "agency_code": agency_codes[rows],
            "service_code": service_codes[rows],
            "counter_code": None,
            "questionnaire": "sipas",
            "version": 1,
            "item_code": np.asarray(criteria, dtype=object)[cols],
            "value": values[mask],
        }
    )


class Loader:
    """Writes responses, answers and rollups with the driver's fastest bulk path."""

    def __init__(self, engine):
        self.engine = engine
        self.conn = engine.raw_connection()
        self.postgres = engine.dialect.name == "postgresql"

    def rows(self, table: str, columns: list[str], rows) -> None:
        cur = self.conn.cursor()
        if self.postgres:
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        cur.close()

    def commit(self) -> None:
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


def build(url: str, n: int, seed: int, parquet: Path | None) -> dict:
    """Fill the database at url (already migrated and registered) with n responses of MONTH."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    rng = np.random.default_rng(seed)
    agencies, services, level = reference(rng)
    definition = load_catalog().get("sipas")
    criteria = [c.code for c in definition.criteria]
    loader = Loader(engine)
    loader.rows(
        "agencies",
        ["id", "code", "name", "level", "parent_id", "active"],
        [(i + 1, c, nm, lv, 1 if p else None, True) for i, (c, nm, lv, p) in enumerate(agencies)],
    )
    loader.rows(
        "services",
        ["id", "code", "name", "field", "processing_days", "active"],
        [(i + 1, *s, True) for i, s in enumerate(services)],
    )
    loader.commit()
    with engine.connect() as conn:
        version_id = conn.execute(
            text("SELECT id FROM questionnaire_versions WHERE questionnaire='sipas' AND version=1")
        ).scalar_one()
    start, end = month_bounds(MONTH)
    start_utc, seconds = pd.Timestamp(start), int((end - start).total_seconds())
    agency_codes = np.array([a[0] for a in agencies], dtype=object)
    service_codes = np.array([s[0] for s in services], dtype=object)
    counts, scores, writer, done = [], [], None, 0
    while done < n:
        size = min(CHUNK, n - done)
        ids, agency, service, stamps, values = draw_chunk(rng, size, done + 1, criteria, level, start_utc, seconds)
        naive = stamps.tz_convert("UTC").tz_localize(None).to_pydatetime()
        loader.rows(
            "responses",
            ["id", "questionnaire_version_id", "agency_id", "service_id", "channel", "submitted_at", "submission_key"],
            zip(
                ids.tolist(),
                [version_id] * size,
                (agency + 1).tolist(),
                (service + 1).tolist(),
                ["qr"] * size,
                naive,
                [uuid.uuid4().hex for _ in range(size)],
                strict=True,
            ),
        )
        rows, cols = np.nonzero(values)
        loader.rows(
            "answers",
            ["response_id", "item_code", "value"],
            zip(
                ids[rows].tolist(),
                np.asarray(criteria, dtype=object)[cols].tolist(),
                values[rows, cols].tolist(),
                strict=True,
            ),
        )
        loader.commit()
        tidy = tidy_frame(ids, agency_codes[agency], service_codes[service], stamps, values, criteria)
        c, s = count_answers(tidy, load_catalog())
        counts.append(c)
        scores.append(s)
        if parquet is not None:
            wide = pd.DataFrame(
                {
                    "submitted_at": stamps.tz_convert("Asia/Ho_Chi_Minh").astype(str),
                    "agency_code": agency_codes[agency],
                    "service_code": service_codes[service],
                    "questionnaire": "sipas",
                    "version": 1,
                }
            )
            for j, code in enumerate(criteria):
                wide[code] = pd.array(np.where(values[:, j] > 0, values[:, j], 0), dtype="Int8")
                wide.loc[values[:, j] == 0, code] = pd.NA
            table = pa.Table.from_pandas(wide, preserve_index=False)
            writer = writer or pq.ParquetWriter(parquet, table.schema)
            writer.write_table(table)
        done += size
        print(f"  built {done:,} / {n:,} responses", flush=True)
    if writer is not None:
        writer.close()
    write_rollups(loader, pd.concat(counts), pd.concat(scores), agencies, services, version_id)
    loader.close()
    engine.dispose()
    return {"answers": int(sum(c["count"].sum() for c in counts))}


def write_rollups(loader, counts, scores, agencies, services, version_id) -> None:
    agency_id = {a[0]: i + 1 for i, a in enumerate(agencies)}
    service_id = {s[0]: i + 1 for i, s in enumerate(services)}
    period = pd.Timestamp(f"{MONTH}-01").date()
    keys = ["agency_code", "service_code"]
    c = counts.groupby([*keys, "item_code", "value"], as_index=False)["count"].sum()
    loader.rows(
        "answer_counts",
        ["period", "agency_id", "service_id", "questionnaire_version_id", "item_code", "value", "count"],
        [
            (
                period,
                agency_id[r.agency_code],
                service_id[r.service_code],
                version_id,
                r.item_code,
                int(r.value),
                int(r.count),
            )
            for r in c.itertuples()
        ],
    )
    s = scores.groupby([*keys, "scope"], as_index=False)[["n", "sum_y", "sum_y2"]].sum()
    loader.rows(
        "score_sums",
        ["period", "agency_id", "service_id", "questionnaire_version_id", "scope", "n", "sum_y", "sum_y2"],
        [
            (
                period,
                agency_id[r.agency_code],
                service_id[r.service_code],
                version_id,
                r.scope,
                int(r.n),
                float(r.sum_y),
                float(r.sum_y2),
            )
            for r in s.itertuples()
        ],
    )
    loader.commit()


# The child reports its own high-water mark (VmHWM): ru_maxrss would include this big parent's, since
# Linux carries the pre-exec memory of a forked child into it.


def report_in_child(url: str, out: Path) -> tuple[float, int]:
    """Run the report command in a fresh interpreter; wall seconds and its own peak resident memory."""
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _serve.FLASK_MEASURED, "report", "monthly", "--month", MONTH, "--out", str(out)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wall = time.perf_counter() - started
    return wall, int(done.stderr.strip().splitlines()[-1])


def report_in_process(url: str, out: Path) -> float:
    from survey import create_app
    from survey.reporting.monthly import write_monthly_report

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        started = time.perf_counter()
        write_monthly_report(MONTH, out)
        elapsed = time.perf_counter() - started
    app.extensions["survey.db"]["engine"].dispose()
    return elapsed


def duckdb_counts(parquet: Path, criteria: list[str]) -> float:
    import duckdb

    con = duckdb.connect()
    columns = ", ".join(criteria)
    query = (
        f"SELECT agency_code, item_code, value, count(*) AS n FROM (UNPIVOT read_parquet('{parquet}') "
        f"ON {columns} INTO NAME item_code VALUE value) GROUP BY ALL"
    )
    con.execute(query).fetchall()  # warm the file cache, as the database's pages are warm
    started = time.perf_counter()
    rows = con.execute(query).fetchall()
    elapsed = time.perf_counter() - started
    con.close()
    assert rows, "DuckDB counted nothing"
    return elapsed


def migrate(url: str) -> None:
    from survey import create_app, db

    db.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})  # registers the questionnaire versions
    app.extensions["survey.db"]["engine"].dispose()


def run_backend(name: str, url: str, n: int, seed: int, folder: Path, parquet: Path | None, build_it=True) -> int:
    """Build (or reuse) the month, run the report command in a child process; its peak memory."""
    migrate(url)
    if build_it:
        print(f"{name}: building {n:,} responses of {MONTH}")
        started = time.perf_counter()
        built = build(url, n, seed, parquet)
        print(f"  built in {time.perf_counter() - started:.0f} s ({built['answers']:,} answers)")
    else:
        print(f"{name}: reusing {folder}")
    wall, peak = report_in_child(url, folder / f"report-{name}")
    print(
        f"  report monthly, child process: {wall:.2f} s wall, peak memory {peak / 1024**2:,.0f} MB "
        f"(target < {MEMORY_TARGET / 1024**3:.1f} GB)"
    )
    return peak


def compare(name: str, url: str, folder: Path, parquet: Path, criteria: list[str], repeat: int) -> float:
    """Time the report in process and DuckDB, interleaved, repeat times each; print and return the ratio."""
    reports, ducks = [], []
    for _ in range(repeat):
        reports.append(report_in_process(url, folder / f"report-{name}-inproc"))
        ducks.append(duckdb_counts(parquet, criteria))
    report, duck = statistics.median(reports), statistics.median(ducks)
    print(
        f"  report monthly, in process (counts → indices → CSV + XLSX): median {report:.3f} s "
        f"(runs {', '.join(f'{t:.3f}' for t in reports)})"
    )
    print(
        f"  DuckDB criterion counts from Parquet ({parquet.stat().st_size / 1024**2:,.0f} MB): median {duck:.3f} s "
        f"(runs {', '.join(f'{t:.3f}' for t in ducks)})"
    )
    print(f"ratio {name} report / DuckDB: {report / duck:.2f} (target ≤ {RATIO_TARGET})")
    return report / duck


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="also measure PostgreSQL at this SQLAlchemy URL")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of the report and of DuckDB (median)")
    folders = parser.add_mutually_exclusive_group()
    folders.add_argument("--keep", type=Path, help="build in this (new) folder and keep it, for profiling")
    folders.add_argument("--reuse", type=Path, help="measure a folder kept by --keep again, without building")
    args = parser.parse_args()
    criteria = [c.code for c in load_catalog().get("sipas").criteria]
    if args.keep:
        args.keep.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or args.reuse or Path(tmp)
        parquet = folder / "month.parquet"
        url = f"sqlite:///{folder / 'bench.sqlite3'}"
        peaks = [run_backend("sqlite", url, args.responses, args.seed, folder, parquet, build_it=not args.reuse)]
        ratios = [compare("SQLite", url, folder, parquet, criteria, args.repeat)]
        if args.postgres and not args.reuse:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            url = with_schema(args.postgres, schema)
            try:
                peaks.append(run_backend("postgresql", url, args.responses, args.seed, folder, None))
                ratios.append(compare("PostgreSQL", url, folder, parquet, criteria, args.repeat))
            finally:
                drop_schema(args.postgres, schema)
    return 0 if max(ratios) <= RATIO_TARGET and max(peaks) < MEMORY_TARGET else 1


def with_schema(url: str, schema: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def drop_schema(url: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
