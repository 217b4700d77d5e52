"""benchmarks/run.py runs end to end on a tiny size: every step is in its JSON, and the DuckDB baseline
computes the same numbers as the project's analytics. No timings are checked: this is not a benchmark."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

import polars  # noqa: F401  (dev dependency: the benchmark baselines)
import duckdb  # noqa: F401


def test_run_quick_end_to_end(tmp_path):
    out = tmp_path / "out"
    md = tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--size", "2000", "--backend", "sqlite",
         "--no-api", "--out-dir", str(out), "--results-md", str(md)],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    [path] = out.glob("results-*.json")
    results = json.loads(path.read_text())
    assert results["failures"] == []
    [size] = results["sizes"]
    assert size["data"]["detainers"] == 2000
    assert size["polars"]["package_rows"] > 0 and size["polars"]["lesa_rows"] > 0
    assert size["duckdb_load"]["detainers"] == 2000
    backend = size["backends"]["sqlite"]
    for step in ("import", "ingest"):
        assert backend[step]["seconds"] > 0 and backend[step]["peak_mb"] > 0
    for query in ("noncooperative", "stats", "declined"):
        ours, duck = backend["queries"][query], size["duckdb"][query]
        assert ours["cold_s"] > 0 and ours["warm_s"] > 0 and duck["warm_s"] > 0
        assert ours["agreement"]["compared"] > 0
        assert ours["agreement"]["agree"], ours["agreement"]
    assert backend["queries"]["stats"]["agreement"]["compared"] > 10
    steps = {row["what"] for row in results["table"]}
    assert {"import package", "ingest LESA csv"} <= steps
    assert any(g["goal"].startswith("stats warm") for g in results["goals"])
    text = md.read_text()
    assert "## Headline" in text and "## Goals" in text and "cores" in text
