"""Upload a published file (or a data package as a .zip) and ingest it in the background.

The file is streamed to a private temporary folder with a size limit, keeping its
own name so that error messages name it as the user knows it; the ingest runs as a
job (`detainers.web.jobs`) whose page polls for progress and, when done, shows the
same figures `detainers ingest` and `detainers import` print. The ingest code writes
its own audit entry, for the web user who uploaded.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path, PurePosixPath

from fastapi import APIRouter, Depends, Path as PathParam, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy import func, select
from starlette.exceptions import HTTPException

from detainers.datapackage.spec import FILES, CellError, read_date
from detainers.errors import InputError, Problem
from detainers.ingest import catalogue
from detainers.ingest.base import IngestOptions, default_facility, state_code
from detainers.store.schema import detainers, jurisdictions
from detainers.web.deps import CsrfFailed, Principal, csrf_checked, require
from detainers.web.jobs import KEEP_FINISHED, Job, registry
from detainers.web.templating import env, page

router = APIRouter(include_in_schema=False)
may_upload = require("admin", "analyst")


@dataclass(frozen=True)
class Kind:
    """What one kind of upload is and which form fields it uses."""

    kind: str
    title: str
    fields: tuple[str, ...]
    required: tuple[str, ...] = ()
    accept: str = ""
    hint: str = ""


_TITLES = {row["kind"]: row["title"] for row in catalogue()}
KINDS: dict[str, Kind] = {k.kind: k for k in (
    Kind("ice-lesa", _TITLES["ice-lesa"], ("family",), accept=".xlsx,.xls,.csv",
         hint="An ICE ERO-LESA detainer release: the Excel workbook (or a CSV of it) as published."),
    Kind("jail-report", _TITLES["jail-report"], ("jurisdiction", "facility", "state", "mapping", "family"),
         ("jurisdiction",), ".csv",
         hint="A sheriff's report of people in custody with an ICE detainer, converted to CSV. "
              "The second file, if given, is an extra dispositions table."),
    Kind("jail-csv", _TITLES["jail-csv"], ("jurisdiction", "facility", "state", "mapping", "family"),
         ("jurisdiction", "mapping"), ".csv",
         hint="A jail system's export, read through a mapping file (TOML) that names its columns."),
    Kind("287g-roster", _TITLES["287g-roster"], ("as_of_date", "family"), ("as_of_date",), ".xlsx,.xls,.csv",
         hint="ICE's list of 287(g) participating agencies; give the date the list was published."),
    Kind("roster-snapshot", _TITLES["roster-snapshot"], ("jurisdiction", "facility", "state", "as_of_time", "family"),
         ("jurisdiction", "as_of_time"), ".csv,.json",
         hint="One jail roster (who was in custody) saved at one moment; give the date and time it was saved."),
    Kind("package", "Canonical data package (.zip)", (), accept=".zip",
         hint="A data package folder (jurisdictions.csv, policies.csv, detainers.csv, …) packed as a .zip: "
              "imported all or nothing, exactly like `detainers import`."),
)}

#: Bytes of form fields allowed besides the files (tokens, options, multipart headers).
FORM_SLACK = 64 * 1024
MAX_FIELD = 4096
MAX_PARTS = 20
FILE_FIELDS = ("file", "mapping")
#: A data package has about ten files; a zip with many more is not one.
MAX_ZIP_ENTRIES = 200
#: Unpacked, a zip may hold this many times the upload limit (CSV packs well, but not endlessly).
UNZIP_FACTOR = 8


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"The upload is larger than this installation allows ({_size(limit)}). "
                              "Nothing was ingested. Split the file, or ask an admin to raise "
                              "DETAINERS_MAX_UPLOAD_MB.")


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):,.0f} MB" if n % (1024 * 1024) == 0 else f"{n / (1024 * 1024):,.1f} MB"
    return f"{n / 1024:,.0f} KB" if n >= 1024 else f"{n:,} bytes"


def safe_name(name: str, fallback: str = "upload") -> str:
    """The file's own name, without folders or characters a file system or a log would trip on."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = re.sub(r"[^\w.()+ -]", "_", base, flags=re.UNICODE).strip(" .")
    base = re.sub(r"\s+", " ", base)
    if len(base) > 120:
        stem, dot, ext = base.rpartition(".")
        base = (stem[:110] + dot + ext[:9]) if dot and len(ext) <= 9 else base[:120]
    return base or fallback


