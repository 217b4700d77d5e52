"""benchmarks/run.py runs end to end on tiny sizes: every step is in its JSON, and the DuckDB baseline
computes the same numbers as the project's analytics; a size built from parts (as 5M is) imports them one
after another into one database, and --merge keeps the other sizes in RESULTS.md. No timings are checked:
this is not a benchmark."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("polars")
pytest.importorskip("duckdb")


def _run(*args: str) -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--backend", "sqlite",
                           "--no-api", *args], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def _agree(size: dict, backend: dict) -> None:
    for query in ("noncooperative", "stats", "declined"):
        ours, duck = backend["queries"][query], size["duckdb"][query]
        assert ours["cold_s"] > 0 and ours["warm_s"] > 0 and duck["warm_s"] > 0
        assert ours["agreement"]["compared"] > 0
        assert ours["agreement"]["agree"], ours["agreement"]
    assert backend["queries"]["stats"]["agreement"]["compared"] > 10


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    """One run of 2000 detainers: one package, and the LESA ingest."""
    tmp = tmp_path_factory.mktemp("bench")
    out, md = tmp / "out", tmp / "RESULTS.md"
    _run("--size", "2000", "--out-dir", str(out), "--results-dir", str(out), "--results-md", str(md))
    [path] = out.glob("results-*.json")
    return out, md, json.loads(path.read_text())


def test_run_quick_end_to_end(single):
    _, md, results = single
    assert results["failures"] == []
    [size] = results["sizes"]
    assert size["data"]["detainers"] == 2000
    assert size["polars"]["package_rows"] > 0 and size["polars"]["lesa_rows"] > 0
    assert size["duckdb_load"]["detainers"] == 2000
    backend = size["backends"]["sqlite"]
    for step in ("import", "ingest"):
        assert backend[step]["seconds"] > 0 and backend[step]["peak_mb"] > 0
    _agree(size, backend)
    steps = {row["what"] for row in results["table"]}
    assert {"import package", "ingest LESA csv"} <= steps
    assert any(g["goal"].startswith("stats warm") for g in results["goals"])
    text = md.read_text()
    assert "## Headline" in text and "## Goals" in text and "cores" in text


def test_parts_and_merge(single):
    """3000 detainers from three parts of 1000 (as 5M is built from five of 1M), merged with the 2000 run."""
    out, md, _ = single
    _run("--size", "3000", "--part-size", "1000", "--merge", "--out-dir", str(out), "--results-dir", str(out),
         "--results-md", str(md))
    [path] = [p for p in out.glob("results-*.json") if json.loads(p.read_text())["sizes"][0]["size"] == "3k"]
    results = json.loads(path.read_text())
    assert results["failures"] == []
    [size] = results["sizes"]
    assert size["data"]["detainers"] == 3000 and len(size["data"]["parts"]) == 3
    assert size["duckdb_load"]["detainers"] == 3000
    backend = size["backends"]["sqlite"]
    assert [p["part"] for p in backend["import"]["parts"]] == [1, 2, 3]
    assert backend["import"]["seconds"] > 0 and backend["import"]["peak_mb"] > 0
    # the LESA csv of a size built from parts is one file of the whole size
    assert size["data"]["lesa_rows"] == 3000 and size["polars"]["lesa_rows"] >= 3000  # polars keeps the footer rows
    assert backend["ingest"]["records"] == 3000 and backend["ingest"]["peak_mb"] > 0
    _agree(size, backend)
    steps = {row["what"] for row in results["table"]}
    assert "import package part 3/3 (1k, into the same database)" in steps
    text = md.read_text()  # both sizes: --merge kept the 2000 run
    assert "| 2k | sqlite | import package |" in text and "| 3k | sqlite | import package (all 3 parts) |" in text
    assert "| 3k | sqlite | ingest LESA csv |" in text
