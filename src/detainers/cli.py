"""The `detainers` command: a thin skin over the library. Exit 0 ok, 2 bad input, 1 a bug."""

from __future__ import annotations

import csv
import functools
import io
import json
import sys
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from detainers import __version__
from detainers.config import database_url
from detainers.errors import InputError, StoreError

app = typer.Typer(help="Immigration-detainer records and jurisdiction-cooperation reports.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
report_app = typer.Typer(help="Build a report (md, json, csv, html, pdf, xlsx).", no_args_is_help=True)
stats_app = typer.Typer(help="Counts for scripts and tables.", no_args_is_help=True)
audit_app = typer.Typer(help="The append-only audit log.", no_args_is_help=True)
agreements_app = typer.Typer(help="287(g) agreements derived from ICE's lists.", no_args_is_help=True)
facilities_app = typer.Typer(help="Facilities and the jurisdictions they belong to.")
app.add_typer(report_app, name="report")
app.add_typer(stats_app, name="stats")
app.add_typer(audit_app, name="audit")
app.add_typer(agreements_app, name="agreements")
app.add_typer(facilities_app, name="facilities")

# Piped output is not cut to 80 columns: tables keep their natural width.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 240)
err = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[Optional[str], typer.Option(
    "--db", help="Database URL (else $DETAINERS_DB, else sqlite:///detainers.db).", show_default=False)]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")]


class ReportFormat(str, Enum):
    md = "md"
    json = "json"
    csv = "csv"
    html = "html"
    pdf = "pdf"
    xlsx = "xlsx"


class AudienceChoice(str, Enum):
    public = "public"
    restricted = "restricted"


class StanceChoice(str, Enum):
    declines = "declines"
    limited = "limited"
    honors = "honors"


class ByChoice(str, Enum):
    jurisdiction = "jurisdiction"
    fy = "fy"
    region = "region"
    stance = "stance"


class CohortChoice(str, Enum):
    lodged = "lodged"
    ended = "ended"


class StatsFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class ClassifyFormat(str, Enum):
    table = "table"
    json = "json"


def handle_errors(fn):
    """Turn known errors into one clear message and the documented exit code."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            err.print(f"[bold red]error:[/] {escape(exc.message())}", highlight=False)
            err.print(getattr(exc, "changed", None) or "Nothing was changed.", highlight=False)
            raise typer.Exit(2) from None
        except OSError as exc:  # a path the user gave cannot be written or read
            where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
            err.print(f"[bold red]error:[/]{escape(where)}: {escape(exc.strerror or str(exc))}", highlight=False)
            raise typer.Exit(2) from None
        except StoreError as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
            raise typer.Exit(2) from None
        except typer.Exit:
            raise
        except Exception as exc:  # a bug: say so, keep the trace for --debug users
            err.print(f"[bold red]internal error:[/] {escape(type(exc).__name__ + ': ' + str(exc))}",
                      highlight=False)
            err.print("This is a bug in detainers; please report it with the command you ran.")
            raise typer.Exit(1) from None
    return wrapper


def escape(text: str) -> str:
    from rich.markup import escape as _escape

    return _escape(text)


def parse_day(value: str | None, flag: str) -> date | None:
    """A YYYY-MM-DD flag value, read as strictly as the data package reads dates."""
    from detainers.datapackage.spec import CellError, read_date

    if value is None:
        return None
    try:
        return read_date(value)
    except CellError as exc:
        raise InputError(f"{flag}: {value!r} {exc}") from None


def store(db: str | None):
    """Open the database; first say if an earlier command was stopped before it finished."""
    from detainers.interrupted import stopped
    from detainers.store.db import open_store

    engine = open_store(database_url(db))
    for message in stopped(engine):
        err.print(f"[bold yellow]note:[/] {escape(message)}", highlight=False)
    return engine


def for_report(db: str | None, audience: str):
    """A connection to build a report on: a read (never waits for an import), or for the restricted
    audience a write transaction, since showing identity fields writes an audit entry."""
    engine = store(db)
    return engine.begin() if audience == "restricted" else engine.connect()


def emit_report(report: dict, fmt: str, output: Path | None) -> None:
    """Render a report and write it to --out (or stdout; binary formats need --out)."""
    from detainers.reports.render import BINARY_FORMATS, render, render_bytes

    if fmt in BINARY_FORMATS:
        if output is None:
            raise InputError(f"--format {fmt} writes a binary file: give --out PATH")
        write_output(render_bytes(report, fmt), output)
    else:
        write_output(render(report, fmt), output)
    if output is not None:  # the report went to a file: show its headline numbers here
        print_summary(report, output)


def print_summary(report: dict, output: Path) -> None:
    """A readable table of the report's headline numbers, and where the report was written."""
    from detainers.reports.summary import summary

    title, columns, rows = summary(report)
    if report.get("synthetic"):
        title = f"SYNTHETIC — {title}"
    if columns:
        table = Table(*columns, title=escape(title))
        for row in rows:
            table.add_row(*("—" if v is None else escape(str(v)) for v in row))
        out.print(table)
    out.print(f"Wrote {escape(str(output))} ({report.get('audience', 'public')} audience).")


def write_output(text: str | bytes, path: Path | None) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    if path.is_dir():
        raise InputError(f"--out: {path} is a folder (expected a file path)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--out: {path} cannot be written ({exc.strerror or exc})") from None


@app.command("import")
@handle_errors
def import_cmd(
    directory: Annotated[Path, typer.Argument(help="A data-package folder (DESIGN §5 / docs/data-package.md).")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    quiet: QuietOption = False,
) -> None:
    """Import a canonical data package: all of it, or (on any problem) nothing."""
    from detainers.datapackage.importer import import_package

    engine = store(db)
    with err.status("Importing…", spinner="dots") if not (quiet or as_json) and err.is_terminal else _null():
        result = import_package(engine, directory)
    if as_json:
        out.print_json(json.dumps(result.as_dict()))
        return
    if quiet:
        return
    _print_import(result)


def _print_import(result) -> None:
    if result.already_imported:
        out.print(f"Already imported as source #{result.source_id} (sha256 {result.sha256[:12]}…); nothing changed.")
        return
    label = " [bold yellow](SYNTHETIC)[/]" if result.synthetic else ""
    out.print(f"Imported {escape(result.path)} as source #{result.source_id}{label}.")
    table = Table("file", "added", "changed", "unchanged")
    for name, f in result.files.items():
        table.add_row(name, str(f.added), str(f.changed), str(f.unchanged))
    out.print(table)
    for w in result.warnings:
        out.print(f"[yellow]warning:[/] {escape(w)}")
    if result.without_booking:
        shown = escape(", ".join(result.without_booking[:10]))
        more = f" and {len(result.without_booking) - 10} more" if len(result.without_booking) > 10 else ""
        out.print(f"{len(result.without_booking)} detainers match no booking (kept, outcome from lift data "
                  f"only): {shown}{more}")
    if result.claim_disagreements:
        out.print(f"{len(result.claim_disagreements)} detainers have an outcome in the package that differs "
                  "from the one the lifecycle rules derive:")
        for d in result.claim_disagreements[:10]:
            out.print(f"  {escape(d['detainer_id'])}: package says {d['claimed']}, records say {d['derived']}")
    if result.detainer_lines_in_charges:
        out.print(f"{result.detainer_lines_in_charges} charge lines are immigration detainers themselves; "
                  "they are kept but not counted as charges.")


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@app.command("export")
@handle_errors
def export_cmd(
    directory: Annotated[Path, typer.Argument(help="Folder to write the package into.")],
    db: DbOption = None,
    audience: Annotated[AudienceChoice, typer.Option(
        help="restricted: a full copy, with names and dates of birth (audited); "
             "public: without them, ids replaced by pseudonyms.")] = AudienceChoice.restricted,
    quiet: QuietOption = False,
) -> None:
    """Export the database as a canonical data package that imports back to the same answers."""
    from detainers.datapackage.exporter import export_package

    result = export_package(store(db), directory, audience=audience.value)
    if not quiet:
        total = sum(result.files.values())
        note = " (includes identity fields: keep it restricted)" if audience == AudienceChoice.restricted else ""
        out.print(f"Wrote {total} rows in {len(result.files)} files to {escape(result.path)}{note}.")


@report_app.command("non-cooperative")
@handle_errors
def report_noncooperative(
    as_of: Annotated[str, typer.Option("--as-of", help="The day to report on (YYYY-MM-DD).")],
    jurisdiction: Annotated[Optional[list[str]], typer.Option(
        "--jurisdiction", help="Only these jurisdiction ids (listed even with nobody held).")] = None,
    stance: Annotated[Optional[list[StanceChoice]], typer.Option(
        "--stance", help="Policies to include (default: declines). Repeat to add limited.")] = None,
    audience: Annotated[AudienceChoice, typer.Option(help="public (no identity fields) or restricted.")]
    = AudienceChoice.public,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="Output format.")] = ReportFormat.md,
    output: Annotated[Optional[Path], typer.Option("--out", help="Write to this file instead of stdout.")] = None,
    db: DbOption = None,
) -> None:
    """People held on a day, with an active detainer, in jurisdictions whose policy declines detainers."""
    from detainers.reports.noncooperative import NonCooperativeQuery, build

    day = parse_day(as_of, "--as-of")
    stances = tuple(s.value for s in stance) if stance else ("declines",)
    query = NonCooperativeQuery(day, stances, tuple(jurisdiction or ()), audience.value)
    with for_report(db, audience.value) as conn:
        _known_or_fail(conn, query.jurisdiction_ids)
        report = build(conn, query)
    emit_report(report, fmt.value, output)