# --- receiving the upload -----------------------------------------------------------------


@dataclass
class Received:
    """A streamed upload: form fields, and the files saved in a private folder."""

    folder: Path
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class _Stream:
    """Feeds python-multipart and writes file parts straight to disk, counting bytes."""

    def __init__(self, received: Received, limit: int, token_ok: Callable[[str | None], bool],
                 header_token: str | None) -> None:
        self.received = received
        self.limit = limit
        self.token_ok = token_ok
        self.csrf_passed = token_ok(header_token) if header_token is not None else False
        self.file_bytes = 0
        self.parts = 0
        self.pending: list[tuple[object, bytes]] = []
        self._reset()

    def _reset(self) -> None:
        self.header_name = b""
        self.header_value = b""
        self.disposition = b""
        self.field_name: str | None = None
        self.data = bytearray()
        self.handle = None
        self.skip = False

    # python-multipart callbacks
    def on_part_begin(self) -> None:
        self._reset()
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise InputError(f"The form has more than {MAX_PARTS} parts (expected the upload form's fields).")

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        if self.header_name.strip().lower() == b"content-disposition":
            self.disposition = self.header_value
        self.header_name = self.header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.disposition)
        self.field_name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in options:
            return
        filename = options[b"filename"].decode("utf-8", "replace")
        if self.field_name not in FILE_FIELDS or not filename or self.field_name in self.received.files:
            self.skip = True  # no file chosen, or a field this form does not have
            return
        if not self.csrf_passed:
            # The form puts its token before the files: nothing is written for a request without one.
            raise CsrfFailed()
        where = self.received.folder / self.field_name
        where.mkdir(mode=0o700)
        path = where / safe_name(filename)
        self.handle = open(path, "xb")  # noqa: SIM115 - closed in on_part_end or by discard()
        self.received.files[self.field_name] = path

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.skip:
            return
        chunk = data[start:end]
        if self.handle is not None:
            self.file_bytes += len(chunk)
            if self.file_bytes > self.limit:
                raise _too_large(self.limit)
            self.pending.append((self.handle, bytes(chunk)))
        else:
            if len(self.data) + len(chunk) > MAX_FIELD:
                raise InputError(f"Form field {self.field_name!r} is longer than {MAX_FIELD:,} characters.")
            self.data.extend(chunk)

    def on_part_end(self) -> None:
        if self.handle is not None:
            self.pending.append((self.handle, b""))  # b"": close after the writes before it
        elif not self.skip and self.field_name:
            value = self.data.decode("utf-8", "replace")
            self.received.fields.setdefault(self.field_name, value)
            if self.field_name == "csrf_token" and not self.csrf_passed:
                self.csrf_passed = self.token_ok(value)
        self._reset()

    def flush(self) -> None:
        """Write (and close) what the callbacks queued; run in a worker thread."""
        for handle, chunk in self.pending:
            if chunk:
                handle.write(chunk)
            else:
                handle.close()
        self.pending.clear()


