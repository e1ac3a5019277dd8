"""Importing large files: many batches, rollups equal to a rebuild, nothing kept when the last row is bad,
re-imports, the progress bar on a terminal only, the figures' epoch, bounded memory."""

from __future__ import annotations

import io
import tracemalloc

import pytest

from survey.commands import progress as progress_module
from survey.domain import rollup
from survey.reporting import freshness
from survey.transfer import imports
from tests.helpers import QUICK_ROW, SIPAS_ROW, counts, import_file, rollups, write_csv

BATCH = 300  # small batches: a few thousand rows cross many of them


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    monkeypatch.setattr(imports, "BATCH", BATCH)


def mixed_rows(count: int, start: int = 0) -> list[dict]:
    """sipas and quay-nhanh rows over three months, two agencies, with and without service and comment."""
    rows = []
    for i in range(start, start + count):
        moment = f"2026-0{1 + i % 3}-{1 + i % 28:02d}T{7 + i % 12:02d}:{i % 60:02d}"
        if i % 5 == 4:
            rows.append({**QUICK_ROW, "submitted_at": moment, "QN_KQ": str(1 + i % 5), "QN_TC": str(1 + i * 3 % 5)})
            continue
        rows.append({**SIPAS_ROW, "submitted_at": moment, "service_code": "KS" if i % 3 else "",
                     "TC1": str(1 + i % 5), "TT2": str(1 + i * 7 % 5), "PA1": "" if i % 4 else str(1 + i % 5),
                     "UT3": str(1 + i % 3), "comment": "Cán bộ nhiệt tình" if i % 6 == 0 else ""})  # fmt: skip
    return rows


def epoch(app) -> str:
    with app.app_context():
        return freshness.epoch()


@pytest.mark.parametrize("groups_kept", [None, 2], ids=["written-once", "written-in-parts"])
def test_rollups_after_a_large_mixed_import_equal_a_rebuild(places, runner, tmp_path, monkeypatch, groups_kept):
    if groups_kept:  # a country's month: the totals are written whenever they hold more groups than this
        monkeypatch.setattr(rollup.Totals, "GROUPS_KEPT", groups_kept)
    first = write_csv(tmp_path, mixed_rows(2_000), name="first.csv")
    assert import_file(runner, first).exit_code == 0
    # A second file: rows already stored (an export's keys), new rows, and a key twice across batches.
    exported = [{**row, "submission_key": f"export-key-{i:06d}"} for i, row in enumerate(mixed_rows(700, 5_000))]
    assert import_file(runner, write_csv(tmp_path, exported[:400], name="earlier.csv")).exit_code == 0
    second = exported + mixed_rows(900, 9_000) + [exported[10]]
    result = import_file(runner, write_csv(tmp_path, second, name="second.csv"))
    assert result.exit_code == 0, result.output
    assert "Imported 1,200 responses (401 already imported)" in result.output
    assert counts(places)["responses"] == 2_000 + 400 + 1_200
    imported = rollups(places)
    assert imported["answer_counts"] and imported["score_sums"]
    assert runner.invoke(args=["rollup", "rebuild"]).exit_code == 0
    assert rollups(places) == imported


def test_a_bad_last_row_keeps_nothing_of_the_batches_before(places, runner, tmp_path):
    before, mark = counts(places), epoch(places)
    rows = mixed_rows(4 * BATCH + 17) + [{**SIPAS_ROW, "TC3": "6"}]
    result = import_file(runner, write_csv(tmp_path, rows))
    assert result.exit_code == 1
    assert f"line {len(rows) + 1}: TC3: 6 is not a value of the satisfaction scale (1–5)" in result.output
    assert "1 error(s) in" in result.output and "nothing was imported" in result.output
    assert counts(places) == before
    assert epoch(places) == mark, "nothing imported: the figures stand"


def test_an_import_that_adds_responses_refreshes_the_figures_at_once(places, runner, tmp_path):
    path = write_csv(tmp_path, mixed_rows(50))
    mark = epoch(places)
    assert import_file(runner, path, "--dry-run").exit_code == 0
    assert epoch(places) == mark
    assert import_file(runner, path).exit_code == 0
    assert epoch(places) != mark
    mark = epoch(places)
    assert "Imported 0 responses (50 already imported)" in import_file(runner, path).output
    assert epoch(places) == mark, "nothing added: nothing to take again"


def test_no_progress_bar_when_standard_error_is_not_a_terminal(places, runner, tmp_path):
    path = write_csv(tmp_path, mixed_rows(30))
    result = import_file(runner, path)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"Imported 30 responses (0 already imported) from {path}."]
    assert result.stderr == ""


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal(places, runner, tmp_path, monkeypatch):
    screen = Terminal()
    monkeypatch.setattr(progress_module, "terminal", lambda: screen)
    path = write_csv(tmp_path, mixed_rows(3 * BATCH))
    result = import_file(runner, path)
    assert result.exit_code == 0, result.output
    drawn = screen.getvalue()
    assert "Reading responses.csv" in drawn and "100%" in drawn
    assert "Reading" not in result.output, "the bar goes to the terminal, the summary to standard output"


def import_peak(runner, path: str) -> int:
    tracemalloc.start()
    try:
        result = import_file(runner, path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0, result.output
    return peak


def test_memory_does_not_grow_with_the_number_of_rows(places, runner, tmp_path):
    import_file(runner, write_csv(tmp_path, mixed_rows(BATCH), name="warm-up.csv"))  # caches of the first import
    small = import_peak(runner, write_csv(tmp_path, mixed_rows(2 * BATCH, 10_000), name="small.csv"))
    large = import_peak(runner, write_csv(tmp_path, mixed_rows(12 * BATCH, 20_000), name="large.csv"))
    assert large <= 1.5 * small, (small, large)


def test_the_one_pass_reading_never_disagrees_with_the_whole_check(places, monkeypatch):
    """Random item cells (values, off-scale numbers, words, other versions' items): same answers, same problems."""
    import random

    from survey import db
    from survey.transfer import layout
    from tests.helpers import HEADER

    rng = random.Random(5)
    texts = ["", "", "", "1", "2", "3", "4", "5", "05", "6", "0", "-1", "x", "4.0", " 3"]
    with places.app_context():
        checker = layout.RowChecker(db.session(), "digest")
        checker.use_columns(HEADER)
        rows = []
        for i in range(3_000):
            row = {**(SIPAS_ROW if i % 2 else QUICK_ROW)}
            row.update({code: rng.choice(texts) for code, _ in checker.items if rng.random() < 0.6})
            rows.append(checker.cells([row.get(c, "") for c in HEADER]))

        def judged(plain: bool) -> list:
            found = []
            with monkeypatch.context() as patch:
                if not plain:
                    patch.setattr(layout, "_plain_answers", lambda plan, cells: None)
                for line, cells in enumerate(rows, start=2):
                    problems = layout.Problems()
                    sub = checker.check(line, cells, problems)
                    found.append((sub and (sub.answers, sub.definition.key), [str(e) for e in problems.shown]))
            return found

        assert judged(plain=True) == judged(plain=False)
        assert judged(plain=True) == judged(plain=False), "and again with every reading remembered"