@report_app.command("declined")
@handle_errors
def report_declined(
    date_from: Annotated[str, typer.Option("--from", help="First day of the period (YYYY-MM-DD).")],
    date_to: Annotated[str, typer.Option("--to", help="Last day of the period (YYYY-MM-DD), inclusive.")],
    jurisdiction: Annotated[Optional[list[str]], typer.Option("--jurisdiction", help="Only these ids.")] = None,
    audience: Annotated[AudienceChoice, typer.Option(help="public (no identity fields) or restricted.")]
    = AudienceChoice.public,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="Output format.")] = ReportFormat.md,
    output: Annotated[Optional[Path], typer.Option("--out", help="Write to this file instead of stdout.")] = None,
    db: DbOption = None,
) -> None:
    """Detainers issued to and declined by each jurisdiction in a period, with denominators and detail."""
    from detainers.reports.declined import DeclinedQuery, build

    query = DeclinedQuery(parse_day(date_from, "--from"), parse_day(date_to, "--to"), tuple(jurisdiction or ()),
                          audience.value)
    with for_report(db, audience.value) as conn:
        _known_or_fail(conn, query.jurisdiction_ids)
        report = build(conn, query)
    emit_report(report, fmt.value, output)


class TransfersBy(str, Enum):
    jurisdiction = "jurisdiction"
    region = "region"