async def received_upload(request: Request, p: Principal = Depends(may_upload)) -> Received:
    """Stream the multipart form to a private folder: CSRF first, size limit throughout."""
    settings = request.app.state.settings
    limit = settings.max_upload_bytes
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + FORM_SLACK:
        raise _too_large(limit)  # refused before a byte of it is read
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        await csrf_checked(request)
        raise InputError("The upload must be sent from the upload form (multipart/form-data with a file).")
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise InputError("The upload form's data has no multipart boundary; send it from the upload form.")
    signer = request.app.state.signer
    received = Received(Path(tempfile.mkdtemp(prefix="detainers-upload-")))
    stream = _Stream(received, limit, lambda token: signer.csrf_ok(p.sid, token),
                     request.headers.get("x-csrf-token"))
    parser = MultipartParser(boundary, {
        "on_part_begin": stream.on_part_begin, "on_part_data": stream.on_part_data,
        "on_part_end": stream.on_part_end, "on_header_field": stream.on_header_field,
        "on_header_value": stream.on_header_value, "on_header_end": stream.on_header_end,
        "on_headers_finished": stream.on_headers_finished})
    try:
        try:
            async for chunk in request.stream():
                parser.write(chunk)
                if stream.pending:
                    await run_in_threadpool(stream.flush)
            parser.finalize()
        except FormParserError:
            raise InputError("The upload could not be read as a form (it was cut off or malformed); "
                             "send it again from the upload form.") from None
        await run_in_threadpool(stream.flush)
        if not stream.csrf_passed:
            raise CsrfFailed()
    except BaseException:
        for handle, _ in stream.pending:
            handle.close()
        if stream.handle is not None:
            stream.handle.close()
        received.discard()
        raise
    return received


# --- what the form asks, checked ----------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    kind: str
    path: Path
    options: IngestOptions
    family: str | None


_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def check_form(conn, received: Received, limits: dict) -> Upload:
    """The upload as the ingest needs it, or an InputError saying which field is wrong."""
    fields = {k: v.strip() for k, v in received.fields.items()}
    kind = fields.get("kind", "")
    spec = KINDS.get(kind)
    if spec is None:
        raise InputError(f"Kind {kind!r} is not one this page can load (expected one of {', '.join(KINDS)}).")
    path = received.files.get("file")
    if path is None or path.stat().st_size == 0:
        raise InputError("Choose the file to upload (the one chosen was empty)." if path else
                         "Choose the file to upload.")
    if "mapping" in received.files and "mapping" not in spec.fields:
        raise InputError(f"A second file is not used for {kind} uploads; upload only the file.")
    missing = [name for name in spec.required if name != "mapping" and not fields.get(name)]
    if "mapping" in spec.required and "mapping" not in received.files:
        missing.append("mapping")
    if missing:
        raise InputError("Fill in " + ", ".join(LABELS[m] for m in missing) + f" (needed for {kind} files).")
    jurisdiction = fields.get("jurisdiction") if "jurisdiction" in spec.fields else None
    if jurisdiction:
        found = conn.execute(select(jurisdictions.c.jurisdiction_id).where(
            jurisdictions.c.jurisdiction_id == jurisdiction)).scalar()
        if found is None:
            raise InputError(f"Jurisdiction: {jurisdiction!r} is not a known jurisdiction id "
                             "(pick one from the list; new ones come in a data package's jurisdictions.csv).")
    facility = fields.get("facility") if "facility" in spec.fields else None
    if facility and not _ID.match(facility):
        raise InputError(f"Facility: {facility!r} is not an id (expected letters, digits, '.', '_', ':' or '-').")
    state = None
    if "state" in spec.fields and fields.get("state"):
        state = state_code(fields["state"])
        if state is None:
            raise InputError(f"State: {fields['state']!r} is not a U.S. state (expected a two-letter code).")
    as_of = None
    if "as_of_date" in spec.fields and fields.get("as_of_date"):
        try:
            day = read_date(fields["as_of_date"])
        except CellError as exc:
            raise InputError(f"List date: {fields['as_of_date']!r} {exc}") from None
        as_of = datetime(day.year, day.month, day.day)
    if "as_of_time" in spec.fields and fields.get("as_of_time"):
        as_of = _read_moment(fields["as_of_time"])
    family = fields.get("family") if "family" in spec.fields else None
    if family and len(family) > 200:
        raise InputError("Series name: longer than 200 characters.")
    if kind == "package":
        check_zip(path, limits)
    options = IngestOptions(jurisdiction, default_facility(kind, jurisdiction, facility), state,
                            as_of, received.files.get("mapping"))
    return Upload(kind, path, options, family or None)


