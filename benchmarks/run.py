"""The whole benchmark suite from one command: import, ingest, queries and the API, each against a baseline.

    python benchmarks/run.py [--size 100k|1M|5M|N ...] [--backend sqlite|postgresql ...]
                             [--quick] [--no-api] [--merge] [--out-dir DIR] [--results-dir DIR]
                             [--results-md FILE]

Default: sizes 100k and 1M, both backends (`make bench`); `make bench-5m` runs 5M; `make bench-quick`
runs 100k only with shorter API runs. A size above 1M is built from 1M parts (`write_national_package(...,
part=k)`) imported one after another into the same database (one package is held in memory whole by
`detainers import`); its LESA ingest is not run. For each size (SYNTHETIC data from `detainers.national`,
seed 2012, FY2012–FY2025):

- generate a canonical data package and an ICE LESA csv with that many detainers (cached in
  DIR/data, reused when present);
- baselines, measured in the same run: the bare read of the same files with polars, and the three
  aggregates as hand-written DuckDB SQL over the same CSVs (loaded once into a DuckDB file);
- for each backend: import the package into a fresh database and ingest the LESA csv into another
  (rows/s and the peak RSS of the step's process); the three queries through the project's own
  report and analytics functions, cold (first call in a fresh process) and warm (median of 3-5
  calls in that process); `detainers serve` on the imported database: for each endpoint (two
  dashboard stats questions, the full stats table, the non-cooperative report) its first answer
  alone, then `wrk` (its latency distribution at its maximum throughput with 2 connections); and a
  fixed 100 requests/s open-loop client of our own on the two dashboard questions (latency counted
  from when each request was due, as wrk2 does), each started once the server is idle again.

Every step runs in its own process, so peak memory is that step's alone and "cold" is honest
about the process (not about the OS page cache or PostgreSQL's shared buffers, which are left as
they are). Prints a table, writes benchmarks/results/results-<date>.json (kept in git, so that any
checkout can show and merge earlier runs) and regenerates benchmarks/RESULTS.md (with --merge, from
the latest run of each size in that folder).
The headline of each row is its ratio to the baseline. It exits 0 unless a step failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PG_ADMIN = os.environ.get("DETAINERS_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SEED = 2012
OUTCOMES = ("honored", "declined", "transferred", "lifted", "cancelled", "in_custody", "unknown")
QUERIES = ("noncooperative", "stats", "declined")
QUERY_TITLES = {
    "noncooperative": "non-cooperative report, all jurisdictions, one day",
    "stats": "outcome stats, jurisdiction x FY (all)",
    "declined": "declined report, largest jurisdiction, one FY",
}
# The API: what a dashboard asks (the first two), the whole stats table (for throughput) and one report.
API_TITLES = {
    "stats_fy": "stats one FY (every jurisdiction, last complete FY)",
    "stats_jurisdiction": "stats one jurisdiction (the largest, every FY)",
    "stats_all": "stats everything (the full jurisdiction x FY table)",
    "noncooperative": "non-cooperative report, one day",
}
API_BASELINE = {"stats_fy": "stats_fy", "stats_jurisdiction": "stats_jurisdiction", "stats_all": "stats",
                "noncooperative": "noncooperative"}   # the DuckDB query each endpoint is compared with
DUCK_API_QUERIES = ("stats_fy", "stats_jurisdiction")  # DuckDB queries run only as API baselines
FIXED_RATE_ON = ("stats_fy", "stats_jurisdiction")     # the open-loop 100 requests/s client
GOAL_P99_ON = "stats_fy"                                # the heavier of the two, judged against the goal
PART_SIZE = 1_000_000   # a larger size is built from parts of this many detainers, imported one after another
INGEST_SKIPPED = "not run at {size}: its LESA csv could not be generated"

# Goals (issue 7).
GOAL_LOAD_S = 60.0          # import / ingest of 1M detainers
GOAL_QUERY_S = 1.0          # each query warm at 5M ...
GOAL_QUERY_RATIO = 5.0      # ... and within 5x of the DuckDB baseline
GOAL_P99_MS = 100.0         # stats endpoint p99 at 100 requests/s
GOAL_RATE = 100.0
GOAL_MEMORY_GROWTH = 1.5    # ingest peak RSS at the larger size / at the smaller size


# ============================================================================ child steps
# Each runs in its own process: `run.py --child STEP ARGS.json OUT.json`. They write their result to
# OUT.json, with `peak_mb`: the process's own maximum RSS plus the largest of its child processes' (a
# large ICE release is read in a process of its own while this one writes, so both peaks count).


def _peak_mb() -> float:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024


def child_generate(a: dict) -> dict:
    """The canonical data package and the ICE LESA csv for one size (SYNTHETIC, `detainers.national`)."""
    from detainers.national import write_national_lesa, write_national_package

    pkg, n, part = Path(a["package"]), a["detainers"], a.get("part", 1)
    t = time.perf_counter()
    facts = write_national_package(pkg, detainers=n, seed=a["seed"], part=part)
    pkg_s = time.perf_counter() - t
    out = {"generator": "detainers.national", "part": part, "detainers": facts.detainers, "rows": dict(facts.rows),
           "jurisdictions": facts.jurisdictions, "largest_jurisdiction": facts.largest_jurisdiction,
           "as_of": facts.as_of.isoformat(), "package_s": pkg_s,
           "package_bytes": sum(p.stat().st_size for p in pkg.glob("*.csv"))}
    if a.get("lesa"):  # the parts of a size built from parts have no LESA csv (it is not ingested)
        lesa = Path(a["lesa"])
        t = time.perf_counter()
        out["lesa_rows"] = write_national_lesa(lesa, detainers=n, seed=a["seed"])
        out["lesa_s"] = time.perf_counter() - t
        out["lesa_bytes"] = lesa.stat().st_size
    return out


def child_generate_lesa(a: dict) -> dict:
    """The ICE LESA csv alone, for a size whose package is built from parts (the csv is written as a stream,
    at any size, and ingested in chunks)."""
    from detainers.national import write_national_lesa

    lesa = Path(a["lesa"])
    t = time.perf_counter()
    rows = write_national_lesa(lesa, detainers=a["detainers"], seed=a["seed"])
    return {"lesa_rows": rows, "lesa_s": time.perf_counter() - t, "lesa_bytes": lesa.stat().st_size}


def _lesa_header_line(path: Path) -> int:
    with path.open(encoding="utf-8", errors="replace") as f:
        for i, line in enumerate(f):
            if "Detainer Prepare Date" in line:
                return i
            if i > 50:
                break
    return 0


def child_polars(a: dict) -> dict:
    """Baseline: the bare read of every CSV of the package (of every part's package, one after another),
    and of the LESA csv, with polars."""
    import polars as pl

    out = {"polars": pl.__version__, "files": {}, "parts": []}
    t0 = time.perf_counter()
    rows = 0
    for i, package in enumerate(a["packages"]):
        tp = time.perf_counter()
        for path in sorted(Path(package).glob("*.csv")):
            t = time.perf_counter()
            frame = pl.read_csv(path, infer_schema_length=10_000)
            key = path.name if len(a["packages"]) == 1 else f"part{i + 1}/{path.name}"
            out["files"][key] = {"rows": frame.height, "seconds": time.perf_counter() - t}
            rows += frame.height
            del frame
        out["parts"].append(time.perf_counter() - tp)
    out["package_s"] = time.perf_counter() - t0
    out["package_rows"] = rows
    if a.get("lesa"):
        lesa = Path(a["lesa"])
        t = time.perf_counter()
        frame = pl.read_csv(lesa, skip_rows=_lesa_header_line(lesa), infer_schema=False,
                            truncate_ragged_lines=True)
        out["lesa_s"] = time.perf_counter() - t
        out["lesa_rows"] = frame.height
    return out


def _columns(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return f.readline().strip().lstrip("\ufeff").split(",")


def _csv(pkgs: list[Path], name: str) -> str:
    files = ", ".join(f"'{p / name}'" for p in pkgs)
    return f"read_csv([{files}], header=true, all_varchar=true)"


# Every part of a size built from parts repeats the same counties, facilities and policies (the same
# seed); only these files hold each part's own rows.
PER_PART = ("people.csv", "bookings.csv", "detainers.csv", "charges.csv")


def _col(have: list[str], name: str, cast: str | None = None) -> str:
    if name not in have:
        return f"NULL::{cast or 'VARCHAR'} AS {name}"
    value = f"NULLIF(trim({name}), '')"
    return f"CAST({value} AS {cast}) AS {name}" if cast else f"{value} AS {name}"


def child_duckdb_load(a: dict) -> dict:
    """Baseline set-up: the package's CSVs into a DuckDB file, with the lifecycle rules as SQL."""
    import duckdb

    from detainers import lift_reasons

    pkgs, path = [Path(p) for p in a["packages"]], Path(a["duckdb"])
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    t = time.perf_counter()
    specs = {
        "jurisdictions.csv": ("j", [("jurisdiction_id", None), ("name", None), ("state", None)]),
        "facilities.csv": ("f", [("facility_id", None), ("jurisdiction_id", None)]),
        "policies.csv": ("p", [("jurisdiction_id", None), ("effective_from", "DATE"), ("effective_to", "DATE"),
                               ("stance", None)]),
        "people.csv": ("pe", [("person_id", None), ("citizenship", None)]),
        "bookings.csv": ("b", [("booking_id", None), ("person_id", None), ("facility_id", None),
                               ("booked_on", "DATE"), ("released_on", "DATE"), ("release_reason", None)]),
        "detainers.csv": ("d", [("detainer_id", None), ("person_id", None), ("facility_id", None),
                                ("lodged_on", "DATE"), ("booking_id", None), ("lifted_on", "DATE"),
                                ("lift_reason", None)]),
        "charges.csv": ("c", [("charge_id", None), ("booking_id", None), ("detainer_id", None)]),
    }
    for name, (table, cols) in specs.items():
        have = _columns(pkgs[0] / name)
        select = ", ".join(_col(have, c, cast) for c, cast in cols)
        files = pkgs if name in PER_PART else pkgs[:1]
        con.execute(f"CREATE TABLE {table} AS SELECT {select} FROM {_csv(files, name)}")
    con.execute("CREATE TABLE lr (reason VARCHAR, means VARCHAR)")
    con.executemany("INSERT INTO lr VALUES (?, ?)", list(lift_reasons.active_table().items()))
    read_s = time.perf_counter() - t
    t = time.perf_counter()
    con.execute(DERIVE_SQL)
    derive_s = time.perf_counter() - t
    n = con.execute("SELECT count(*) FROM der").fetchone()[0]
    largest = con.execute("SELECT f.jurisdiction_id FROM der JOIN f USING (facility_id) "
                          "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()
    con.close()
    return {"duckdb": duckdb.__version__, "load_s": read_s, "derive_s": derive_s, "seconds": read_s + derive_s,
            "detainers": n, "largest_jurisdiction": largest[0] if largest else None}


# The lifecycle rules of DESIGN §4 (detainers/outcomes.py), hand-written for DuckDB.
DERIVE_SQL = """
CREATE TABLE der AS
WITH dm AS (
  SELECT d.*, CASE WHEN d.lift_reason IS NULL THEN NULL ELSE coalesce(lr.means, 'unmapped') END AS means
  FROM d LEFT JOIN lr ON lr.reason = lower(trim(regexp_replace(replace(d.lift_reason, chr(160), ' '),
                                                              '\\s+', ' ', 'g'), ' .'))
), matched AS (
  SELECT d.detainer_id, arg_max(b.booking_id, b.booked_on) AS booking_id
  FROM d JOIN b ON b.person_id = d.person_id AND b.facility_id = d.facility_id AND b.booked_on <= d.lodged_on
                AND (b.released_on IS NULL OR d.lodged_on <= b.released_on)
  WHERE d.booking_id IS NULL
  GROUP BY d.detainer_id
), linked AS (
  SELECT dm.*, coalesce(dm.booking_id, m.booking_id) AS link FROM dm LEFT JOIN matched m USING (detainer_id)
), j AS (
  SELECT l.*, b.booking_id AS found, b.released_on, b.release_reason,
         coalesce(l.means IN ('honored', 'declined', 'transferred'), false) AS ice_side
  FROM linked l LEFT JOIN b ON b.booking_id = l.link
), o AS (
  SELECT detainer_id, person_id, facility_id, lodged_on, coalesce(found, booking_id) AS booking_id,
    CASE
      WHEN lifted_on IS NOT NULL AND NOT ice_side AND (released_on IS NULL OR lifted_on <= released_on)
        THEN CASE WHEN means = 'cancelled' THEN 'cancelled' ELSE 'lifted' END
      WHEN found IS NOT NULL AND released_on IS NOT NULL
        THEN CASE release_reason WHEN 'to_ice' THEN 'honored' WHEN 'to_other_custody' THEN 'transferred'
             WHEN 'bond' THEN 'declined' WHEN 'sentence_served' THEN 'declined' WHEN 'dismissed' THEN 'declined'
             WHEN 'recognizance' THEN 'declined' WHEN 'other_release' THEN 'declined' ELSE 'unknown' END
      WHEN found IS NOT NULL THEN 'in_custody'
      WHEN ice_side OR means IN ('lifted', 'cancelled') THEN means
      ELSE 'unknown' END AS outcome,
    CASE
      WHEN lifted_on IS NOT NULL AND NOT ice_side AND (released_on IS NULL OR lifted_on <= released_on) THEN lifted_on
      WHEN found IS NOT NULL AND released_on IS NOT NULL THEN released_on
      WHEN found IS NOT NULL THEN NULL
      WHEN ice_side OR means IN ('lifted', 'cancelled') THEN lifted_on
      ELSE NULL END AS ended_on
  FROM j
)
SELECT *, year(lodged_on) + (month(lodged_on) >= 10)::INT AS lodged_fy,
       year(ended_on) + (month(ended_on) >= 10)::INT AS ended_fy
FROM o
"""

DUCK_QUERIES = {
    "stats": """
        SELECT f.jurisdiction_id, j.name, j.state, der.lodged_fy AS fy, count(*) AS lodged,
               {outcomes}
        FROM der JOIN f ON f.facility_id = der.facility_id LEFT JOIN j ON j.jurisdiction_id = f.jurisdiction_id
        WHERE der.lodged_on IS NOT NULL
        GROUP BY ALL ORDER BY 1, 4""",
    # The API's two dashboard questions (baselines of their endpoints only): every jurisdiction over one
    # fiscal year, and one jurisdiction by fiscal year.
    "stats_fy": """
        SELECT f.jurisdiction_id, count(*) AS lodged, {outcomes}
        FROM der JOIN f ON f.facility_id = der.facility_id
        WHERE der.lodged_on BETWEEN $first AND $last
        GROUP BY ALL ORDER BY 1""",
    "stats_jurisdiction": """
        SELECT der.lodged_fy AS fy, count(*) AS lodged, {outcomes}
        FROM der JOIN f ON f.facility_id = der.facility_id
        WHERE f.jurisdiction_id = $jid AND der.lodged_on IS NOT NULL
        GROUP BY ALL ORDER BY 1""",
    "noncooperative": """
        WITH dj AS (
          SELECT p.jurisdiction_id FROM p
          WHERE p.effective_from <= $day AND (p.effective_to IS NULL OR p.effective_to > $day)
            AND p.stance = 'declines'
        ), held AS (
          SELECT f.jurisdiction_id, der.person_id, min(b.booking_id) AS booking_id, count(*) AS detainers
          FROM der JOIN b ON b.booking_id = der.booking_id JOIN f ON f.facility_id = b.facility_id
               JOIN pe ON pe.person_id = der.person_id
          WHERE f.jurisdiction_id IN (SELECT jurisdiction_id FROM dj) AND der.lodged_on <= $day
            AND (der.ended_on IS NULL OR der.ended_on > $day) AND b.booked_on <= $day
            AND (b.released_on IS NULL OR b.released_on > $day)
          GROUP BY 1, 2
        )
        SELECT h.jurisdiction_id, count(DISTINCT h.person_id) AS people, count(c.charge_id) AS charges
        FROM held h LEFT JOIN c ON c.booking_id = h.booking_id
        GROUP BY 1 ORDER BY 1""",
    "declined": """
        WITH x AS (
          SELECT der.* FROM der JOIN f ON f.facility_id = der.facility_id WHERE f.jurisdiction_id = $jid
        ), listed AS (
          SELECT detainer_id, booking_id FROM x WHERE outcome = 'declined' AND ended_on BETWEEN $first AND $last
        )
        SELECT count(*) FILTER (WHERE lodged_on BETWEEN $first AND $last) AS issued,
               {ended},
               (SELECT count(*) FROM c WHERE c.detainer_id IN (SELECT detainer_id FROM listed)
                                          OR c.booking_id IN (SELECT booking_id FROM listed)) AS declined_charges
        FROM x""",
}


def _duck_sql(name: str) -> str:
    sql = DUCK_QUERIES[name]
    if name.startswith("stats"):
        return sql.format(outcomes=", ".join(f"count(*) FILTER (WHERE outcome = '{o}') AS {o}" for o in OUTCOMES))
    if name == "declined":
        return sql.format(ended=", ".join(
            f"count(*) FILTER (WHERE outcome = '{o}' AND ended_on BETWEEN $first AND $last) AS {o}"
            for o in OUTCOMES if o != "in_custody"))
    return sql


def _repeat(fn, warm: int, budget_s: float) -> tuple[float, list[float], object]:
    """(cold seconds, warm seconds, first value): the first call, then up to `warm` more within the budget."""
    t = time.perf_counter()
    value = fn()
    cold = time.perf_counter() - t
    times: list[float] = []
    spent = 0.0
    while len(times) < warm and (len(times) < 3 or spent < budget_s):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        spent += times[-1]
    return cold, times, value


def child_duckdb_query(a: dict) -> dict:
    import duckdb

    con = duckdb.connect(a["duckdb"], read_only=True)
    first, last = date.fromisoformat(a["first"]), date.fromisoformat(a["last"])
    params = {"noncooperative": {"day": date.fromisoformat(a["as_of"])},
              "stats": {},
              "stats_fy": {"first": first, "last": last},
              "stats_jurisdiction": {"jid": a["jurisdiction"]},
              "declined": {"jid": a["jurisdiction"], "first": first, "last": last}}[a["query"]]
    sql = _duck_sql(a["query"])
    cold, warm, rows = _repeat(lambda: con.execute(sql, params).fetchall(), a["warm"], a["budget_s"])
    cols = [d[0] for d in con.description]
    con.close()
    answer = _answer(a["query"], [dict(zip(cols, r)) for r in rows])
    Path(a["answer"]).write_text(json.dumps(answer, default=str))
    return {"cold_s": cold, "warm_s": statistics.median(warm), "warm_runs": warm}


def _answer(query: str, rows) -> dict:
    """The numbers the analytics and DuckDB answers are compared on."""
    if query.startswith("stats"):  # keyed by the row's jurisdiction and/or FY, whichever it has
        return {f"{r.get('jurisdiction_id', '*')}|{r.get('fy', '*')}":
                [_count(r["lodged"])] + [_count(r.get(o)) for o in OUTCOMES] for r in rows}
    if query == "noncooperative":
        return {"people": sum(int(r["people"]) for r in rows),
                "jurisdictions": sum(1 for r in rows if int(r["people"]))}
    row = rows[0]
    return {k: int(row[k] or 0) for k in ("issued", *(o for o in OUTCOMES if o != "in_custody"))}


def _count(x):
    """A count as an int; a count the public audience suppresses (e.g. "<5") stays as it is."""
    return x if isinstance(x, str) else int(x or 0)


def child_import(a: dict) -> dict:
    from detainers.datapackage.importer import import_package
    from detainers.store.db import open_store

    engine = open_store(a["url"])
    t = time.perf_counter()
    result = import_package(engine, Path(a["package"]))
    seconds = time.perf_counter() - t
    engine.dispose()
    return {"seconds": seconds, "source_id": result.source_id}


def child_ingest(a: dict) -> dict:
    from detainers.ingest.load import ingest
    from detainers.store.db import open_store

    engine = open_store(a["url"])
    t = time.perf_counter()
    result = ingest(engine, "ice-lesa", Path(a["lesa"]))
    seconds = time.perf_counter() - t
    engine.dispose()
    return {"seconds": seconds, "records": getattr(result, "records", None)}


def child_query(a: dict) -> dict:
    """One query through the project's own functions: cold (first call in this process), then warm."""
    from detainers.analytics.stats import OutcomeQuery, outcome_stats
    from detainers.reports import declined, noncooperative
    from detainers.store.db import make_engine

    engine = make_engine(a["url"])
    query = a["query"]
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1").all()
        if query == "noncooperative":
            q = noncooperative.NonCooperativeQuery(date.fromisoformat(a["as_of"]))
            fn = lambda: noncooperative.build(conn, q)  # noqa: E731
        elif query == "stats":
            q = OutcomeQuery(by=("jurisdiction", "fy"))
            fn = lambda: outcome_stats(conn, q)  # noqa: E731
        else:
            q = declined.DeclinedQuery(date.fromisoformat(a["first"]), date.fromisoformat(a["last"]),
                                       (a["jurisdiction"],))
            fn = lambda: declined.build(conn, q)  # noqa: E731
        if a.get("profile"):
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            cold, warm, value = _repeat(fn, a["warm"], a["budget_s"])
            prof.disable()
            pstats.Stats(prof, stream=open(a["profile"], "w")).sort_stats("cumulative").print_stats(25)
        else:
            cold, warm, value = _repeat(fn, a["warm"], a["budget_s"])
        conn.rollback()
    engine.dispose()
    if query == "stats":
        answer = _answer("stats", value)
    elif query == "noncooperative":
        t = value["totals"]
        answer = {"people": t["people"], "jurisdictions": t["jurisdictions"]}
    else:
        t = value["totals"]
        answer = {k: t[k] for k in ("issued", *(o for o in OUTCOMES if o != "in_custody"))}
    Path(a["answer"]).write_text(json.dumps(answer, default=str))
    return {"cold_s": cold, "warm_s": statistics.median(warm), "warm_runs": warm}


def child_fixed_rate(a: dict) -> dict:
    """An open-loop client: one request every 1/rate s, each timed from when it was due (as wrk2 does).

    Requests still unanswered `grace` s after the last one was due count with the time they had waited
    by then (a lower bound), so a server that cannot keep up shows in the percentiles, not only in a
    count of unfinished requests.
    """
    import asyncio

    import httpx

    rate, duration, url = a["rate"], a["duration"], a["url"]
    total = int(rate * duration)
    latencies: list[float] = []
    errors = {"status": 0, "failed": 0, "unfinished": 0}

    async def one(client, due: float) -> None:
        try:
            r = await client.get(url)
            if r.status_code != 200:
                errors["status"] += 1
            else:
                latencies.append(time.perf_counter() - due)
        except Exception:  # noqa: BLE001 - counted, not raised
            errors["failed"] += 1

    async def main() -> tuple[float, int]:
        # At most 16 requests in flight: past that, requests wait for a connection (and their latency,
        # counted from when they were due, grows) rather than piling up in the server.
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
        async with httpx.AsyncClient(timeout=a.get("timeout", 30), limits=limits) as client:
            start = time.perf_counter()
            tasks = {}
            for i in range(total):
                due = start + i / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks[asyncio.create_task(one(client, due))] = due
            _, pending = await asyncio.wait(list(tasks), timeout=a.get("grace", 5))
            cutoff = time.perf_counter()
            ok = len(latencies)
            for t in pending:
                t.cancel()
                latencies.append(cutoff - tasks[t])
            errors["unfinished"] = len(pending)
            return cutoff - start, ok

    elapsed, ok = asyncio.run(main())
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000 if latencies else None

    return {"rate": rate, "duration_s": duration, "sent": total, "ok": ok,
            "achieved_rps": ok / elapsed if elapsed else 0, **errors,
            "p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99),
            "max_ms": latencies[-1] * 1000 if latencies else None,
            "lower_bound": errors["unfinished"] > 0}


CHILDREN = {"generate": child_generate, "generate_lesa": child_generate_lesa, "polars": child_polars, "duckdb_load": child_duckdb_load,
            "duckdb_query": child_duckdb_query, "import": child_import, "ingest": child_ingest,
            "query": child_query, "fixed_rate": child_fixed_rate}


def child_main(step: str, args_path: str, out_path: str) -> int:
    a = json.loads(Path(args_path).read_text())
    result = CHILDREN[step](a)
    result["peak_mb"] = _peak_mb()
    Path(out_path).write_text(json.dumps(result, default=str))
    return 0


# ============================================================================ orchestration


class Runner:
    def __init__(self, work: Path, log=print):
        self.work = work
        self.log = log
        self.failures: list[str] = []

    def step(self, name: str, args: dict, timeout: float = 3600) -> dict | None:
        """Run one child step; its result with `wall_s`, or None (and a failure noted) if it failed."""
        tag = uuid.uuid4().hex[:8]
        a_path, o_path = self.work / f"{name}-{tag}.args.json", self.work / f"{name}-{tag}.out.json"
        a_path.write_text(json.dumps(args, default=str))
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", name, str(a_path),
                               str(o_path)], capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        wall = time.perf_counter() - t
        a_path.unlink(missing_ok=True)
        if proc.returncode != 0 or not o_path.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-12:]
            self.failures.append(f"{name}: " + " | ".join(tail[-3:]))
            self.log(f"  ! step {name} failed (exit {proc.returncode}):\n    " + "\n    ".join(tail))
            return None
        result = json.loads(o_path.read_text())
        o_path.unlink()
        result["wall_s"] = wall
        return result


