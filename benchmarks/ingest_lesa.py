"""Ingest of ICE ERO-LESA releases against a bare read of the same file, in the same run.

    python benchmarks/ingest_lesa.py [--csv-rows 1000000] [--xlsx-rows 200000] [--backend sqlite|postgresql]

Generates SYNTHETIC releases in the real layout (title rows, the 65 columns,
redaction markers, a footer), then for each file times (1) the bare read — every
cell read by the same library the reader uses (csv module, python-calamine) and
nothing else — and (2) `detainers ingest ice-lesa`: read, clean, check, write,
derive. Prints rows/s, the ratio ingest / bare read, and peak memory of the
ingest (a child process per file, so each figure is its own).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from detainers.national import LESA_FOOTER, LESA_HEADER, LESA_TITLE, lesa_rows, write_national_lesa

# The release itself comes from the national generator: same counties, volumes, seasons and outcome
# mixes as `detainers synthetic`, written in the real layout.


def write_csv(path: Path, n: int, seed: int = 7) -> None:
    write_national_lesa(path, detainers=n, seed=seed)


def write_xlsx(path: Path, n: int, seed: int = 7) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Detainers")
    for t in LESA_TITLE:
        ws.append([t])
    ws.append(LESA_HEADER)
    for row in lesa_rows(n, seed, excel=True):
        ws.append([None if v == "" else v for v in row])
    ws.append([])
    ws.append([LESA_FOOTER])
    wb.save(path)


def bare_read(path: Path) -> int:
    count = 0
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            for _ in csv.reader(handle):
                count += 1
    else:
        from python_calamine import CalamineWorkbook

        for _ in CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).iter_rows():
            count += 1
    return count


CHILD = """
import json, resource, sys, time
from pathlib import Path
from detainers.ingest.load import ingest
from detainers.store.db import open_store
engine = open_store(sys.argv[2])
t = time.perf_counter()
result = ingest(engine, "ice-lesa", Path(sys.argv[1]))
print(json.dumps({"seconds": time.perf_counter() - t, "records": result.records,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def timed_ingest(path: Path, url: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), url], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def pg_url(name: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=200_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = []
        if args.csv_rows:
            files.append((work / "lesa.csv", args.csv_rows, write_csv))
        if args.xlsx_rows:
            files.append((work / "lesa.xlsx", args.xlsx_rows, write_xlsx))
        for path, n, writer in files:
            t = time.perf_counter()
            writer(path, n)
            made = time.perf_counter() - t
            t = time.perf_counter()
            bare_read(path)
            bare = time.perf_counter() - t
            url = f"sqlite:///{work / (path.stem + '.db')}" if args.backend == "sqlite" else pg_url(f"bench_{path.stem}")
            got = timed_ingest(path, url)
            results.append({"file": path.name, "rows": n, "bytes": path.stat().st_size, "generate_s": made,
                            "bare_read_s": bare, "ingest_s": got["seconds"], "ratio": got["seconds"] / bare,
                            "ingest_peak_mb": got["peak_mb"], "backend": args.backend})
    print(f"{'file':10} {'rows':>10} {'MB':>7} {'bare read s':>12} {'ingest s':>9} {'rows/s':>9} {'ratio':>6} "
          f"{'peak MB':>8}  (SYNTHETIC data, {args.backend})")
    for r in results:
        print(f"{r['file']:10} {r['rows']:>10,} {r['bytes'] / 1e6:>7.0f} {r['bare_read_s']:>12.1f} "
              f"{r['ingest_s']:>9.1f} {r['rows'] / r['ingest_s']:>9,.0f} {r['ratio']:>6.1f} {r['ingest_peak_mb']:>8.0f}")
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "ingest_lesa.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