LABELS = {"jurisdiction": "Jurisdiction", "facility": "Facility", "state": "State", "mapping": "Second file",
          "as_of_date": "List date", "as_of_time": "Saved at", "family": "Series name"}


def _read_moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"Saved at: {value!r} is not a date and time (expected YYYY-MM-DD HH:MM).") from None
    if not 1900 <= moment.year <= 2100:
        raise InputError(f"Saved at: {value!r} is outside the years 1900–2100.")
    return moment.replace(tzinfo=None)


# --- data packages as .zip ----------------------------------------------------------------


def _zip_limits(settings) -> dict:
    return {"entries": MAX_ZIP_ENTRIES, "bytes": UNZIP_FACTOR * settings.max_upload_bytes}


def _members(archive: zipfile.ZipFile, name: str, limits: dict) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """The files to unpack, each checked: a relative path inside the folder, no link, within the limits."""
    infos = archive.infolist()
    if len(infos) > limits["entries"]:
        raise InputError(Problem(name, None, None, None, f"holds {len(infos):,} entries (expected a data package "
                                                         f"of at most {limits['entries']} files)"))
    members, total, seen = [], 0, set()
    for info in infos:
        raw = info.filename
        parts = [p for p in re.split(r"[\\/]", raw) if p not in ("", ".")]
        if raw.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", raw) or ".." in parts:
            raise InputError(Problem(name, None, None, raw, "is a path outside the package folder (an absolute "
                                                            "path or '..'); expected paths inside the zip"))
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise InputError(Problem(name, None, None, raw, "is a symbolic link (expected plain files)"))
        if info.flag_bits & 0x1:
            raise InputError(Problem(name, None, None, raw, "is encrypted (expected a zip without a password)"))
        if info.is_dir() or not parts or parts[0] == "__MACOSX" or parts[-1].startswith("._") \
                or parts[-1] == ".DS_Store":
            continue
        key = "/".join(parts).lower()  # one file per name, also where names differ only in case
        if key in seen:
            raise InputError(Problem(name, None, None, raw, "appears twice in the zip (expected each file once)"))
        seen.add(key)
        total += info.file_size
        if total > limits["bytes"]:
            raise InputError(Problem(name, None, None, None, f"unpacks to more than {_size(limits['bytes'])} "
                                                             "(expected a data package within that size)"))
        members.append((info, PurePosixPath(*parts)))
    return members


def check_zip(path: Path, limits: dict) -> None:
    """Refuse a zip that is not one, or whose entries could leave the folder (before any job starts)."""
    try:
        with zipfile.ZipFile(path) as archive:
            _members(archive, path.name, limits)
    except zipfile.BadZipFile:
        raise InputError(Problem(path.name, None, None, None, "is not a zip file (expected a data package "
                                                              "folder packed as .zip)")) from None


