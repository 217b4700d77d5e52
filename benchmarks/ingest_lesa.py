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
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

HEADER = ["Detainer Prepare Date", "Facility State", "Facility AOR", "Port of Departure", "Departure Country",
          "Departed Date", "Case Status", "Detainer Prepared Criminality", "Detention Facility",
          "Detention Facility Code", "Facility City", "Detainer Prep Threat Level", "Gender", "Citizenship Country",
          "Birth Country", "Birth Date", "Birth Year", "Entry Status", "Most Serious Conviction (MSC) Charge",
          "MSC Sentence Days", "MSC Sentence Months", "MSC Sentence Years", "MSC Charge Code", "MSC Charge Date",
          "MSC Conviction Date", "Felon", "Processing Disposition", "Case Category", "Final Program",
          "Time of Apprehension Case Category", "Time of Apprehension Current Program", "Apprehension Method",
          "Case Final Order Yes No", "Final Order Date", "Apprehension Date", "Entry Date", "Prior Felony Yes No",
          "Multiple Prior MISD Yes No", "Violent Misdemeanor Yes No", "Illegal Entry Yes No",
          "Illegal Reentry Yes No", "Immigration Fraud Yes No", "Significant Risk Yes No",
          "Other Removal Reason Yes No", "Other Removal Reason", "Criminal Street Gang Yes No",
          "Aggravated Felony Yes No", "Deportation Ordered Yes No", "Order to Show Cause Served Yes No",
          "Order to Show Cause Served Date", "Biometric Match Yes No", "Statements Made Yes No",
          "Unlawful Attempt Yes No", "Unlawful Entry Yes No", "Visa Yes No", "Final Order Yes No",
          "Federal Interest Yes No", "Resume Custody Yes No", "Detainer Lift Reason", "Detainer Type",
          "Alien File Number", "EID Case ID", "EID Subject ID", "EID DTA ID", "Unique Identifier"]
REDACTED = "(b)(6), (b)(7)(c)"
FACILITIES = [(f"FAC{i:04d}", f"SYNTHETIC COUNTY {i} JAIL", f"CITY {i}", st)
              for i, st in enumerate(["NORTH CAROLINA", "TEXAS", "GEORGIA", "FLORIDA", "ARIZONA"] * 60)]
REASONS = ["Booked into Detention", "", "Detainer Declined by LEA", "Lifted", "Case Closed", "Transferred",
           "United States Citizen Interviewed", "Prosecutorial Discretion"]
CHARGES = [("Sex Assault - Child", "1190"), ("Assault", "1399"), ("Dangerous Drugs", "3599"),
           ("Traffic Offense", "5499"), ("Burglary", "2299"), ("", "")]


def rows(n: int, seed: int = 7):
    rng = random.Random(seed)
    start = datetime(2018, 10, 1)
    index = {h: i for i, h in enumerate(HEADER)}
    for k in range(n):
        row = [None] * len(HEADER)
        code, name, city, state = FACILITIES[min(int(rng.paretovariate(1.2)) - 1, len(FACILITIES) - 1)]
        charge, ccode = rng.choice(CHARGES)
        row[index["Detainer Prepare Date"]] = start + timedelta(minutes=rng.randrange(525_600))
        row[index["Facility State"]] = state
        row[index["Detention Facility"]] = name
        row[index["Detention Facility Code"]] = code
        row[index["Facility City"]] = city
        row[index["Detainer Prepared Criminality"]] = rng.choice(["1 Convicted Criminal", "2 Pending Criminal Charges",
                                                                  "3 Other Immigration Violator"])
        row[index["Detainer Prep Threat Level"]] = rng.choice(["1", "2", "3", ""])
        row[index["Gender"]] = rng.choice(["Male", "Female"])
        row[index["Citizenship Country"]] = rng.choice(["MEXICO", "GUATEMALA", "HONDURAS", "EL SALVADOR", "INDIA"])
        row[index["Birth Date"]] = REDACTED
        row[index["Birth Year"]] = rng.randrange(1950, 2004)
        row[index["Most Serious Conviction (MSC) Charge"]] = charge
        row[index["MSC Charge Code"]] = ccode
        row[index["Detainer Lift Reason"]] = rng.choice(REASONS)
        row[index["Detainer Type"]] = "I-247A - Immigration Detainer - Notice of Action"
        for col in ("Alien File Number", "EID Case ID", "EID Subject ID", "EID DTA ID"):
            row[index[col]] = REDACTED
        row[index["Unique Identifier"]] = f"{k:010x}"
        yield row


TITLE = ["U.S. Immigration and Customs Enforcement", "SYNTHETIC BENCHMARK RELEASE — every row is invented", "",
         "Note: fields exempt from disclosure are shown as (b)(6), (b)(7)(c)"]


def write_csv(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        w = csv.writer(handle)
        for t in TITLE:
            w.writerow([t])
        w.writerow(HEADER)
        for row in rows(n):
            row[0] = row[0].strftime("%m/%d/%Y %H:%M")
            w.writerow(["" if v is None else v for v in row])
        w.writerow([])
        w.writerow(["Source: synthetic benchmark data"])


def write_xlsx(path: Path, n: int) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Detainers")
    for t in TITLE:
        ws.append([t])
    ws.append(HEADER)
    for row in rows(n):
        ws.append(row)
    ws.append([])
    ws.append(["Source: synthetic benchmark data"])
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
