import csv
import io
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

from analysis.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
HEADER = "submitted_at,agency_code,service_code,counter_code,questionnaire,version,channel,"
HEADER += "QN_TC,QN_TT,QN_CC,QN_KQ,QN_PA,comment\n"
ROWS = [
    '2026-01-31T23:30:00+07:00,W1,S1,Q1,quay-nhanh,1,counter,5,4,3,,,"=HYPERLINK(""http://x"")"\n',
    "2026-01-15 10:00,W2,,Q2,quay-nhanh,1,counter,4,4,4,4,4,\n",  # no offset: Hà Nội time
    "2026-02-01T00:30:00+07:00,W1,S1,Q1,quay-nhanh,1,counter,1,1,1,1,1,\n",  # February
    "2025-12-20T10:00:00Z,W1,S1,Q1,quay-nhanh,1,counter,5,5,5,5,5,\n",  # December: the change
]


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "analysis", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def export(tmp_path, rows=ROWS):
    path = tmp_path / "responses.csv"
    path.write_text("\ufeff" + HEADER + "".join(rows), encoding="utf-8")
    agencies = tmp_path / "agencies.csv"
    agencies.write_text(
        "code,name,level,parent_code\nHN,Hà Nội,tp,\nW1,-Phường Một,phuong,HN\nW2,Phường Hai,phuong,HN\n"
    )
    return path, agencies


def test_command_end_to_end(tmp_path):
    path, agencies = export(tmp_path)
    out = tmp_path / "out"
    result = run(path, "--month", "2026-01", "--out", out, "--agencies", agencies, "--by-service")
    assert result.returncode == 0, result.stderr
    # ALL: QN_TC 2/2, QN_TT 2/2, QN_CC 1/2, QN_KQ 1/1, QN_PA 1/1 → (100 + 100 + 50 + 100 + 100)/5 = 90.00
    assert "quay-nhanh v1, ALL: 90.00 %" in result.stdout and "86 %: insufficient" in result.stdout
    rows = list(csv.DictReader(io.StringIO((out / "satisfaction.csv").read_text(encoding="utf-8-sig"))))
    assert list(rows[0])[-2:] == ["status_86", "status_90"]
    assert [(r["agency_code"], r["service_code"]) for r in rows if r["level"] == "overall"] == [
        ("ALL", "ALL"),
        ("ALL", "S1"),
        ("ALL", "NONE"),
        ("HN", "ALL"),
        ("HN", "S1"),
        ("HN", "NONE"),
        ("W1", "ALL"),
        ("W1", "S1"),
        ("W2", "ALL"),
        ("W2", "NONE"),
    ]
    assert {r["agency_name"] for r in rows if r["agency_code"] == "W1"} == {"'-Phường Một"}
    assert load_workbook(out / "satisfaction.xlsx").sheetnames[0] == "Ghi chú"


def test_command_rejects_bad_input(tmp_path):
    path, _ = export(tmp_path)
    bad_month = run(path, "--month", "2026-13", "--out", tmp_path / "out")
    assert bad_month.returncode == 2 and "YYYY-MM" in bad_month.stderr and "Traceback" not in bad_month.stderr
    missing = run(tmp_path / "nope.csv", "--month", "2026-01", "--out", tmp_path / "out")
    assert missing.returncode == 2 and "no such file" in missing.stderr and "Traceback" not in missing.stderr


def test_bad_cells_and_unknown_versions_are_clear_errors(tmp_path, capsys):
    path, _ = export(tmp_path, [ROWS[0].replace(",5,4,3,", ",5,four,3,")])
    assert main([str(path), "--month", "2026-01", "--out", str(tmp_path / "o")]) == 2
    assert "data row 1: QN_TT 'four' is not a whole number" in capsys.readouterr().err
    path, _ = export(tmp_path, [ROWS[0].replace("quay-nhanh,1", "quay-nhanh,7")])
    assert main([str(path), "--month", "2026-01", "--out", str(tmp_path / "o")]) == 2
    assert "no definition for quay-nhanh version 7" in capsys.readouterr().err
    path, _ = export(tmp_path)
    assert main([str(path), "--month", "2026-01", "--out", str(tmp_path / "o"), "--agency", "NOPE"]) == 2
    assert "unknown agency" in capsys.readouterr().err