def unzip_package(path: Path, target: Path, limits: dict) -> Path:
    """Unpack safely under `target`; the package folder (the zip's root, or its one top folder)."""
    written = 0
    with zipfile.ZipFile(path) as archive:
        for info, relative in _members(archive, path.name, limits):
            destination = target.joinpath(*relative.parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source, open(destination, "xb") as out:
                for block in iter(lambda: source.read(1 << 20), b""):
                    written += len(block)
                    if written > limits["bytes"]:  # the sizes a zip declares can lie
                        raise InputError(Problem(path.name, None, None, None,
                                                 f"unpacks to more than {_size(limits['bytes'])}"))
                    out.write(block)
    names = {spec.name for spec in FILES}
    if any((target / n).is_file() for n in names):
        return target
    folders = [p for p in target.iterdir() if p.is_dir()]
    if len(folders) == 1 and not any(p.is_file() for p in target.iterdir()):
        return folders[0]
    return target  # import_package says which files it expected


# --- the job ------------------------------------------------------------------------------


def _as_uploaded(exc: InputError, folder: Path) -> InputError:
    """The same error, naming files as the user knows them rather than by their temporary path."""
    roots = sorted({str(p) + os.sep for p in [folder, *folder.rglob("*")] if p.is_dir()}, key=len, reverse=True)

    def clean(text):
        if not isinstance(text, str):
            return text
        for root in roots:
            text = text.replace(root, "")
        return text

    problems = [replace(p, file=clean(p.file), value=clean(p.value), expected=clean(p.expected))
                if isinstance(p, Problem) else clean(str(p)) for p in exc.problems]
    told = InputError(problems, more=exc.more)
    told.changed = exc.changed
    return told


def _work(engine, upload: Upload, folder: Path, limits: dict):
    def work(update) -> dict:
        try:
            if upload.kind == "package":
                from detainers.datapackage.importer import import_package

                update(stage="unpacking")
                root = unzip_package(upload.path, folder / "package" / Path(upload.path.name).stem, limits)
                result = import_package(engine, root, stage=lambda s: update(stage=s))
                update(stage="summarising")
                return summary_of_import(engine, result, upload.path.name)
            from detainers.ingest.load import ingest

            result = ingest(engine, upload.kind, upload.path, upload.options, family=upload.family,
                            progress=_every(0.25, lambda n: update(records=n)), stage=lambda s: update(stage=s))
            update(stage="summarising")
            return summary_of_ingest(engine, result, upload.path.name)
        except InputError as exc:
            raise _as_uploaded(exc, folder) from None
    return work


def _every(seconds: float, tell: Callable[[int], None]) -> Callable[[int], None]:
    """Pass record counts on at most every `seconds` (readers may report every record)."""
    last = [0.0]

    def passed(n: int) -> None:
        now = time.monotonic()
        if now - last[0] >= seconds:
            last[0] = now
            tell(n)
    return passed


def _duplicates(engine, source_id: int | None) -> int:
    if source_id is None:
        return 0
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(detainers).where(
            detainers.c.source_id == source_id, detainers.c.duplicate_of.is_not(None))).scalar_one()


def _files(files: dict) -> list[dict]:
    return [{"name": name, "added": f.added, "changed": f.changed, "unchanged": f.unchanged}
            for name, f in files.items()]


def summary_of_ingest(engine, result, file_name: str) -> dict:
    """What `detainers ingest` prints, as data for the job page."""
    files = _files(result.files)
    return {
        "type": "ingest", "kind": result.kind, "file": file_name, "source_id": result.source_id,
        "already": result.already_ingested, "family": result.family, "records": result.records,
        "files": files, "totals": _totals(files),
        "quality": sorted(result.quality.items()), "notes": list(result.notes),
        "unplaced": list(result.unplaced_facilities), "without_booking": result.without_booking,
        "duplicates": 0 if result.already_ingested else _duplicates(engine, result.source_id),
        "previous_source_id": result.previous_source_id,
        "removed": [(name, len(ids)) for name, ids in result.removed.items()],
        "roster_changes": result.roster_changes, "synthetic": False,
        "claim_disagreements": 0, "detainer_lines_in_charges": 0,
    }


def summary_of_import(engine, result, file_name: str) -> dict:
    """What `detainers import` prints, as data for the job page."""
    files = _files(result.files)
    totals = _totals(files)
    return {
        "type": "package", "kind": "package", "file": file_name, "source_id": result.source_id,
        "already": result.already_imported, "family": None, "records": totals["read"],
        "files": files, "totals": totals, "quality": [], "notes": list(result.warnings), "unplaced": [],
        "without_booking": len(result.without_booking),
        "duplicates": 0 if result.already_imported else _duplicates(engine, result.source_id),
        "previous_source_id": None, "removed": [], "roster_changes": None, "synthetic": result.synthetic,
        "claim_disagreements": len(result.claim_disagreements),
        "detainer_lines_in_charges": result.detainer_lines_in_charges,
    }


