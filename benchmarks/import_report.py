"""Import and report timings on a generated package, against a bare read of the same files.

    python benchmarks/import_report.py [--scale 100000] [--backend sqlite] [--backend postgresql]

Prints one table. The baseline, measured in the same run, is reading every CSV of
the package with Python's csv module and doing nothing else; the headline is how
many times that an import takes. Results also go to benchmarks/out/import_report.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import resource
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text

from detainers.analytics.stats import OutcomeQuery, outcome_stats
from detainers.datapackage.importer import import_package
from detainers.demo import write_demo_package
from detainers.reports.noncooperative import NonCooperativeQuery, build
from detainers.reports.render import render
from detainers.store.db import open_store

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def bare_read(package: Path) -> int:
    rows = 0
    for path in sorted(package.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows += sum(1 for _ in csv.reader(handle))
    return rows


def database(backend: str, workdir: Path):
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}", None
    name = f"detainers_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", (admin, name)


def drop(cleanup) -> None:
    if cleanup:
        admin, name = cleanup
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run(scale: int, backends: list[str]) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        package = workdir / "package"
        gen_s, facts = timed(lambda: write_demo_package(package, scale=scale))
        detainer_rows = facts.rows["detainers.csv"]
        read_s, total_rows = timed(lambda: bare_read(package))
        results.append({"step": "generate package", "backend": "-", "seconds": gen_s, "rows": total_rows})
        results.append({"step": "bare csv read (baseline)", "backend": "-", "seconds": read_s, "rows": total_rows})
        for backend in backends:
            url, cleanup = database(backend, workdir)
            try:
                engine = open_store(url)
                import_s, _ = timed(lambda: import_package(engine, package))
                again_s, _ = timed(lambda: import_package(engine, package))
                with engine.begin() as conn:
                    report_s, report = timed(lambda: build(conn, NonCooperativeQuery(date(2019, 11, 1))))
                    render_s, _ = timed(lambda: [render(report, f) for f in ("md", "json", "csv", "html")])
                    stats_s, _ = timed(lambda: outcome_stats(conn, OutcomeQuery(by=("jurisdiction", "fy"))))
                engine.dispose()
            finally:
                drop(cleanup)
            results += [
                {"step": "import (validate + write + derive)", "backend": backend, "seconds": import_s,
                 "rows": total_rows, "vs_baseline": import_s / read_s},
                {"step": "re-import same package (no-op)", "backend": backend, "seconds": again_s},
                {"step": "non-cooperative report, one day", "backend": backend, "seconds": report_s},
                {"step": "render md+json+csv+html", "backend": backend, "seconds": render_s},
                {"step": "stats by jurisdiction x FY", "backend": backend, "seconds": stats_s},
            ]
        for r in results:
            r["detainers"] = detainer_rows
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=100_000, help="extra synthetic detainers (default 100000)")
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    backends = args.backend or ["sqlite", "postgresql"]
    results = run(args.scale, backends)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"detainers benchmark — {results[0]['detainers']} detainers (SYNTHETIC), "
          f"{platform.machine()} {platform.python_version()}, peak memory {peak_mb:.0f} MB")
    print(f"{'step':38} {'backend':10} {'seconds':>9} {'rows/s':>10} {'x baseline':>10}")
    for r in results:
        rate = f"{r['rows'] / r['seconds']:,.0f}" if r.get("rows") else ""
        ratio = f"{r['vs_baseline']:.1f}" if "vs_baseline" in r else ""
        print(f"{r['step']:38} {r['backend']:10} {r['seconds']:9.2f} {rate:>10} {ratio:>10}")
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "import_report.json").write_text(json.dumps({"peak_mb": peak_mb, "results": results}, indent=2))
    sys.exit(0)


if __name__ == "__main__":
    main()
