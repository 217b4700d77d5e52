"""`detainers demo`: write the SYNTHETIC package, import it, and produce the reports from it."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from detainers.analytics.stats import OutcomeQuery, outcome_stats
from detainers.config import DEFAULT_DB_URL, redact_url
from detainers.datapackage.importer import import_package
from detainers.demo import SYNTHETIC_NOTE, write_demo_package
from detainers.fiscal import fiscal_year_bounds
from detainers.reports.noncooperative import NonCooperativeQuery, build
from detainers.reports.declined import DeclinedQuery
from detainers.reports.declined import build as build_declined
from detainers.reports.render import BINARY_FORMATS, FORMATS, render, render_bytes
from detainers.store.db import open_store


def run_demo(url: str, output: Path, *, scale: int | None = None, console: Console | None = None) -> dict:
    """Build everything the demo shows; returns the headline figures it printed."""
    console = console or Console()
    output = Path(output)
    package_dir = output / "package"
    facts = write_demo_package(package_dir, scale=scale)
    engine = open_store(url)
    result = import_package(engine, package_dir)
    with engine.begin() as conn:
        report = build(conn, NonCooperativeQuery(facts.as_of))
        start, end = fiscal_year_bounds(2017)
        fy2017 = outcome_stats(conn, OutcomeQuery(by=("region",), cohort="ended", date_from=start, date_to=end,
                                                  region=facts.region))
    with engine.begin() as conn:
        declined = build_declined(conn, DeclinedQuery(*fiscal_year_bounds(2019)))
    written = []
    for name, built in ((f"non-cooperative-{facts.as_of}", report), ("declined-FY2019", declined)):
        for fmt in FORMATS:
            target = output / f"{name}.{fmt}"
            target.write_text(render(built, fmt), encoding="utf-8")
            written.append(target)
        for fmt in BINARY_FORMATS:
            target = output / f"{name}.{fmt}"
            target.write_bytes(render_bytes(built, fmt))
            written.append(target)

    wake = next((j for j in report["jurisdictions"] if j["jurisdiction_id"] == facts.wake_jurisdiction_id), None)
    held = wake["counts"]["people"] if wake else 0
    child = wake["counts"]["by_category"].get("sex_offense_child", 0) if wake else 0
    child_convicted = wake["counts"]["by_category_convicted"].get("sex_offense_child", 0) if wake else 0
    region_row = fy2017[0] if fy2017 else {"honored": 0, "lodged": 0}

    console.print(f"[bold yellow]{SYNTHETIC_NOTE}[/]")
    state = "already imported" if result.already_imported else f"imported as source #{result.source_id}"
    console.print(f"Demo package: {package_dir} ({state}) into {redact_url(url)}")
    console.print(f"Non-cooperative jurisdictions on {facts.as_of}: {report['totals']['jurisdictions']} "
                  f"jurisdictions, {report['totals']['people']} people held with an active detainer.")
    console.print(f"  Wake County, NC: {held} people held; {child} charged with a sexual offence against a "
                  f"child ({child_convicted} of them convicted of one).")
    console.print(f"  {facts.region} region, FY2017 (ended cohort): {region_row['honored']} detainers ended in "
                  f"transfer to ICE custody, of {region_row['lodged']} that ended in the year.")
    console.print("Reports written:")
    for path in written:
        console.print(f"  {path}")
    db_flag = "" if url == DEFAULT_DB_URL else f" --db {redact_url(url)}"
    console.print("Dashboard and JSON API on this data:")
    console.print(f"  detainers serve{db_flag}")
    console.print("  then open http://127.0.0.1:8000/ (public audience; API docs at http://127.0.0.1:8000/api/docs)")
    console.print("To sign in and see the restricted audience, first make an account (it asks for a password):")
    console.print(f"  detainers users add analyst --role analyst{db_flag}")
    console.print(f"[bold yellow]{SYNTHETIC_NOTE}[/]")
    return {"held": held, "child": child, "fy2017_honored": region_row["honored"], "files": [str(p) for p in written]}