def _totals(files: list[dict]) -> dict:
    added = sum(f["added"] for f in files)
    changed = sum(f["changed"] for f in files)
    unchanged = sum(f["unchanged"] for f in files)
    return {"added": added, "changed": changed, "unchanged": unchanged, "read": added + changed + unchanged}


# --- pages --------------------------------------------------------------------------------


def _form_page(request: Request, p: Principal, kind: str, *, values: dict | None = None, error: str | None = None,
               status_code: int = 200):
    engine = request.app.state.engine
    with engine.connect() as conn:
        places = conn.execute(select(jurisdictions.c.jurisdiction_id, jurisdictions.c.name, jurisdictions.c.state)
                              .order_by(jurisdictions.c.state, jurisdictions.c.name)).all()
    recent = registry(request.app).recent(p.user.username, p.role)
    return page(request, "upload.html", status_code=status_code, title="Upload", nav="upload", kinds=KINDS,
                spec=KINDS[kind], values=values or {}, error=error, jurisdictions=places, recent=recent,
                limit=_size(request.app.state.settings.max_upload_bytes), labels=LABELS,
                keep=KEEP_FINISHED)


@router.get("/upload")
def upload_form(request: Request, kind: str = Query("ice-lesa", max_length=40),
                p: Principal = Depends(may_upload)):
    if kind not in KINDS:
        raise HTTPException(404, f"No upload kind {kind!r} (expected one of {', '.join(KINDS)}).")
    return _form_page(request, p, kind)


@router.post("/upload")
def upload(request: Request, received: Received = Depends(received_upload), p: Principal = Depends(may_upload)):
    engine = request.app.state.engine
    limits = _zip_limits(request.app.state.settings)
    try:
        with engine.connect() as conn:
            upload = check_form(conn, received, limits)
    except InputError as exc:
        received.discard()
        kind = received.fields.get("kind", "")
        values = {k: v for k, v in received.fields.items() if k != "csrf_token"}
        return _form_page(request, p, kind if kind in KINDS else "ice-lesa", values=values, error=exc.message(),
                          status_code=422)
    except BaseException:
        received.discard()
        raise
    job = registry(request.app).submit(p.user.username, upload.kind, upload.path.name,
                                       _work(engine, upload, received.folder, limits),
                                       actor=p.actor, address=p.address, cleanup=received.discard)
    return RedirectResponse(f"/upload/jobs/{job.job_id}", status_code=303)


JobId = PathParam(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


def _job(request: Request, p: Principal, job_id: str) -> Job:
    job = registry(request.app).get(job_id)
    # Someone else's job is as absent as one that never was: its id says nothing.
    if job is None or not job.visible_to(p.user.username, p.role):
        raise HTTPException(404, f"No upload job {job_id!r} (the newest {KEEP_FINISHED} finished jobs are kept).")
    return job


STAGES = ("starting", "unpacking", "reading", "checking", "writing", "writing the list and deriving agreements",
          "deriving outcomes", "summarising", "finished")


def _share(job: Job) -> int:
    """How far along the bar is drawn (stages, not bytes: each stage takes what it takes)."""
    if job.over:
        return 100
    if job.state == "queued":
        return 3
    position = STAGES.index(job.stage) if job.stage in STAGES else 0
    return 8 + int(84 * position / (len(STAGES) - 1))


def _status_context(job: Job) -> dict:
    return {"job": job, "share": _share(job)}


@router.get("/upload/jobs/{job_id}")
def job_page(request: Request, job_id: str = JobId, p: Principal = Depends(may_upload)):
    job = _job(request, p, job_id)
    return page(request, "upload_job.html", title=f"Upload: {job.file_name}", nav="upload",
                **_status_context(job))


@router.get("/upload/jobs/{job_id}/status")
def job_status(request: Request, job_id: str = JobId, p: Principal = Depends(may_upload)):
    """The status panel alone, for the job page's polling."""
    job = _job(request, p, job_id)
    return HTMLResponse(env.get_template("_upload_status.html").render(**_status_context(job)))