def parse_size(text: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (expected e.g. 100k, 1M, 5M or 2000)")
    return int(float(m.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()])


def size_label(n: int) -> str:
    if n >= 1_000_000 and n % 100_000 == 0:
        return f"{n / 1_000_000:g}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


class Database:
    """A fresh database: a SQLite file, or a throw-away PostgreSQL database dropped afterwards."""

    def __init__(self, backend: str, work: Path, label: str):
        self.backend = backend
        self.name = f"detainers_bench_{label}_{uuid.uuid4().hex[:8]}".lower()
        if backend == "sqlite":
            self.path = work / f"{self.name}.db"
            self.url = f"sqlite:///{self.path}"
        else:
            from sqlalchemy import create_engine, text

            self.admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.url = PG_ADMIN.rsplit("/", 1)[0] + f"/{self.name}"

    def drop(self) -> None:
        if self.backend == "sqlite":
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        else:
            from sqlalchemy import text

            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self.admin.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    number, unit = float(m.group(1)), m.group(2)
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def parse_wrk(out: str) -> dict:
    result: dict = {}
    for p in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{p}%\s+(\S+)", out, re.M)
        if m:
            result[f"p{p}_ms"] = _ms(m.group(1))
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result["rps"] = float(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in", out)
    result["requests"] = int(m.group(1)) if m else None
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", out)
    result["socket_errors"] = m.group(1).strip() if m else None
    return result


def _get(url: str) -> tuple[float, bytes]:
    import urllib.request

    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=300) as r:
        body = r.read()
    return time.perf_counter() - t, body


def _settle(url: str, leftover_s: float, quick_ms: float = 50, in_a_row: int = 5, limit_s: float = 60) -> float:
    """Wait until the server has finished what earlier load left it: `leftover_s` (the requests it took
    last end within their own latency), then until it answers `url` (a kept answer, which still reads
    the records' version from the database) in under `quick_ms`, `in_a_row` times in a row. Returns
    the seconds waited (at most `limit_s` after the first wait)."""
    start = time.perf_counter()
    time.sleep(min(leftover_s, limit_s))
    quick = 0
    while quick < in_a_row and time.perf_counter() - start < leftover_s + limit_s:
        took, _ = _get(url)
        quick = quick + 1 if took * 1000 < quick_ms else 0
        time.sleep(0.1)
    return time.perf_counter() - start


def run_api(runner: Runner, url: str, endpoints: dict[str, str], a: argparse.Namespace) -> dict:
    """`detainers serve` on the database; for each endpoint its first answer alone, a second one, then wrk;
    then the fixed-rate client on the dashboard's stats questions (FIXED_RATE_ON)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = runner.work / f"serve-{port}.log"
    with log_path.open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", "detainers", "serve", "--db", url, "--port", str(port)],
                                  stdout=log, stderr=subprocess.STDOUT, cwd=runner.work)
    out: dict = {}
    try:
        deadline = time.time() + 60
        while True:
            try:
                _get(base + "/api/v1/me")
                break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    raise RuntimeError("detainers serve did not start: " + log_path.read_text()[-500:])
                time.sleep(0.2)
        for name, path in endpoints.items():
            # The first answer is this question's first in the server's life (its uncached cost, should the
            # server keep answers); the second is the same question again, right after.
            first, body = _get(base + path)
            second, _ = _get(base + path)
            entry = {"path": path, "first_request_s": first, "second_request_s": second, "bytes": len(body)}
            if name.startswith("stats"):
                try:
                    entry["answer"] = _answer(name, json.loads(body)["rows"])
                except (ValueError, KeyError, TypeError) as exc:
                    entry["answer_error"] = repr(exc)
            if shutil.which("wrk"):
                # Long enough for a few answers per connection when one answer takes seconds (at most 60 s).
                seconds = int(min(60, max(a.api_seconds, 3 * a.connections * second)))
                proc = subprocess.run(["wrk", "-t1", f"-c{a.connections}", f"-d{seconds}s", "--timeout", "60s",
                                       "--latency", base + path], capture_output=True, text=True,
                                      timeout=seconds + 120)
                entry["wrk"] = parse_wrk(proc.stdout)
                entry["wrk"]["connections"] = a.connections
                entry["wrk"]["seconds"] = seconds
                if not entry["wrk"].get("requests"):
                    entry["wrk"].update({"rps": 0.0, "p50_ms": None, "p99_ms": None})
            else:
                entry["wrk"] = {"error": "wrk not installed (scripts/ensure-bench-tools)"}
            out[name] = entry
        for name in FIXED_RATE_ON:
            if name in endpoints:
                # wrk stops sending, but the server still works through what it had taken (at 5M, a report
                # takes seconds, and holds the interpreter while it builds its answer): start the steady
                # rate once it is idle, not on those leftovers.
                slowest = max((e.get("wrk", {}).get("p99_ms") or 0 for e in out.values()), default=0)
                out[name]["settle_s"] = _settle(base + endpoints[name], 1.5 * slowest / 1000)
                fixed = runner.step("fixed_rate", {"url": base + endpoints[name], "rate": GOAL_RATE,
                                                   "duration": a.fixed_seconds})
                if fixed:
                    out[name]["fixed"] = fixed
        try:
            status = Path(f"/proc/{server.pid}/status").read_text()
            out["server_peak_mb"] = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
        except (OSError, AttributeError):
            pass
    except Exception as exc:  # noqa: BLE001 - recorded as a failure of this step
        runner.failures.append(f"api: {exc}")
        runner.log(f"  ! api failed: {exc}")
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    if not any(f.startswith("api:") for f in runner.failures):
        log_path.unlink(missing_ok=True)
    return out


def api_endpoints(params: dict) -> dict[str, str]:
    """The endpoints measured: the dashboard's two stats questions, the full stats table, one report."""
    stats = "/api/v1/stats/outcomes"
    return {"stats_fy": f"{stats}?by=jurisdiction&from={params['first']}&to={params['last']}",
            "stats_jurisdiction": f"{stats}?by=fy&jurisdiction={params['jurisdiction']}",
            "stats_all": f"{stats}?by=jurisdiction&by=fy",
            "noncooperative": f"/api/v1/reports/non-cooperative?as_of={params['as_of']}"}


def fiscal_period(as_of: date) -> tuple[date, date]:
    """The last complete federal fiscal year on `as_of`."""
    fy = as_of.year + 1 if as_of.month >= 10 else as_of.year
    if as_of != date(fy, 9, 30):
        fy -= 1
    return date(fy - 1, 10, 1), date(fy, 9, 30)


def compare(ours: dict, theirs: dict) -> dict:
    """Compare two answers number by number; counts the public audience suppresses ("<5") are skipped."""
    def suppressed(v) -> bool:
        return isinstance(v, str) or (isinstance(v, list) and any(isinstance(x, str) for x in v))

    keys = {k for k in set(ours) | set(theirs) if not suppressed(ours.get(k))}
    same = [k for k in keys if ours.get(k) == theirs.get(k)]
    differ = sorted(k for k in keys if ours.get(k) != theirs.get(k))
    return {"compared": len(keys), "agree": len(same) == len(keys), "differ": len(differ),
            "suppressed": len(set(ours) - keys),
            "examples": [{"key": k, "analytics": ours.get(k), "duckdb": theirs.get(k)} for k in differ[:3]]}


def _data_dir(a: argparse.Namespace, n: int, part: int = 1) -> Path:
    """Where one package is cached. Part 1 of a size built from parts is the package of the part's own size."""
    return a.out_dir / "data" / (f"national-{size_label(n)}-seed{SEED}" + (f"-part{part}" if part > 1 else ""))


def ensure_data(runner: Runner, a: argparse.Namespace, n: int, part: int = 1, lesa: bool = True) -> dict | None:
    """Generate (or reuse) one package, and its LESA csv when asked; its facts, with the paths."""
    data = _data_dir(a, n, part)
    pkg, lesa_path, marker = data / "package", data / "lesa.csv", data / "facts.json"
    gen = _cached_step(runner, a, data, marker, "generate", {
        "package": str(pkg), "lesa": str(lesa_path) if lesa else None, "detainers": n, "seed": SEED, "part": part},
        stale=lambda g: lesa and "lesa_rows" not in g,
        told=lambda g: f"data: {data} (cached; {g['generator']})" if g.get("cached") else
        f"generated {g['detainers']:,} detainers{f' (part {part})' if part > 1 else ''} ({g['generator']}) in "
        f"{g['wall_s']:.0f} s")
    if gen is None:
        return None
    gen["package"], gen["lesa"] = str(pkg), str(lesa_path) if "lesa_rows" in gen else None
    return gen


def _cached_step(runner: Runner, a: argparse.Namespace, data: Path, marker: Path, step: str, args: dict,
                 stale, told) -> dict | None:
    """The facts a generation step wrote to `marker` last time (marked `cached`), unless they are missing,
    stale or `--regenerate` was given: then `data` is emptied and the step runs again. `told(facts)` is
    the line logged either way."""
    gen = json.loads(marker.read_text()) if marker.exists() and not a.regenerate else None
    if gen is not None and gen.get("generator_source") == _generator() and not stale(gen):
        gen["cached"] = True
    else:
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        gen = runner.step(step, args)
        if gen is None:
            return None
        gen["generator_source"] = _generator()
        marker.write_text(json.dumps(gen))
    runner.log("  " + told(gen))
    return gen


def ensure_lesa(runner: Runner, a: argparse.Namespace, n: int) -> dict | None:
    """Generate (or reuse) the LESA csv of a size built from parts: {lesa_rows, lesa_s, lesa_bytes, lesa}."""
    data = a.out_dir / "data" / f"national-{size_label(n)}-seed{SEED}-lesa"
    lesa_path, marker = data / "lesa.csv", data / "facts.json"
    gen = _cached_step(runner, a, data, marker, "generate_lesa", {"lesa": str(lesa_path), "detainers": n, "seed": SEED},
                       stale=lambda g: False,
                       told=lambda g: f"LESA csv: {lesa_path} (cached)" if g.get("cached") else
                       f"generated the {size_label(n)} LESA csv ({g['lesa_bytes'] / 1e9:.1f} GB) in {g['lesa_s']:.0f} s")
    if gen is None:
        return None
    gen["lesa"] = str(lesa_path)
    return gen


def run_size(runner: Runner, n: int, a: argparse.Namespace) -> dict:
    label = size_label(n)
    res: dict = {"size": label, "detainers_requested": n, "backends": {}}
    runner.log(f"\n== size {label}")
    if n > a.part_size:
        # Built from parts: `detainers import` holds a whole package in memory, so a size past one part is
        # several packages (other people over the same counties and policies) imported one after another.
        sizes = [a.part_size] * (n // a.part_size) + ([n % a.part_size] if n % a.part_size else [])
        parts = []
        for k, size in enumerate(sizes, 1):
            g = ensure_data(runner, a, size, part=k, lesa=k == 1)
            if g is None:
                return res
            parts.append(g)
        votes: dict[str, int] = {}
        for g in parts:
            votes[g["largest_jurisdiction"]] = votes.get(g["largest_jurisdiction"], 0) + 1
        rows: dict[str, int] = {}
        for g in parts:
            for k, v in g["rows"].items():
                rows[k] = rows.get(k, 0) + v
        whole_lesa = ensure_lesa(runner, a, n)
        gen = {"generator": parts[0]["generator"], "detainers": sum(g["detainers"] for g in parts), "rows": rows,
               "jurisdictions": parts[0]["jurisdictions"], "largest_jurisdiction": max(votes, key=votes.get),
               "as_of": max(g["as_of"] for g in parts),
               "lesa_rows": whole_lesa["lesa_rows"] if whole_lesa else None,
               "parts": [{k: g.get(k) for k in ("part", "detainers", "package", "cached", "wall_s", "package_s")}
                         for g in parts]}
        packages, lesa = [g["package"] for g in parts], whole_lesa["lesa"] if whole_lesa else None
    else:
        gen = ensure_data(runner, a, n)
        if gen is None:
            return res
        packages, lesa = [gen["package"]], gen["lesa"]
    res["data"] = gen
    as_of = date.fromisoformat(gen["as_of"])
    first, last = fiscal_period(as_of)
    params = {"as_of": as_of.isoformat(), "jurisdiction": gen["largest_jurisdiction"], "first": first.isoformat(),
              "last": last.isoformat(), "warm": a.warm, "budget_s": a.warm_budget}
    res["params"] = params

    res["polars"] = runner.step("polars", {"packages": packages, "lesa": lesa})
    if res["polars"]:
        runner.log(f"  polars bare read: package{'s' if len(packages) > 1 else ''} {res['polars']['package_s']:.2f} s"
                   + (f", LESA csv {res['polars']['lesa_s']:.2f} s" if "lesa_s" in res["polars"] else ""))
    duck = runner.work / f"baseline-{label}.duckdb"
    res["duckdb_load"] = runner.step("duckdb_load", {"packages": packages, "duckdb": str(duck)})
    res["duckdb"] = {}
    answers: dict = {}
    if res["duckdb_load"]:
        runner.log(f"  duckdb load + derive: {res['duckdb_load']['seconds']:.2f} s "
                   f"({res['duckdb_load']['detainers']:,} detainers)")
        for q in QUERIES + (() if a.no_api else DUCK_API_QUERIES):
            ans = runner.work / f"answer-duckdb-{label}-{q}.json"
            r = runner.step("duckdb_query", {**params, "query": q, "duckdb": str(duck), "answer": str(ans)})
            res["duckdb"][q] = r
            if r:
                answers[q] = json.loads(ans.read_text())
                ans.unlink()
                runner.log(f"  duckdb {q}: cold {r['cold_s'] * 1000:.0f} ms, warm {r['warm_s'] * 1000:.0f} ms")
    duck.unlink(missing_ok=True)

    for backend in a.backend:
        res["backends"][backend] = run_backend(runner, backend, label, packages, lesa, gen, params, answers, a)
    return res


def _generator() -> str:
    """Which generator makes the data, with a digest of its source (cached data are remade when it changes)."""
    import hashlib
    import importlib.util

    spec = importlib.util.find_spec("detainers.national")
    digest = hashlib.sha256(Path(spec.origin).read_bytes()).hexdigest()[:12]
    return f"{spec.name}@{digest}"


def run_backend(runner, backend, label, packages, lesa, gen, params, answers, a) -> dict:
    out: dict = {}
    runner.log(f"  -- {backend}")
    try:
        db = Database(backend, runner.work, f"{label}_import")
    except Exception as exc:  # noqa: BLE001
        runner.failures.append(f"{backend}: cannot create a database: {exc}")
        runner.log(f"  ! {backend}: cannot create a database: {exc}")
        return out
    try:
        if len(packages) == 1:
            r = runner.step("import", {"url": db.url, "package": packages[0]})
        else:  # the parts into the same database, one after another
            parts = []
            for k, (package, part) in enumerate(zip(packages, gen["parts"]), 1):
                p = runner.step("import", {"url": db.url, "package": package})
                if p is None:
                    break
                p["part"], p["detainers"] = k, part["detainers"]
                parts.append(p)
                runner.log(f"  import part {k}/{len(packages)}: {p['seconds']:.1f} s "
                           f"({part['detainers'] / p['seconds']:,.0f} detainers/s), peak {p['peak_mb']:.0f} MB")
            r = None if len(parts) < len(packages) else {
                "seconds": sum(p["seconds"] for p in parts), "wall_s": sum(p["wall_s"] for p in parts),
                "peak_mb": max(p["peak_mb"] for p in parts), "parts": parts}
        out["import"] = r
        if r:
            runner.log(f"  import{' (all parts)' if len(packages) > 1 else ''}: {r['seconds']:.1f} s "
                       f"({gen['detainers'] / r['seconds']:,.0f} detainers/s), peak {r['peak_mb']:.0f} MB")
            out["queries"] = {}
            for q in QUERIES:
                ans = runner.work / f"answer-{backend}-{label}-{q}.json"
                args = {**params, "query": q, "url": db.url, "answer": str(ans)}
                if a.profile:
                    args["profile"] = str(a.out_dir / f"profile-{label}-{backend}-{q}.txt")
                qr = runner.step("query", args)
                out["queries"][q] = qr
                if qr:
                    ours = json.loads(ans.read_text())
                    ans.unlink()
                    if q in answers:
                        qr["agreement"] = compare(ours, answers[q])
                        if q != "stats":
                            qr["analytics_answer"], qr["duckdb_answer"] = ours, answers[q]
                    agree = qr.get("agreement", {})
                    runner.log(f"  {q}: cold {qr['cold_s'] * 1000:.0f} ms, warm {qr['warm_s'] * 1000:.0f} ms; "
                               f"duckdb agrees: {agree.get('agree')} ({agree.get('compared')} compared)")
            if not a.no_api:
                out["api"] = run_api(runner, db.url, api_endpoints(params), a)
                for name, e in out["api"].items():
                    if not isinstance(e, dict) or "wrk" not in e:
                        continue
                    ours = e.pop("answer", None)
                    if ours is not None and API_BASELINE[name] in answers:
                        e["agreement"] = compare(ours, answers[API_BASELINE[name]])
                    agree = e.get("agreement", {})
                    runner.log(f"  api {name}: first answer {e['first_request_s'] * 1000:.0f} ms, second "
                               f"{e['second_request_s'] * 1000:.0f} ms ({e['bytes']:,} bytes)"
                               + (f"; duckdb agrees: {agree.get('agree')} ({agree.get('compared')} compared)"
                                  if agree else ""))
                    w = e["wrk"]
                    runner.log(f"  api {name} (wrk): {_f(w.get('rps'), '.1f')} req/s, p50 "
                               f"{_f(w.get('p50_ms'), '.0f')} ms, p99 {_f(w.get('p99_ms'), '.0f')} ms")
                    if "fixed" in e:
                        f = e["fixed"]
                        bound = ">= " if f.get("lower_bound") else ""
                        runner.log(f"  api {name} at {f['rate']:.0f}/s: p50 {bound}{_f(f['p50_ms'], '.0f')} ms, "
                                   f"p99 {bound}{_f(f['p99_ms'], '.0f')} ms, {f['ok']}/{f['sent']} answered "
                                   f"in time")
    finally:
        db.drop()
    if lesa is None:
        out["ingest"] = {"skipped": INGEST_SKIPPED.format(size=label)}
        runner.log(f"  ingest LESA csv: {out['ingest']['skipped']}")
        return out
    try:
        db = Database(backend, runner.work, f"{label}_ingest")
    except Exception as exc:  # noqa: BLE001
        runner.failures.append(f"{backend}: cannot create a database: {exc}")
        return out
    try:
        r = runner.step("ingest", {"url": db.url, "lesa": lesa})
        out["ingest"] = r
        if r:
            runner.log(f"  ingest LESA csv: {r['seconds']:.1f} s ({gen['lesa_rows'] / r['seconds']:,.0f} rows/s), "
                       f"peak {r['peak_mb']:.0f} MB")
    finally:
        db.drop()
    return out


# ============================================================================ the table, goals and RESULTS.md


def _f(x, spec=".2f", none="—"):
    return none if x is None else format(x, spec)


def _ratio(x, base):
    return x / base if x is not None and base else None


def table_rows(results: dict) -> list[dict]:
    """One row per measurement: size, backend, what, value, unit, baseline, ratio, peak MB."""
    rows = []
    for s in results["sizes"]:
        pol, gen = s.get("polars") or {}, s.get("data") or {}
        dl = s.get("duckdb_load") or {}
        duck = s.get("duckdb") or {}
        nparts = len(gen.get("parts") or ())
        if dl.get("seconds"):
            rows.append({"size": s["size"], "backend": "duckdb", "what": "baseline set-up: load CSVs + derive outcomes"
                         + (f" ({nparts} parts' CSVs)" if nparts else ""),
                         "value": dl["seconds"], "unit": "s", "rate": gen.get("detainers", 0) / dl["seconds"],
                         "rate_unit": "detainers/s", "baseline": pol.get("package_s"),
                         "baseline_name": "polars read", "ratio": _ratio(dl["seconds"], pol.get("package_s")),
                         "peak_mb": dl.get("peak_mb")})
        for backend, b in s["backends"].items():
            imp = b.get("import")
            if imp:
                for part in imp.get("parts") or ():
                    base = (pol.get("parts") or [None] * nparts)[part["part"] - 1]
                    rows.append({"size": s["size"], "backend": backend,
                                 "what": f"import package part {part['part']}/{nparts} "
                                         f"({size_label(part['detainers'])}, into the same database)",
                                 "value": part["seconds"], "unit": "s",
                                 "rate": part["detainers"] / part["seconds"], "rate_unit": "detainers/s",
                                 "baseline": base, "baseline_name": "polars read",
                                 "ratio": _ratio(part["seconds"], base), "peak_mb": part["peak_mb"]})
                rows.append({"size": s["size"], "backend": backend,
                             "what": f"import package{f' (all {nparts} parts)' if nparts else ''}",
                             "value": imp["seconds"], "unit": "s",
                             "rate": gen.get("detainers", 0) / imp["seconds"], "rate_unit": "detainers/s",
                             "baseline": pol.get("package_s"), "baseline_name": "polars read",
                             "ratio": _ratio(imp["seconds"], pol.get("package_s")), "peak_mb": imp["peak_mb"],
                             "extra": f"duckdb load+derive {_f(dl.get('seconds'))} s"})
            ing = b.get("ingest")
            if ing and ing.get("skipped"):
                rows.append({"size": s["size"], "backend": backend, "what": f"ingest LESA csv: {ing['skipped']}",
                             "value": None, "unit": "s", "skipped": True})
            elif ing:
                rows.append({"size": s["size"], "backend": backend, "what": "ingest LESA csv",
                             "value": ing["seconds"], "unit": "s",
                             "rate": gen.get("lesa_rows", 0) / ing["seconds"], "rate_unit": "rows/s",
                             "baseline": pol.get("lesa_s"), "baseline_name": "polars read",
                             "ratio": _ratio(ing["seconds"], pol.get("lesa_s")), "peak_mb": ing["peak_mb"]})
            for q in QUERIES:
                qr = (b.get("queries") or {}).get(q)
                dq = duck.get(q) or {}
                if not qr:
                    continue
                for phase in ("cold", "warm"):
                    rows.append({"size": s["size"], "backend": backend, "what": f"{QUERY_TITLES[q]} ({phase})",
                                 "query": q, "phase": phase, "value": qr[f"{phase}_s"], "unit": "s",
                                 "baseline": dq.get(f"{phase}_s"), "baseline_name": f"duckdb {phase}",
                                 "ratio": _ratio(qr[f"{phase}_s"], dq.get(f"{phase}_s")),
                                 "peak_mb": qr["peak_mb"] if phase == "cold" else None,
                                 "agree": (qr.get("agreement") or {}).get("agree")})
            api = b.get("api") or {}
            for name, e in api.items():
                if not isinstance(e, dict) or "wrk" not in e:
                    continue
                title = API_TITLES.get(name, name)
                dq = duck.get(API_BASELINE.get(name, name)) or {}
                cold, warm = dq.get("cold_s"), dq.get("warm_s")
                cold_ms, warm_ms = (cold * 1000 if cold else None), (warm * 1000 if warm else None)
                size = e.get("bytes", 0)
                mb = f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"
                if e.get("first_request_s") is not None:
                    first = e["first_request_s"] * 1000
                    rows.append({"size": s["size"], "backend": backend, "api": name, "phase": "first",
                                 "what": f"API {title}: first answer ({mb})",
                                 "value": first, "unit": "ms", "baseline": cold_ms, "baseline_name": "duckdb cold ms",
                                 "ratio": _ratio(first, cold_ms),
                                 "agree": (e.get("agreement") or {}).get("agree")})
                w = e["wrk"]
                if w.get("rps") is not None:
                    rows.append({"size": s["size"], "backend": backend, "api": name, "phase": "wrk",
                                 "what": f"API {title}: wrk {w.get('connections')} conn, max rate",
                                 "value": w.get("p50_ms"), "unit": "ms p50", "p99_ms": w.get("p99_ms"),
                                 "rate": w.get("rps"), "rate_unit": "req/s",
                                 "baseline": warm_ms, "baseline_name": "duckdb warm ms",
                                 "ratio": _ratio(w.get("p50_ms"), warm_ms), "peak_mb": api.get("server_peak_mb")})
                f = e.get("fixed")
                if f:
                    rows.append({"size": s["size"], "backend": backend, "api": name, "phase": "fixed",
                                 "what": f"API {title}: fixed {f['rate']:.0f} req/s"
                                         + (f" ({f['unfinished']} unanswered: a lower bound)"
                                            if f.get("lower_bound") else ""), "value": f["p50_ms"],
                                 "unit": "ms p50", "p99_ms": f["p99_ms"], "rate": f["achieved_rps"],
                                 "rate_unit": "req/s", "baseline": warm_ms, "baseline_name": "duckdb warm ms",
                                 "ratio": _ratio(f["p50_ms"], warm_ms),
                                 "errors": f["status"] + f["failed"] + f["unfinished"]})
    return rows


def goals(results: dict) -> list[dict]:
    sizes = {s["size"]: s for s in results["sizes"]}
    by_n = sorted(results["sizes"], key=lambda s: s["detainers_requested"])
    out = []

    def at(target: int):
        """The size to judge a goal at: the target if run; else the largest run, shown but not judged."""
        for s in by_n:
            if s["detainers_requested"] == target:
                return s, ""
        return (by_n[-1], f" (at {by_n[-1]['size']}; the goal is for {size_label(target)}: not judged)") if by_n \
            else (None, "")

    s, note = at(1_000_000)
    for backend in results["backends"]:
        b = (s or {}).get("backends", {}).get(backend, {})
        for step, name in (("import", "import package"), ("ingest", "ingest LESA csv")):
            r = b.get(step)
            if r and not r.get("skipped"):
                out.append({"goal": f"{name} of 1M detainers under {GOAL_LOAD_S:.0f} s", "backend": backend,
                            "measured": f"{r['seconds']:.1f} s at {s['size']}{note}",
                            "pass": None if note else r["seconds"] < GOAL_LOAD_S})
    s, note = at(5_000_000)
    for backend in results["backends"]:
        b = (s or {}).get("backends", {}).get(backend, {})
        for q in QUERIES:
            r = (b.get("queries") or {}).get(q)
            dq = ((s or {}).get("duckdb") or {}).get(q) or {}
            if r:
                ratio = _ratio(r["warm_s"], dq.get("warm_s"))
                ok = r["warm_s"] < GOAL_QUERY_S and ratio is not None and ratio <= GOAL_QUERY_RATIO
                out.append({"goal": f"{q} warm under {GOAL_QUERY_S:.0f} s and within {GOAL_QUERY_RATIO:.0f}x "
                                    "DuckDB at 5M", "backend": backend,
                            "measured": f"{r['warm_s'] * 1000:.0f} ms, {_f(ratio, '.1f')}x DuckDB{note}",
                            "pass": None if note else ok})
    for backend in results["backends"]:
        # At the largest size whose API was measured with this backend.
        for s in reversed(by_n):
            f = (((s["backends"].get(backend, {}).get("api") or {}).get(GOAL_P99_ON) or {}).get("fixed"))
            if f:
                ok = (f["p99_ms"] is not None and f["p99_ms"] < GOAL_P99_MS and f["status"] + f["failed"]
                      + f["unfinished"] == 0 and f["achieved_rps"] >= 0.95 * GOAL_RATE)
                out.append({"goal": f"stats endpoint p99 under {GOAL_P99_MS:.0f} ms at {GOAL_RATE:.0f} req/s "
                                    f"({API_TITLES[GOAL_P99_ON].split(' (')[0]})",
                            "backend": backend, "measured": f"p99 {_f(f['p99_ms'], '.0f')} ms, "
                            f"{f['achieved_rps']:.0f} req/s achieved at {s['size']}", "pass": ok})
                break
    for backend in results["backends"]:
        peaks = [(s["detainers_requested"], s["size"], s["backends"].get(backend, {}).get("ingest"))
                 for s in by_n]
        peaks = [(n, lab, r["peak_mb"]) for n, lab, r in peaks if r and not r.get("skipped")]
        if len(peaks) >= 2:
            (n0, l0, p0), (n1, l1, p1) = peaks[0], peaks[-1]
            out.append({"goal": f"csv ingest peak memory bounded (x{n1 / n0:.0f} rows: peak grows under "
                                f"{GOAL_MEMORY_GROWTH}x)", "backend": backend,
                        "measured": f"{p0:.0f} MB at {l0} -> {p1:.0f} MB at {l1} ({p1 / p0:.2f}x)",
                        "pass": p1 / p0 < GOAL_MEMORY_GROWTH})
        elif peaks:
            out.append({"goal": "csv ingest peak memory bounded", "backend": backend,
                        "measured": f"{peaks[0][2]:.0f} MB at {peaks[0][1]} (needs two sizes)", "pass": None})
    return out


def _mark(p) -> str:
    return "n/a" if p is None else ("PASS" if p else "MISS")


def render_table(rows: list[dict]) -> list[str]:
    head = f"{'size':>5} {'backend':10} {'what':84} {'value':>10} {'p99 ms':>8} {'rate':>16} " \
           f"{'baseline':>10} {'x base':>7} {'peak MB':>8} agree"
    lines = [head, "-" * len(head)]
    for r in rows:
        unit = r["unit"]
        if r.get("skipped"):
            lines.append(f"{r['size']:>5} {r['backend']:10} {r['what'][:84]:84} {'—':>10}")
            continue
        value = _f(r["value"], ".3f") if unit == "s" else _f(r["value"], ".1f")
        rate = f"{r['rate']:,.0f} {r['rate_unit'].split('/')[0][:4]}/s" if r.get("rate") is not None else ""
        base = _f(r.get("baseline"), ".3f" if unit == "s" else ".1f", "")
        agree = {True: "yes", False: "NO", None: ""}[r.get("agree")]
        lines.append(f"{r['size']:>5} {r['backend']:10} {r['what'][:84]:84} {value + ' ' + unit.split()[0]:>10} "
                     f"{_f(r.get('p99_ms'), '.1f', ''):>8} {rate:>16} {base:>10} {_f(r.get('ratio'), '.1f', ''):>7} "
                     f"{_f(r.get('peak_mb'), '.0f', ''):>8} {agree}")
    return lines


def machine() -> dict:
    info = {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    try:
        cpu = Path("/proc/cpuinfo").read_text()
        info["cpu"] = re.search(r"model name\s*:\s*(.*)", cpu).group(1).strip()
    except (OSError, AttributeError):
        info["cpu"] = platform.processor()
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        info["ram_gb"] = round(kb / 1024 / 1024, 1)
    except (OSError, AttributeError):
        pass
    try:
        info["os"] = re.search(r'PRETTY_NAME="(.*)"', Path("/etc/os-release").read_text()).group(1)
    except (OSError, AttributeError):
        info["os"] = platform.system()
    import sqlite3

    info["sqlite"] = sqlite3.sqlite_version
    try:
        from sqlalchemy import create_engine, text

        eng = create_engine(PG_ADMIN)
        with eng.connect() as conn:
            info["postgresql"] = conn.execute(text("SHOW server_version")).scalar()
            # Server settings that shape the figures (a CI server may run without autovacuum, so tables
            # loaded in the run are analysed by the import but never vacuumed).
            info["postgresql_settings"] = {name: conn.execute(text(f"SHOW {name}")).scalar() for name in
                                           ("autovacuum", "shared_buffers", "max_wal_size", "fsync")}
        eng.dispose()
    except Exception:  # noqa: BLE001
        info["postgresql"] = None
    for mod in ("polars", "duckdb"):
        try:
            info[mod] = __import__(mod).__version__
        except ImportError:
            info[mod] = None
    if shutil.which("wrk"):
        v = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
        info["wrk"] = (v.stdout + v.stderr).split("[")[0].replace("wrk", "").strip() or "installed"
    return info


def results_md(results: dict, rows: list[dict], goal_rows: list[dict]) -> str:
    m = results["machine"]
    headline = [r for r in rows if r.get("ratio") is not None or r.get("skipped")]
    runs = results.get("runs") or [{"started": results["started"], "total_s": results["total_s"],
                                    "command": results["command"], "sizes": [s["size"] for s in results["sizes"]]}]
    lines = [
        "# Benchmark results",
        "",
        "Generated by `benchmarks/run.py` (`make bench`); do not edit by hand — run it again. All data are "
        "SYNTHETIC (`detainers.national`, seed 2012, FY2012–FY2025).",
        "",
        *(f"- **{'Date' if len(runs) == 1 else 'Run of ' + ', '.join(r['sizes'])}:** "
          f"{r['started'][:16].replace('T', ' ')}; total runtime {r['total_s'] / 60:.1f} min; "
          f"command `{r['command']}`" for r in runs),
        f"- **Machine:** {m.get('cpu')}, {m.get('cores')} cores, {m.get('ram_gb')} GB RAM; {m.get('os')} "
        f"({m.get('platform')})",
        f"- **Software:** Python {m.get('python')}, SQLite {m.get('sqlite')}, PostgreSQL {m.get('postgresql')}, "
        f"polars {m.get('polars')}, DuckDB {m.get('duckdb')}, wrk {m.get('wrk')}"
        + ("; PostgreSQL server " + ", ".join(f"{k} {v}" for k, v in m["postgresql_settings"].items())
           if m.get("postgresql_settings") else ""),
        f"- **Data:** " + "; ".join(
            f"{s['size']}: {s['data'].get('detainers', 0):,} detainers, "
            f"{sum(s['data'].get('rows', {}).values()):,} package rows"
            + (f" in {len(s['data']['parts'])} parts imported one after another" if s["data"].get("parts") else "")
            + (f", {s['data']['lesa_rows']:,} LESA rows" if s["data"].get("lesa_rows") else ", no LESA csv")
            + f" ({s['data'].get('generator')})" for s in results["sizes"] if s.get("data")),
        "",
        "## Headline: times the baseline",
        "",
        "Each figure is how many times its baseline, measured in the same run on the same data, the step takes: "
        "import and ingest against polars reading the same CSV files and doing nothing else; each query and "
        "API latency (p50) against the same aggregate as hand-written DuckDB SQL over the same CSVs.",
        "",
        "| size | backend | what | ours | baseline | × baseline |",
        "|---|---|---|---:|---:|---:|",
    ]
    for r in headline:
        unit = "s" if r["unit"] == "s" else "ms"
        if r.get("skipped"):
            lines.append(f"| {r['size']} | {r['backend']} | {r['what']} | — | — | — |")
            continue
        lines.append(f"| {r['size']} | {r['backend']} | {r['what']} | {_f(r['value'], '.3f')} {unit} | "
                     f"{_f(r['baseline'], '.3f')} {unit} ({r['baseline_name']}) | **{r['ratio']:.1f}×** |")
    lines += ["", "## Goals", "", "| goal | backend | measured | |", "|---|---|---|---|"]
    for g in goal_rows:
        lines.append(f"| {g['goal']} | {g['backend']} | {g['measured']} | **{_mark(g['pass'])}** |")
    lines += ["", "## All measurements", "", "```", *render_table(rows), "```", ""]
    agreements = []
    for s in results["sizes"]:
        for backend, b in s["backends"].items():
            checked = [(q, qr) for q, qr in (b.get("queries") or {}).items()]
            checked += [(f"API {name} (first answer)", e) for name, e in (b.get("api") or {}).items()
                        if isinstance(e, dict)]
            for q, qr in checked:
                if qr and qr.get("agreement"):
                    a = qr["agreement"]
                    agreements.append(f"- {s['size']} {backend} {q}: "
                                      f"{'agree' if a['agree'] else 'DIFFER'} ({a['compared']} numbers compared"
                                      f"{'' if a['agree'] else ', ' + str(a['differ']) + ' differ'})")
    lines += ["## Do the baselines compute the same numbers?", "",
              "The DuckDB queries re-derive each detainer's outcome from the CSVs with the lifecycle rules "
              "(DESIGN §4) written as SQL; the run compares their answers with the project's: every "
              "jurisdiction × FY group of the stats, the people held and jurisdictions listed by the "
              "non-cooperative report, and the issued and ended counts of the declined report; and every row "
              "of the first answer of each stats endpoint of the API with the same question asked of DuckDB.", "",
              *agreements, ""]
    lines += ["## Method", "", *METHOD, ""]
    if results.get("note"):
        lines += ["## Notes on this run", "", results["note"], ""]
    if results.get("failures"):
        lines += ["## Steps that failed", "", *(f"- {f}" for f in results["failures"]), ""]
    return "\n".join(lines)


METHOD = [
    "- Every step is its own process (`run.py --child STEP`); peak memory is that process's maximum RSS "
    "plus its largest child process's (`getrusage(RUSAGE_SELF)` and `RUSAGE_CHILDREN`, `ru_maxrss`: a large "
    "ICE csv is read in a process of its own while the step's process writes), and for the API the "
    "server's `VmHWM`.",
    "- **import**: `import_package` into a fresh database (a new SQLite file; a new PostgreSQL database on "
    "127.0.0.1:5432, dropped afterwards). Schema creation is not timed. **ingest**: `ingest(engine, "
    "\"ice-lesa\", csv)` into another fresh database.",
    "- **5M** is built from parts: `detainers import` holds a whole package in memory (about 5 GB per million "
    "detainers), so the 5M database is five 1M packages (`write_national_package(dir, detainers=1_000_000, "
    "part=k)`, k = 1…5: other people with ids of their own over the same counties and policies) imported "
    "one after another into the same database, each in its own process; each part's time and peak memory "
    "is shown, and the total. Part 1 is the 1M package itself. The LESA csv at 5M is one file of 5M rows, "
    "ingested in chunks like any large csv. The polars baseline reads all five packages; DuckDB loads the five parts' "
    "people, bookings, detainers and charges and one copy of the shared counties, facilities and policies.",
    "- **Queries** run through the project's own functions on the imported database: "
    "`reports.noncooperative.build(NonCooperativeQuery(as_of))` for every jurisdiction that declines "
    "detainers on the package's as-of day; `analytics.stats.outcome_stats(OutcomeQuery(by=(\"jurisdiction\", "
    "\"fy\")))`; `reports.declined.build(DeclinedQuery(first, last, (largest,)))` for the jurisdiction with "
    "the most detainers over the last complete fiscal year. Public audience. *Cold* is the first call in a "
    "fresh process (connection already open; the OS page cache and PostgreSQL's shared buffers are not "
    "dropped); *warm* is the median of 3–5 further calls in that process.",
    "- **DuckDB baseline**: the package's CSVs loaded once into a DuckDB file with the lifecycle rules "
    "applied in SQL (shown as `duckdb load+derive`, next to import); each aggregate is then one "
    "hand-written query, cold in a fresh process and warm as above.",
    "- **API**: `detainers serve --db URL --port P` (uvicorn, one process, anonymous viewer), a fresh server "
    "per database. Endpoints: *stats one FY* `/api/v1/stats/outcomes?by=jurisdiction&from=…&to=…` (every "
    "jurisdiction over the last complete fiscal year) and *stats one jurisdiction* "
    "`?by=fy&jurisdiction=<largest>` — what a dashboard asks; *stats everything* `?by=jurisdiction&by=fy` "
    "(the full jurisdiction × FY table, megabytes per answer, for throughput); and the non-cooperative "
    "report. For each, the *first answer* is one request alone before any other request for it (what the "
    "question costs before the server has answered it once; should the server keep answers between writes, "
    "the later requests measure the kept answer), compared with DuckDB cold; then `wrk -t1 -c2 --latency` "
    "for 10 s (longer, up to 60 s, when one answer takes seconds) gives the latency distribution at wrk's "
    "maximum throughput (Debian has wrk, not wrk2). The fixed rate is our own open-loop client "
    "(`child_fixed_rate`: asyncio + httpx, one request every 10 ms whatever the answers, latency timed from "
    "when the request was due, so a slow server is not hidden by coordinated omission) for 10 s on the two "
    "dashboard questions; the p99 goal is judged on *stats one FY*, the heavier of the two. Each fixed-rate "
    "run starts once the server is idle again (`_settle`: 1.5× the slowest wrk p99 of the run, then until "
    "its question is answered in under 50 ms five times in a row; the wait is in the JSON as `settle_s`), "
    "not while it still works through the requests wrk left it. The client and the server share the "
    "machine's cores.",
    "- Goals are judged at the size they name; when that size was not run, the largest size run is shown "
    "but not judged (n/a). The p99 goal is judged at the largest size with API measurements. Ingest memory "
    "is bounded when the peak at the largest size ingested is under 1.5× the peak at the smallest.",
    "- `make bench` (100k, 1M) and `make bench-5m` (5M) each write their own results JSON; RESULTS.md "
    "(`--merge`) shows the latest run of each size (non-quick runs only, or quick runs only for a quick "
    "run), with each run's date and command above.",
]


def merge_runs(current: dict, out_dir: Path) -> dict:
    """`current` with the sizes it did not run taken from the latest earlier results JSON that has them
    (same `quick` flag); RESULTS.md is then rendered from every size's latest run."""
    latest: dict[str, tuple[dict, dict]] = {}
    runs = []
    for path in sorted(out_dir.glob("results-*.json")):
        try:
            run = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if run.get("started") == current["started"] or bool(run.get("quick")) != bool(current.get("quick")):
            continue
        runs.append(run)
    runs.sort(key=lambda r: r["started"])
    for run in runs + [current]:
        for s in run.get("sizes", ()):
            latest[s["size"]] = (s, run)
    used: dict[str, dict] = {}
    for size, run in latest.values():
        u = used.setdefault(run["started"], {"started": run["started"], "total_s": run.get("total_s", 0),
                                             "command": run.get("command", ""), "sizes": [],
                                             "failures": run.get("failures", []), "machine": run.get("machine")})
        u["sizes"].append(size["size"])
    merged = {k: v for k, v in current.items() if k not in ("table", "goals")}
    merged["sizes"] = sorted((s for s, _ in latest.values()), key=lambda s: s["detainers_requested"])
    merged["runs"] = sorted(used.values(), key=lambda u: u["started"])
    merged["backends"] = list(dict.fromkeys(b for s in merged["sizes"] for b in s.get("backends", {})))
    merged["failures"] = [f if u["started"] == current["started"] else f"{f} (run of {u['started'][:16]})"
                          for u in merged["runs"] for f in u["failures"]]
    m = current["machine"]
    other = [u for u in merged["runs"] if u["machine"] and (u["machine"].get("cpu"), u["machine"].get("cores"))
             != (m.get("cpu"), m.get("cores"))]
    if other:
        note = ("Runs on other machines are included: " + "; ".join(
            f"{', '.join(u['sizes'])} on {u['machine'].get('cpu')} ({u['machine'].get('cores')} cores)"
            for u in other) + ".")
        merged["note"] = f"{merged['note']} {note}" if merged.get("note") else note
    for u in merged["runs"]:
        u.pop("machine", None)
        u.pop("failures", None)
    return merged


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--child"]:
        return child_main(*argv[1:4])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--size", type=parse_size, action="append", help="detainers: 100k, 1M, 5M or a number "
                    "(repeatable; default 100k and 1M, or 100k with --quick)")
    ap.add_argument("--backend", action="append", choices=["sqlite", "postgresql"],
                    help="repeatable; default both")
    ap.add_argument("--quick", action="store_true", help="short API runs and 3 warm repeats")
    ap.add_argument("--no-api", action="store_true", help="skip the API measurements")
    ap.add_argument("--profile", action="store_true", help="cProfile each query step (OUT/profile-*.txt)")
    ap.add_argument("--regenerate", action="store_true", help="regenerate the data even when cached")
    ap.add_argument("--out-dir", type=Path, default=HERE / "out", help="cached data and work files")
    ap.add_argument("--results-dir", type=Path, default=HERE / "results",
                    help="where each run's results JSON is written, and --merge reads earlier runs "
                         "(default benchmarks/results, kept in git)")
    ap.add_argument("--results-md", type=Path, default=HERE / "RESULTS.md",
                    help="where to write the Markdown summary (default benchmarks/RESULTS.md)")
    ap.add_argument("--note", help="a sentence about this run for RESULTS.md (e.g. what else the machine was doing)")
    ap.add_argument("--render", type=Path, metavar="RESULTS_JSON",
                    help="measure nothing: print the table and rewrite the Markdown from an earlier run's JSON")
    ap.add_argument("--merge", action="store_true",
                    help="RESULTS.md keeps the sizes this run does not measure, from the latest earlier results "
                         "JSON in the results dir that has them (`make bench` and `make bench-5m` both merge)")
    # Hidden: the size of one part of a size built from parts (the smoke test uses a tiny one).
    ap.add_argument("--part-size", type=parse_size, default=PART_SIZE, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.render:
        results = json.loads(a.render.read_text())
        if a.note:
            results["note"] = a.note
        if a.merge:
            results = merge_runs(results, a.render.resolve().parent)
        rows, goal_rows = table_rows(results), goals(results)
        print("\n".join(render_table(rows)))
        a.results_md.write_text(results_md(results, rows, goal_rows), encoding="utf-8")
        print(f"Summary: {a.results_md}")
        return 0
    a.size = sorted(set(a.size or ([100_000] if a.quick else [100_000, 1_000_000])))
    a.backend = list(dict.fromkeys(a.backend or ["sqlite", "postgresql"]))
    a.warm = 3 if a.quick else 5
    a.warm_budget = 5.0 if a.quick else 15.0
    a.api_seconds = 3 if a.quick else 10
    a.fixed_seconds = 3 if a.quick else 10
    a.connections = 2
    a.out_dir = a.out_dir.resolve()
    work = a.out_dir / "work"
    work.mkdir(parents=True, exist_ok=True)

    started = datetime.now()
    t0 = time.perf_counter()
    runner = Runner(work)
    print(f"detainers benchmarks: sizes {', '.join(map(size_label, a.size))}; backends {', '.join(a.backend)}"
          f"{'; quick' if a.quick else ''}{'; no API' if a.no_api else ''}", flush=True)
    results = {"started": started.isoformat(timespec="seconds"),
               "command": "python benchmarks/run.py " + " ".join(argv), "backends": a.backend,
               "quick": a.quick, "note": a.note, "machine": machine(), "sizes": []}
    for n in a.size:
        results["sizes"].append(run_size(runner, n, a))
    results["total_s"] = time.perf_counter() - t0
    results["failures"] = runner.failures
    rows = table_rows(results)
    goal_rows = goals(results)
    results["table"], results["goals"] = rows, goal_rows

    print()
    print("\n".join(render_table(rows)))
    a.results_dir.mkdir(parents=True, exist_ok=True)
    out = a.results_dir / f"results-{started:%Y-%m-%d-%H%M%S}.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    shown = results
    if a.merge:
        shown = merge_runs(results, a.results_dir)
        goal_rows = goals(shown)
        kept = [s["size"] for s in shown["sizes"] if s["size"] not in {x["size"] for x in results["sizes"]}]
        if kept:
            print(f"\nRESULTS.md also shows earlier runs' {', '.join(kept)} (--merge)")
    print("\ngoals")
    for g in goal_rows:
        print(f"  {_mark(g['pass']):4}  {g['backend']:10} {g['goal']}: {g['measured']}")
    print(f"\ntotal {results['total_s'] / 60:.1f} min")
    a.results_md.write_text(results_md(shown, table_rows(shown), goal_rows), encoding="utf-8")
    print(f"JSON: {out}\nSummary: {a.results_md}")
    if runner.failures:
        print("failed steps:\n  " + "\n  ".join(runner.failures))
    return 1 if runner.failures else 0


if __name__ == "__main__":
    sys.exit(main())
