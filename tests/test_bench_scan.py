"""Tests for rnn_lib.bench's chapter-10 timing (loop against scan): its rows and
its command line, not the timings themselves."""

import json
import subprocess
import sys

import pytest

from rnn_lib import bench


def test_scan_timings_rows():
    rows = bench.scan_timings(
        lengths=(3, 8), sizes=((2, 4),), repeats=2, warmup=1, timer="cpu"
    )
    assert [(r["L"], r["mode"]) for r in rows] == [
        (3, "forward"),
        (3, "forward+backward"),
        (8, "forward"),
        (8, "forward+backward"),
    ]
    for row in rows:
        assert (row["N"], row["H"]) == (2, 4)
        assert row["loop_ms"] > 0 and row["scan_ms"] > 0
        assert row["speedup"] == pytest.approx(row["loop_ms"] / row["scan_ms"])
    assert "loop / scan" in bench.format_scan_table(rows)


def test_scan_timings_check_their_arguments():
    with pytest.raises(
        ValueError, match=r"mode must be 'forward' or 'forward\+backward'"
    ):
        bench.scan_timings(modes=("inference",))
    with pytest.raises(ValueError, match=r"timer must be 'wall' or 'cpu', got 'gpu'"):
        bench.scan_timings(timer="gpu")


def test_the_command_line_writes_the_scan_table(tmp_path):
    path = tmp_path / "scan.json"
    result = subprocess.run(
        [sys.executable, "-m", "rnn_lib.bench", "--scan", "--quick", "--device", "cpu",
         "--repeats", "2", "--warmup", "1", "--threads", "1", "--json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )  # fmt: skip
    assert "loop / scan" in result.stdout
    report = json.loads(path.read_text())
    assert [(r["L"], r["N"], r["H"]) for r in report["cpu"]] == [
        (4, 2, 4),
        (4, 2, 4),
        (16, 2, 4),
        (16, 2, 4),
    ]
