"""The benchmark is run by hand; this tiny run proves it still works, with no timing assertion."""

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, synthetic_project
from pg_cluster import find_bin_dir

pytestmark = pytest.mark.version_independent  # see noxfile.py


def test_synthetic_history_matches_its_models_but_for_one_pending_column(tmp_path: Path) -> None:
    project = synthetic_project(tmp_path, 6)

    result = project.invoke("makemigrations", "--check")

    assert result.returncode == 1, result.stderr
    assert result.stdout.split("\n")[:-1] == ["+ column t1.pending"]


def test_benchmark_smoke_run_prints_its_table() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "bench.py"),
            "--sizes",
            "5",
            "--runs",
            "1",
            "--no-warm-up",
            "--output",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| 5 |")]
    assert rows[0].count("×") >= 2
    if find_bin_dir() is not None:  # the PostgreSQL table: the recipe there over the tool cold, warm
        # and on a new server, and warm over the floor, with the models the cache knows, new ones and
        # one model edited; the recipe's migrate step alone over the floor, under warm and the recipe
        assert len(rows) == 2 and rows[1].count("×") == 9, done.stdout
    else:
        assert "PostgreSQL rows skipped" in done.stdout
