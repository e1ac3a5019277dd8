"""python -m analysis FILE --month YYYY-MM --out DIR: the monthly report from an exported file, no database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from zipfile import BadZipFile

import pandas as pd
from openpyxl.utils.exceptions import InvalidFileException

from analysis.counting import count_answers
from analysis.indices import monthly_table
from analysis.output import report_notes, write_csv, write_xlsx
from analysis.periods import month_bounds, parse_month, previous_month
from analysis.reading import read_agencies, read_table, wide_to_tidy
from analysis.targets import DEFAULT_TARGETS, read_targets, targets_in_force
from questionnaires import Catalog, load_catalog


def _month(text: str) -> str:
    try:
        return parse_month(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="Compute the monthly satisfaction table (counter survey) from an exported responses file.",
    )
    parser.add_argument("file", type=Path, help="responses export: .csv, .xlsx or .parquet (one row per response)")
    parser.add_argument("--month", required=True, type=_month, help="the month, YYYY-MM (local time, Hà Nội)")
    parser.add_argument("--out", required=True, type=Path, help="folder for satisfaction.csv and satisfaction.xlsx")
    parser.add_argument("--questionnaire", help="only this questionnaire id")
    parser.add_argument("--agency", help="only this agency and the agencies below it")
    parser.add_argument("--by-service", action="store_true", help="add rows per service")
    parser.add_argument("--agencies", type=Path, help="agencies CSV (code,name,level,parent_code); default: flat")
    parser.add_argument("--targets", type=Path, default=DEFAULT_TARGETS, help="targets CSV; default: 86 %% and 90 %%")
    parser.add_argument("--min-n", type=int, help="fewest answers for a status (default: the questionnaire's)")
    return parser


def _check_versions(tidy: pd.DataFrame, catalog: Catalog) -> None:
    """Refuse responses of questionnaire versions that have no definition."""
    present = tidy[["questionnaire", "version"]].drop_duplicates()
    unknown = [f"{q} version {v}" for q, v in present.itertuples(index=False) if catalog.get(q, int(v)) is None]
    if unknown:
        raise ValueError(f"no definition for {', '.join(sorted(unknown))} (known: {', '.join(catalog.ids())})")


def _summary(table: pd.DataFrame) -> list[str]:
    """One line per questionnaire pool: the overall index of the first agency block."""
    overall = table[(table["level"] == "overall") & (table["service_code"] == "ALL")]
    lines = []
    for _, row in overall.drop_duplicates(["questionnaire", "version"]).iterrows():
        statuses = ", ".join(f"{c.removeprefix('status_')} %: {row[c]}" for c in table if c.startswith("status_"))
        lines.append(
            f"{row['questionnaire']} v{row['version']}, {row['agency_code']}: {row['pct_satisfied']:.2f} % "
            f"(95 % CI {row['ci_low']:.2f}–{row['ci_high']:.2f}, n = {row['n']})"
            + (f"; {statuses}" if statuses else "")
        )
    return lines


def run(args: argparse.Namespace) -> list[str]:
    """Read, count, compute and write; return the summary lines."""
    catalog = load_catalog()
    targets = read_targets(args.targets)
    agencies = read_agencies(args.agencies) if args.agencies else None
    tidy = wide_to_tidy(read_table(args.file))
    start, end = month_bounds(previous_month(args.month))[0], month_bounds(args.month)[1]
    tidy = tidy[(tidy["submitted_at"] >= start) & (tidy["submitted_at"] < end)]
    _check_versions(tidy, catalog)
    counts, scores = count_answers(tidy, catalog)
    table = monthly_table(
        counts,
        scores,
        catalog,
        agencies,
        targets,
        args.month,
        questionnaire=args.questionnaire,
        agency=args.agency,
        by_service=args.by_service,
        min_n=args.min_n,
        previous_counts=counts,
        previous_scores=scores,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(table, args.out / "satisfaction.csv")
    write_xlsx(table, args.out / "satisfaction.xlsx", report_notes(table, catalog, targets, args.month))
    in_force = ", ".join(f"{v:g} %" for v in targets_in_force(targets, args.month)["value"]) or "none"
    head = f"{len(table)} rows for {args.month} written to {args.out}/satisfaction.csv and .xlsx (targets: {in_force})"
    return [head, *(_summary(table) or [f"No responses in {args.month}."])]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        lines = run(args)
    except (ValueError, OSError, KeyError, BadZipFile, InvalidFileException) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