@report_app.command("transfers")
@handle_errors
def report_transfers(
    fy_from: Annotated[int, typer.Option("--fy-from", help="First federal fiscal year (2017 = Oct 2016–Sep 2017).",
                                         min=1990, max=2100)],
    fy_to: Annotated[int, typer.Option("--fy-to", help="Last federal fiscal year.", min=1990, max=2100)],
    by: Annotated[TransfersBy, typer.Option("--by", help="Per jurisdiction or per region.")]
    = TransfersBy.jurisdiction,
    jurisdiction: Annotated[Optional[list[str]], typer.Option("--jurisdiction", help="Only these ids.")] = None,
    region: Annotated[Optional[str], typer.Option("--region", help="Only this region.")] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="Output format.")] = ReportFormat.md,
    output: Annotated[Optional[Path], typer.Option("--out", help="Write to this file instead of stdout.")] = None,
    db: DbOption = None,
) -> None:
    """Detainers ending in transfer to ICE custody per fiscal year: lodged and ended cohorts side by side."""
    from detainers.reports.transfers import TransfersQuery, build

    query = TransfersQuery(fy_from, fy_to, by.value, tuple(jurisdiction or ()), region)
    with store(db).connect() as conn:
        _known_or_fail(conn, query.jurisdiction_ids, region)
        report = build(conn, query)
    emit_report(report, fmt.value, output)


@report_app.command("policy-change")
@handle_errors
def report_policy_change(
    jurisdiction: Annotated[str, typer.Option("--jurisdiction", help="The jurisdiction id.")],
    change_date: Annotated[str, typer.Option("--change-date", help="The day the policy changed (YYYY-MM-DD).")],
    window_days: Annotated[int, typer.Option("--window-days", help="Length of each window, in days.",
                                             min=1, max=3660)] = 365,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="Output format.")] = ReportFormat.md,
    output: Annotated[Optional[Path], typer.Option("--out", help="Write to this file instead of stdout.")] = None,
    db: DbOption = None,
) -> None:
    """Outcomes in equal windows before and after a policy change, with confidence intervals."""
    from detainers.reports.policy_change import PolicyChangeQuery, build

    query = PolicyChangeQuery(jurisdiction, parse_day(change_date, "--change-date"), window_days=window_days)
    with for_report(db, "public") as conn:
        _known_or_fail(conn, (jurisdiction,))
        report = build(conn, query)
    emit_report(report, fmt.value, output)


@report_app.command("rearrest")
@handle_errors
def report_rearrest(
    date_from: Annotated[str, typer.Option("--from", help="First release day (YYYY-MM-DD).")],
    date_to: Annotated[str, typer.Option("--to", help="Last release day (YYYY-MM-DD), inclusive.")],
    follow_days: Annotated[int, typer.Option("--follow-days", help="Follow-up window after release, in days.",
                                             min=1, max=3660)] = 365,
    audience: Annotated[AudienceChoice, typer.Option(help="public (no identity fields) or restricted.")]
    = AudienceChoice.public,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="Output format.")] = ReportFormat.md,
    output: Annotated[Optional[Path], typer.Option("--out", help="Write to this file instead of stdout.")] = None,
    db: DbOption = None,
) -> None:
    """People released despite a detainer who were booked again, beside comparison groups."""
    from detainers.reports.rearrest import RearrestQuery, build

    query = RearrestQuery(parse_day(date_from, "--from"), parse_day(date_to, "--to"), follow_days=follow_days,
                          audience=audience.value)
    with for_report(db, audience.value) as conn:
        report = build(conn, query)
    emit_report(report, fmt.value, output)


@report_app.command("rebuild")
@handle_errors
def report_rebuild(
    report_file: Annotated[Path, typer.Argument(help="A report written with --format json (it carries a manifest).")],
    fmt: Annotated[ReportFormat, typer.Option("--format", help="Output format.")] = ReportFormat.json,
    output: Annotated[Optional[Path], typer.Option("--out", help="Write to this file instead of stdout.")] = None,
    no_check: Annotated[bool, typer.Option(
        "--no-check-sources", help="Rebuild even if the loaded sources differ from the report's.")] = False,
    db: DbOption = None,
) -> None:
    """Make a report again from its manifest: same parameters, checked against the same sources."""
    from detainers.reports.manifest import rebuild

    try:
        report = json.loads(report_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{report_file}: cannot be read as a JSON report ({exc})") from None
    if not isinstance(report, dict) or "manifest" not in report:
        raise InputError(f"{report_file}: has no manifest (expected a report written by detainers with --format json)")
    emit_report(rebuild(store(db), report["manifest"], check=not no_check), fmt.value, output)


class ExplainFormat(str, Enum):
    table = "table"
    json = "json"


@app.command("explain")
@handle_errors
def explain_cmd(
    report_file: Annotated[Path, typer.Argument(help="A report written with --format json.")],
    path: Annotated[Optional[str], typer.Argument(
        help="Dotted path to a count, e.g. jurisdictions.nc-wake.counts.by_category.dui.")] = None,
    audience: Annotated[AudienceChoice, typer.Option(help="restricted adds ids and identity fields (audited).")]
    = AudienceChoice.public,
    list_paths: Annotated[bool, typer.Option("--list", help="List every count that can be explained.")] = False,
    no_check: Annotated[bool, typer.Option(
        "--no-check-sources", help="Explain even if the loaded sources differ from the report's.")] = False,
    fmt: Annotated[ExplainFormat, typer.Option("--format", help="table or json.")] = ExplainFormat.table,
    db: DbOption = None,
) -> None:
    """List the records and source rows behind a number in a JSON report."""
    from detainers.explain import countable, explain

    try:
        report = json.loads(report_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{report_file}: cannot be read as a JSON report ({exc})") from None
    if list_paths:
        for item in countable(report):
            out.print(escape(str(item)), highlight=False)
        return
    if not path:
        raise InputError("Give the PATH of a count (see --list).")
    with for_report(db, audience.value) as conn:
        result = explain(conn, report, path, audience=audience.value, check_sources=not no_check)
    if fmt == ExplainFormat.json:
        sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")
        return
    records = result.get("records", [])
    out.print(f"{escape(path)} = {result.get('count')} ({len(records)} records)", highlight=False)
    if records:
        columns = list(records[0].keys())
        table = Table(*columns)
        for r in records:
            table.add_row(*(escape(json.dumps(r[c], default=str) if isinstance(r[c], (dict, list)) else
                                   "—" if r[c] is None else str(r[c])) for c in columns))
        out.print(table)


@stats_app.command("outcomes")
@handle_errors
def stats_outcomes(
    by: Annotated[Optional[list[ByChoice]], typer.Option(
        "--by", help="Group by jurisdiction, fy (federal fiscal year), region and/or stance "
                      "(the policy on the day the detainer ended); repeat.")] = None,
    cohort: Annotated[CohortChoice, typer.Option(
        help="Which date places a detainer in a year and in --from/--to: lodged or ended.")] = CohortChoice.lodged,
    date_from: Annotated[Optional[str], typer.Option("--from", help="First day (YYYY-MM-DD), inclusive.")] = None,
    date_to: Annotated[Optional[str], typer.Option("--to", help="Last day (YYYY-MM-DD), inclusive.")] = None,
    jurisdiction: Annotated[Optional[list[str]], typer.Option("--jurisdiction", help="Only these ids.")] = None,
    region: Annotated[Optional[str], typer.Option("--region", help="Only this region.")] = None,
    fmt: Annotated[StatsFormat, typer.Option("--format", help="table, json or csv.")] = StatsFormat.table,
    db: DbOption = None,
) -> None:
    """Detainer outcomes counted by jurisdiction, fiscal year and/or region."""
    from detainers.analytics.provenance import SYNTHETIC_LABEL, is_synthetic, source_list
    from detainers.analytics.stats import OutcomeQuery, outcome_stats
    from detainers.model import OUTCOME_ORDER

    dims = tuple(dict.fromkeys(b.value for b in by)) if by else ("jurisdiction",)
    query = OutcomeQuery(dims, cohort.value, parse_day(date_from, "--from"), parse_day(date_to, "--to"),
                         tuple(jurisdiction or ()), region)
    with store(db).connect() as conn:
        _known_or_fail(conn, query.jurisdiction_ids, region)
        rows = outcome_stats(conn, query)
        synthetic = is_synthetic(source_list(conn))
    if fmt == StatsFormat.json:
        payload = {
            "cohort": query.cohort, "by": list(dims),
            "from": date_from, "to": date_to, "synthetic": synthetic,
            "data_label": SYNTHETIC_LABEL if synthetic else None,
            "definitions": {
                "lodged": "all detainers in the row (the denominator of every outcome count)",
                "cohort": "lodged: counted by the day the detainer was lodged; ended: by the day it ended "
                          "(detainers that have not ended are not in this cohort)",
                "fy": "U.S. federal fiscal year: FY2017 = 2016-10-01 … 2017-09-30",
            },
            "rows": rows,
        }
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
        return
    columns = list(rows[0].keys()) if rows else [*_dim_columns(dims), "lodged", *OUTCOME_ORDER]
    if fmt == StatsFormat.csv:
        from detainers.reports.render import neutralize

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["data_label", *columns])
        for r in rows:
            writer.writerow(["SYNTHETIC" if synthetic else "", *(neutralize(r[c]) for c in columns)])
        sys.stdout.write(buffer.getvalue())
        return
    title = f"Detainer outcomes, {query.cohort} cohort"
    if synthetic:
        title = f"SYNTHETIC — {title}"
    table = Table(*columns, title=title)
    for r in rows:
        table.add_row(*("—" if r[c] is None else escape(str(r[c])) for c in columns))
    out.print(table)
    if synthetic:
        out.print(f"[bold yellow]{SYNTHETIC_LABEL}[/]")


def _known_or_fail(conn, jurisdiction_ids, region: str | None = None) -> None:
    """Unknown ids and regions are errors, not empty answers."""
    from detainers.analytics.policies import check_known

    check_known(conn, jurisdiction_ids, region, flag="--")


def _dim_columns(dims) -> list[str]:
    names = {"jurisdiction": ["jurisdiction_id", "jurisdiction_name", "state"], "fy": ["fy"], "region": ["region"],
             "stance": ["stance"]}
    return [c for d in dims for c in names[d]]


@app.command("classify")
@handle_errors
def classify_cmd(
    texts: Annotated[Optional[list[str]], typer.Argument(help="Charge texts to classify.")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", help="A file with one charge per line.")] = None,
    code: Annotated[Optional[str], typer.Option("--code", help="An offense code that goes with the text.")] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show the normalised text, rule and runner-up.")] = False,
    overrides: Annotated[Optional[Path], typer.Option(
        "--overrides", help="A CSV of overrides (match,value,category); default $DETAINERS_OVERRIDES.")] = None,
    fmt: Annotated[ClassifyFormat, typer.Option("--format", help="table or json.")] = ClassifyFormat.table,
) -> None:
    """Classify charge texts into offense categories (DESIGN §6)."""
    from detainers.offenses import classify, use_overrides
    from detainers.offenses.overrides import load

    if overrides is not None:
        use_overrides(load(overrides))

    items = list(texts or [])
    if file is not None:
        try:
            items += [line.rstrip("\r\n") for line in file.read_text("utf-8-sig").splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"--file: {file} cannot be read as UTF-8 text ({exc})") from None
    if not items:
        raise InputError("Give charge texts as arguments or --file PATH (one charge per line).")
    results = [classify(t, code=code) for t in items]
    if fmt == ClassifyFormat.json:
        rows = []
        for c in results:
            row = {"text": c.text, "category": c.category, "violent": c.violent, "rule": c.rule}
            if explain:
                row.update(normalized=c.normalized, level=c.level, modifier=c.modifier,
                           is_detainer=c.is_detainer, confident=c.confident, runner_up=c.runner_up)
            rows.append(row)
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    if explain:
        out.print("\n\n".join(escape(c.explain()) for c in results), highlight=False)
        return
    table = Table("text", "category", "violent", "rule")
    for c in results:
        table.add_row(escape(c.text), c.category + (" (detainer line)" if c.is_detainer else ""),
                      "yes" if c.violent else "no", escape(c.rule))
    out.print(table)


class SourceKind(str, Enum):
    ice_lesa = "ice-lesa"
    jail_report = "jail-report"
    jail_csv = "jail-csv"
    roster_287g = "287g-roster"
    roster_snapshot = "roster-snapshot"


@app.command("ingest")
@handle_errors
def ingest_cmd(
    kind: Annotated[SourceKind, typer.Argument(help="What kind of file: see docs/sources/.")],
    paths: Annotated[list[Path], typer.Argument(help="One or more files of that kind.")],
    jurisdiction: Annotated[Optional[str], typer.Option(
        "--jurisdiction", help="Whose jail the file describes (jail-report, jail-csv, roster-snapshot).")] = None,
    facility: Annotated[Optional[str], typer.Option(
        "--facility", help="The facility id (default: JURISDICTION-jail).")] = None,
    state: Annotated[Optional[str], typer.Option("--state", help="Two-letter state (reads level codes).")] = None,
    as_of: Annotated[Optional[str], typer.Option(
        "--as-of", help="The date of a 287(g) list or the date and time of a roster snapshot.")] = None,
    mapping: Annotated[Optional[Path], typer.Option(
        "--mapping", help="jail-csv: the mapping file; jail-report: extra dispositions table.")] = None,
    family: Annotated[Optional[str], typer.Option(
        "--family", help="Name of the series this file is a release of (default: kind + file name).")] = None,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    quiet: QuietOption = False,
) -> None:
    """Read published files (ICE releases, jail reports, 287(g) lists, roster snapshots) into the store."""
    from detainers.ingest.base import IngestOptions, default_facility
    from detainers.ingest.load import ingest

    when = _parse_datetime(as_of) if as_of else None
    options = IngestOptions(jurisdiction, default_facility(kind.value, jurisdiction, facility),
                            state.upper() if state else None, when, mapping)
    engine = store(db)
    results = []
    for path in paths:
        try:
            with _progress(f"Reading {path.name}", enabled=not (quiet or as_json)) as tick:
                result = ingest(engine, kind.value, path, options, family=family, progress=tick)
        except InputError as exc:
            if results:
                done = ", ".join(r.path for r in results if not r.already_ingested) or "none"
                exc.changed = (f"{path} was not ingested, nor the files after it. Files ingested before it: "
                               f"{done}.")
                if as_json:
                    sys.stdout.write(json.dumps([r.as_dict() for r in results], indent=2, default=str) + "\n")
            raise
        results.append(result)
        if not (quiet or as_json):
            _print_ingest(result)
    if as_json:
        sys.stdout.write(json.dumps([r.as_dict() for r in results], indent=2, default=str) + "\n")


def _parse_datetime(value: str):
    from datetime import datetime

    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"--as-of: {value!r} is not a date or date-time (expected YYYY-MM-DD or "
                         "YYYY-MM-DDTHH:MM)") from None


class _progress:
    """A progress bar fed by the reader's record counts (only on a terminal)."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.enabled = enabled and err.is_terminal
        self.label = label

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                            TextColumn("{task.completed:,} records"), TimeElapsedColumn(), console=err,
                            transient=True)
        self.bar.start()
        task = self.bar.add_task(self.label, total=None)
        return lambda n: self.bar.update(task, completed=n)

    def __exit__(self, *exc):
        if self.enabled:
            self.bar.stop()
        return False


def _print_ingest(result) -> None:
    if result.already_ingested:
        out.print(f"{escape(result.path)}: already ingested as source #{result.source_id}; nothing changed.")
        return
    out.print(f"Ingested {escape(result.path)} ({result.kind}, {result.records:,} records) as source "
              f"#{result.source_id}.")
    if result.files:
        table = Table("file", "added", "changed", "unchanged")
        for name, f in result.files.items():
            table.add_row(name, str(f.added), str(f.changed), str(f.unchanged))
        out.print(table)
    if result.previous_source_id and result.removed:
        for name, ids in result.removed.items():
            out.print(f"{len(ids)} rows of {name} from the previous release (source #{result.previous_source_id}) "
                      f"are not in this one; they are kept. First: {escape(', '.join(ids[:5]))}")
    if result.roster_changes:
        rc = result.roster_changes
        against = f"the list of {rc['compared_with']}" if rc.get("compared_with") else "no earlier list"
        out.print(f"Compared with {against}: {len(rc['added'])} added, {len(rc['removed'])} removed, "
                  f"{len(rc['changed'])} changed; {rc['agreements']} agreements derived from all lists.")
        for label in ("added", "removed", "changed"):
            for item in rc[label][:20]:
                out.print(f"  {label}: {escape(item)}")
    if result.quality:
        out.print("Data quality (optional cells that could not be used; the rows were kept):")
        for what, n in result.quality.items():
            out.print(f"  {n:>8,}  {escape(what)}")
    for note in result.notes:
        out.print(f"note: {escape(note)}")
    if result.unplaced_facilities:
        out.print(f"{len(result.unplaced_facilities)} facilities have no jurisdiction yet "
                  "(see `detainers facilities --unplaced`; place them with `detainers facilities place`).")


@agreements_app.command("list")
@handle_errors
def agreements_list(
    as_of: Annotated[str, typer.Option("--as-of", help="The day (YYYY-MM-DD).")],
    fmt: Annotated[StatsFormat, typer.Option("--format", help="table, json or csv.")] = StatsFormat.table,
    db: DbOption = None,
) -> None:
    """Agencies with a 287(g) agreement in force on a day."""
    from detainers.analytics.agreements import agreements_on

    with store(db).connect() as conn:
        rows = agreements_on(conn, parse_day(as_of, "--as-of"))
    if fmt == StatsFormat.json:
        sys.stdout.write(json.dumps({"as_of": as_of, "rows": rows}, indent=2) + "\n")
        return
    columns = ["state", "agency", "county_fips", "models", "signed_on", "active_from", "active_to"]
    if fmt == StatsFormat.csv:
        from detainers.reports.render import neutralize

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for r in rows:
            writer.writerow([neutralize(" ".join(r[c]) if c == "models" else r[c]) for c in columns])
        sys.stdout.write(buffer.getvalue())
        return
    table = Table(*columns, title=f"287(g) agreements in force on {as_of}")
    for r in rows:
        table.add_row(*(escape(" ".join(r[c]) if c == "models" else str(r[c] or "—")) for c in columns))
    out.print(table)


@facilities_app.callback(invoke_without_command=True)
@handle_errors
def facilities_cmd(
    ctx: typer.Context,
    unplaced: Annotated[bool, typer.Option("--unplaced", help="Only facilities with no jurisdiction.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """List facilities (with --unplaced: those no jurisdiction has been assigned to)."""
    if ctx.invoked_subcommand is not None:
        return
    from detainers.facilities import facility_list

    with store(db).connect() as conn:
        rows = facility_list(conn, unplaced=unplaced)
    if as_json:
        sys.stdout.write(json.dumps({"rows": rows}, indent=2) + "\n")
        return
    table = Table("facility_id", "name", "code", "city", "state", "jurisdiction_id")
    for r in rows:
        table.add_row(*(escape(str(r[c] or "—")) for c in ("facility_id", "name", "code", "city", "state",
                                                            "jurisdiction_id")))
    out.print(table)


@facilities_app.command("place")
@handle_errors
def facilities_place(
    facility: Annotated[str, typer.Argument(help="Facility id or ICE facility code.")],
    jurisdiction: Annotated[str, typer.Argument(help="Jurisdiction id.")],
    db: DbOption = None,
) -> None:
    """Assign one facility to a jurisdiction."""
    from detainers.facilities import place

    with store(db).begin() as conn:
        before = place(conn, facility, jurisdiction)
    out.print(f"{escape(facility)} now belongs to {escape(jurisdiction)}"
              + (f" (was {escape(before)})." if before else "."))


@facilities_app.command("load")
@handle_errors
def facilities_load(
    path: Annotated[Path, typer.Argument(help="CSV with columns facility_id (or facility) and jurisdiction_id.")],
    db: DbOption = None,
) -> None:
    """Assign many facilities at once from a file (all or nothing)."""
    from detainers.facilities import place_from_file

    with store(db).begin() as conn:
        count = place_from_file(conn, path)
    out.print(f"Placed {count} facilities.")


@app.command("reclassify")
@handle_errors
def reclassify_cmd(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Classify every stored charge again (after the tables or $DETAINERS_OVERRIDES changed); list what moved."""
    from detainers import interrupted
    from detainers.reclassify import reclassify

    engine = store(db)
    with interrupted.guard(engine, "re-classification", "every stored charge") as mark, engine.begin() as conn:
        result = reclassify(conn)
        mark.done(conn)
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return
    out.print(f"{result['charges']:,} charges checked with classifier tables {result['version']}; "
              f"{result['updated']:,} rows updated.")
    if result["category_changes"]:
        table = Table("from", "to", "charges", title="Category changes")
        for m in result["category_changes"]:
            table.add_row(m["from"], m["to"], str(m["charges"]))
        out.print(table)
    else:
        out.print("No charge changed category.")


@app.command("sources")
@handle_errors
def sources_cmd(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """What was loaded, when, with row counts."""
    from detainers.analytics.provenance import source_list

    with store(db).connect() as conn:
        rows = source_list(conn)
    if as_json:
        sys.stdout.write(json.dumps({"rows": rows}, indent=2) + "\n")
        return
    table = Table("id", "kind", "name", "loaded at", "rows", "cells nulled", "synthetic", "sha256")
    for s in rows:
        table.add_row(str(s["source_id"]), escape(s["kind"]), escape(s["name"]), s["loaded_at"], str(s["rows_read"]),
                      str(sum(s["quality"].values())), "yes" if s["synthetic"] else "no", s["sha256"][:16] + "…")
    out.print(table)


@app.command("recompute")
@handle_errors
def recompute_cmd(db: DbOption = None, quiet: QuietOption = False) -> None:
    """Re-derive every detainer's outcome (after editing the lift-reason table, say)."""
    from detainers import audit, outcomes
    from detainers.store import summary, version

    with store(db).begin() as conn:
        result = outcomes.recompute(conn)
        summary.refresh(conn)
        version.bump(conn)
        audit.record(conn, "recompute", result)
    if not quiet:
        out.print(f"{result['detainers']} detainers checked; {result['changed']} changed outcome or end date; "
                  f"{result['without_booking']} have no booking.")


@audit_app.command("verify")
@handle_errors
def audit_verify(db: DbOption = None) -> None:
    """Check that no audit entry was changed or removed."""
    from detainers import audit

    with store(db).connect() as conn:
        problems = audit.verify(conn)
    if problems:
        for p in problems:
            err.print(f"[bold red]tampered:[/] {escape(p)}")
        raise typer.Exit(1)
    out.print("The audit chain is intact.")


@app.command("demo")
@handle_errors
def demo_cmd(
    db: DbOption = None,
    output: Annotated[Path, typer.Option("--out", help="Folder for the demo package and reports.")]
    = Path("demo-output"),
    scale: Annotated[Optional[int], typer.Option(
        help="Also generate about this many further synthetic detainers.", min=0)] = None,
) -> None:
    """Build the labelled SYNTHETIC demo, import it, and write its reports in every format."""
    from detainers.demo_run import run_demo

    run_demo(database_url(db), output, scale=scale, console=out)


class SyntheticFormat(str, Enum):
    package = "package"
    ice_lesa = "ice-lesa"


@app.command("synthetic")
@handle_errors
def synthetic_cmd(
    path: Annotated[Path, typer.Argument(help="Folder for the package (ice-lesa: a .csv file, or a folder for it).")],
    detainers: Annotated[str, typer.Option("--detainers", "-n", help="How many detainers: 3000, 100k, 1M, 5M.")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed and size give the same bytes.")] = 2012,
    fmt: Annotated[SyntheticFormat, typer.Option("--format", help="package: a data package for `detainers import`; "
                                                 "ice-lesa: an ERO-LESA release for `detainers ingest ice-lesa`.")]
    = SyntheticFormat.package,
    quiet: QuietOption = False,
) -> None:
    """Write SYNTHETIC national-scale data for benchmarks: real county names, every record invented."""
    import time

    from detainers.national import NOTE, parse_size, write_national_lesa, write_national_package

    try:
        count = parse_size(detainers)
    except ValueError as exc:
        raise InputError(f"--detainers: {exc}") from None
    if fmt == SyntheticFormat.ice_lesa and path.suffix.lower() != ".csv":
        path = path / "ice-lesa-synthetic.csv"
    target = path if fmt == SyntheticFormat.package else path.parent
    if target.is_file():
        raise InputError(f"{target} is a file (expected a folder)")
    if fmt == SyntheticFormat.package and target.is_dir() and any(target.iterdir()):
        toml = target / "package.toml"
        if not (toml.is_file() and 'generated_by = "detainers synthetic"' in toml.read_text("utf-8", "replace")):
            raise InputError(f"{target} is not empty and holds no earlier synthetic package "
                             "(expected a new or empty folder, so no other package is overwritten)")
    started = time.perf_counter()
    with err.status("Writing SYNTHETIC data…", spinner="dots") if not quiet and err.is_terminal else _null():
        if fmt == SyntheticFormat.package:
            facts = write_national_package(path, detainers=count, seed=seed)
        else:
            rows = write_national_lesa(path, detainers=count, seed=seed)
    if quiet:
        return
    seconds = time.perf_counter() - started
    if fmt == SyntheticFormat.package:
        out.print(f"[bold yellow]{escape(facts.lines()[0])}[/]")
        for line in facts.lines()[1:]:
            out.print(escape(line), highlight=False)
        out.print(f"Wrote the SYNTHETIC package {escape(str(path))} in {seconds:.1f} s; load it with "
                  f"`detainers import {escape(str(path))}`.", highlight=False)
    else:
        out.print(f"[bold yellow]{escape(NOTE)}[/]")
        out.print(f"Wrote a SYNTHETIC ICE ERO-LESA release, {rows:,} detainers (seed {seed}), to "
                  f"{escape(str(path))} in {seconds:.1f} s; load it with "
                  f"`detainers ingest ice-lesa {escape(str(path))}`.", highlight=False)


@app.command("backup")
@handle_errors
def backup_cmd(
    path: Annotated[Path, typer.Argument(help="The backup file to write (replaced only when the new one is complete).")],
    db: DbOption = None,
) -> None:
    """A consistent copy of the whole database, while it is in use (it holds identity fields: keep it restricted)."""
    from detainers.backup import backup

    result = backup(store(db), path)
    out.print(f"Wrote {escape(result.path)} ({result.size:,} bytes, {result.backend}, schema {result.revision}). "
              "It holds names and dates of birth: keep it where only the restricted audience can read it.")


@app.command("restore")
@handle_errors
def restore_cmd(
    path: Annotated[Path, typer.Argument(help="A file written by `detainers backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Replace the database without asking.")] = False,
    db: DbOption = None,
) -> None:
    """Replace the database with a backup, all of it or nothing; an older backup is brought to this schema."""
    from detainers.backup import restore

    url = database_url(db)
    if not yes:
        if not sys.stdin.isatty():
            raise InputError("restore replaces everything in the database: give --yes to confirm")
        typer.confirm(f"Replace everything in {escape(url)} with {path}?", abort=True)
    result = restore(url, path)
    out.print(f"Restored {escape(result.path)} into {escape(url)} (schema {result.revision}).")


@app.callback(invoke_without_command=True)
def root(version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False) -> None:
    if version:
        out.print(f"detainers {__version__}")
        raise typer.Exit(0)


# The web process and its accounts live with the web package; importing registers their commands.
from detainers.web import commands as _web_commands  # noqa: E402,F401


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
