"""Upload jobs: an ingest running in a background thread, and what its page shows of it.

The ingest runs in the server process that took the upload (the file is in its temp folder); the
job's row — state, stage, records so far, summary or error — is in the database, so that every
server process of an installation (`detainers serve --workers N`, or several behind a proxy) shows
every job. The row is written outside the ingest's own transaction: on PostgreSQL each change
commits by itself, without the writer lock; on SQLite it goes to a companion file beside the
database (`<database>-jobs`), because the ingest holds the database's one write lock until it
commits. The data the job wrote is in the database either way; the row only tells its progress.

Jobs run one at a time across all server processes, in the order they came: each ingest is one
transaction, and two writing at once would only wait on each other's locks. A job starts when no
earlier job is still queued or running. Each process says every BEAT seconds that its jobs are
alive; a job whose process has been silent for LOST_AFTER seconds (it was killed, say) is shown as
stopped, and no longer holds up the jobs after it.
"""

from __future__ import annotations

import json
import logging
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Connection, Engine, and_, delete, func, or_, select, update

from detainers import audit
from detainers.errors import InputError
from detainers.store.db import make_engine
from detainers.store.schema import upload_jobs

log = logging.getLogger("detainers.web.jobs")

#: Finished jobs kept for their pages; the oldest go first.
KEEP_FINISHED = 200
#: How often a process says its jobs are alive, and after how long without a word a job is lost.
BEAT = 5.0
LOST_AFTER = 60.0
#: How often a job waiting for earlier ones looks again.
WAIT_POLL = 0.25

OVER = ("done", "failed")
QUEUED_STAGE = "waiting for earlier uploads to finish"


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _utc(value: datetime | None) -> datetime | None:
    # SQLite gives back the naive UTC time it was given.
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


@dataclass(frozen=True)
class Job:
    """One upload as its page shows it (a snapshot of its row)."""

    job_id: str
    owner: str  # the user name of who uploaded it
    kind: str
    file_name: str
    created: datetime
    state: str = "queued"
    stage: str = QUEUED_STAGE
    records: int = 0
    started: datetime | None = None
    finished: datetime | None = None
    #: what the ingest reported (see upload.summary_of_*), when done
    summary: dict | None = None
    #: the message for the user, when failed
    error: str | None = None
    #: "input" (the file is wrong; nothing was changed), "bug" (ours; logged) or "lost" (its
    #: server process stopped while it ran)
    error_kind: str | None = None
    #: what was changed after all, when an input error says so
    changed: str | None = None

    @property
    def over(self) -> bool:
        return self.state in OVER

    def visible_to(self, username: str | None, role: str) -> bool:
        """Only the one who uploaded it, or an admin, may see a job."""
        return role == "admin" or (username is not None and username == self.owner)


def _job_of(row, now: datetime) -> Job:
    job = Job(row.job_id, row.owner, row.kind, row.file_name, _utc(row.created_at), row.state, row.stage,
              row.records, _utc(row.started_at), _utc(row.finished_at),
              json.loads(row.summary) if row.summary is not None else None, row.error, row.error_kind, row.changed)
    if not job.over and _utc(row.heartbeat_at) < now - timedelta(seconds=LOST_AFTER):
        job = replace(job, state="failed", stage="stopped", error_kind="lost",
                      error=f"The server process that had this upload stopped before it finished (nothing "
                            f"heard from it since {_utc(row.heartbeat_at):%Y-%m-%d %H:%M:%S} UTC). If the "
                            f"sources list does not show the file, upload it again.")
    return job


def _columns(values: dict) -> dict:
    """A job's fields as its row's columns."""
    names = {"created": "created_at", "started": "started_at", "finished": "finished_at"}
    out = {names.get(k, k): v for k, v in values.items()}
    if "summary" in out and out["summary"] is not None:
        out["summary"] = json.dumps(out["summary"], default=str)
    return out


class JobRows:
    """Where job rows live, written outside any ingest's transaction (see the module's docstring)."""

    def __init__(self, engine: Engine) -> None:
        self._companion = engine.dialect.name == "sqlite"
        if self._companion:
            path = _companion_path(engine)
            self.engine = make_engine(f"sqlite:///{path}")
            with self.engine.begin() as conn:
                upload_jobs.create(conn, checkfirst=True)
        else:
            # Autocommit: each statement commits by itself, so it neither waits for the writer lock
            # an ingest holds nor is undone with the ingest's transaction.
            self.engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        if self._companion:
            with self.engine.begin() as conn:
                yield conn
        else:
            with self.engine.connect() as conn:
                yield conn

    def reading(self):
        return self.engine.connect()

    def close(self) -> None:
        if self._companion:
            self.engine.dispose()


def _companion_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        # A database in memory is one process's; its jobs go to a temp file of their own.
        return Path(tempfile.mkdtemp(prefix="detainers-jobs-")) / "jobs.db"
    return Path(database).expanduser().resolve().with_name(Path(database).name + "-jobs")


class Jobs:
    """The jobs of one installation as one server process sees them: submit work, read snapshots."""

    def __init__(self, engine: Engine) -> None:
        self.rows = JobRows(engine)
        self.worker = secrets.token_hex(8)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="detainers-upload")
        self._stopping = threading.Event()
        self._beating: threading.Thread | None = None
        self._lock = threading.Lock()
        self._unfinished = 0  # jobs of this process not over yet: while there are any, it says it is alive

    # --- reading ------------------------------------------------------------------------------

    def get(self, job_id: str) -> Job | None:
        with self.rows.reading() as conn:
            row = conn.execute(select(upload_jobs).where(upload_jobs.c.job_id == job_id)).first()
        return _job_of(row, _now()) if row is not None else None

    def recent(self, username: str | None, role: str, limit: int = 10) -> list[Job]:
        """The newest jobs this user may see."""
        query = select(upload_jobs).order_by(upload_jobs.c.seq.desc()).limit(limit)
        if role != "admin":
            if username is None:
                return []
            query = query.where(upload_jobs.c.owner == username)
        now = _now()
        with self.rows.reading() as conn:
            return [_job_of(row, now) for row in conn.execute(query)]

    # --- running ------------------------------------------------------------------------------

    def submit(self, owner: str, kind: str, file_name: str, work: Callable[[Callable[..., None]], dict], *,
               actor: str, address: str | None, cleanup: Callable[[], None] | None = None) -> Job:
        """Queue `work(update)`; its dict is the job's summary. `cleanup` runs after it, whatever happened."""
        job = Job(secrets.token_urlsafe(12), owner, kind, file_name, _now())
        with self.rows.writing() as conn:
            self._prune(conn)
            seq = conn.execute(upload_jobs.insert().values(
                **_columns({k: getattr(job, k) for k in ("job_id", "owner", "kind", "file_name", "created",
                                                          "state", "stage", "records")}),
                worker=self.worker, heartbeat_at=_now()).returning(upload_jobs.c.seq)).scalar_one()
        self._start_beating()
        try:
            self._pool.submit(self._run, job.job_id, seq, work, actor, address, cleanup)
        except RuntimeError:  # the pool is shut down (the process is stopping)
            with self._lock:
                self._unfinished -= 1
            self._update(job.job_id, state="failed", error="The server is shutting down; upload the file again later.",
                         error_kind="bug", finished=_now())
            if cleanup is not None:
                cleanup()
        return self.get(job.job_id) or job

    def shutdown(self) -> None:
        """Let the ingest in progress finish its transaction; queued ones are not started."""
        self._stopping.set()
        self._pool.shutdown(wait=True)
        with self._lock:
            beating = self._beating
        if beating is not None:
            beating.join()
        self.rows.close()

    def _update(self, job_id: str, **values) -> None:
        with self.rows.writing() as conn:
            conn.execute(update(upload_jobs).where(upload_jobs.c.job_id == job_id)
                         .values(**_columns(values), heartbeat_at=_now()))

    def _progress(self, job_id: str) -> Callable[..., None]:
        """What the work calls to tell its stage and records. A row that cannot be written is logged,
        not raised: the ingest goes on, and its end is written when it comes."""
        def told(**values) -> None:
            try:
                self._update(job_id, **values)
            except Exception:  # noqa: BLE001 - progress is not worth failing a load for
                log.warning("upload job %s: progress not recorded", job_id, exc_info=True)
        return told

    def _earlier_ones_running(self, seq: int) -> bool:
        alive = upload_jobs.c.heartbeat_at >= _now() - timedelta(seconds=LOST_AFTER)
        with self.rows.reading() as conn:
            return conn.execute(select(func.count()).select_from(upload_jobs).where(
                upload_jobs.c.seq < seq, upload_jobs.c.state.not_in(OVER), alive)).scalar_one() > 0

    def _not_started(self, job_id: str, cleanup) -> None:
        self._update(job_id, state="failed", stage="not started", error_kind="input", finished=_now(),
                     error="The server stopped before this upload was loaded.",
                     changed="Nothing was changed; upload the file again.")
        if cleanup is not None:
            cleanup()

    def _run(self, job_id: str, seq: int, work, actor: str, address: str | None, cleanup) -> None:
        try:
            self._wait_and_run(job_id, seq, work, actor, address, cleanup)
        except Exception:  # noqa: BLE001 - the job's rows could not be read or written: log it, leave nothing behind
            log.exception("upload job %s could not be run", job_id)
            if cleanup is not None:
                cleanup()
        finally:
            with self._lock:
                self._unfinished -= 1

    def _wait_and_run(self, job_id: str, seq: int, work, actor: str, address: str | None, cleanup) -> None:
        # Uploads taken by other server processes before this one go first.
        while not self._stopping.is_set() and self._earlier_ones_running(seq):
            self._stopping.wait(WAIT_POLL)
        if self._stopping.is_set():
            self._not_started(job_id, cleanup)
            return
        self._update(job_id, state="running", stage="starting", started=_now())
        job = self.get(job_id)
        try:
            # The ingest's own audit entry names the web user who uploaded, not the server process.
            with audit.acting_as(actor, address):
                summary = work(self._progress(job_id))
            final = dict(state="done", stage="finished", summary=summary)
        except InputError as exc:
            final = dict(state="failed", stage="refused", error=exc.message(), error_kind="input",
                         changed=exc.changed)
        except Exception:  # a bug: the log keeps the trace, the page a reference to it
            ref = secrets.token_hex(4)
            log.exception("upload job %s (%s, %s) failed: reference %s", job_id, job and job.kind,
                          job and job.file_name, ref)
            final = dict(state="failed", stage="stopped", error_kind="bug",
                         error=f"Something went wrong on our side (reference {ref}). It has been logged.")
        # Temporary files go before the job is shown as over, so "over" means nothing is left behind.
        if cleanup is not None:
            try:
                cleanup()
            except Exception:  # noqa: BLE001 - a leftover temp folder must not hide the result
                log.exception("upload job %s: temporary files could not be removed", job_id)
        try:
            self._update(job_id, **final, finished=_now())
        except Exception:  # noqa: BLE001 - the load's own outcome stands; its page will show it as lost
            log.exception("upload job %s: its end (%s) could not be recorded", job_id, final["state"])

    # --- upkeep -------------------------------------------------------------------------------

    def _start_beating(self) -> None:
        with self._lock:
            self._unfinished += 1
            if self._beating is None and not self._stopping.is_set():
                self._beating = threading.Thread(target=self._beat, name="detainers-upload-beat", daemon=True)
                self._beating.start()

    def _beat(self) -> None:
        """Say every BEAT seconds that this process's jobs are alive, while it has any."""
        while not self._stopping.wait(BEAT):
            with self._lock:
                if self._unfinished == 0:
                    self._beating = None
                    return
            try:
                with self.rows.writing() as conn:
                    conn.execute(update(upload_jobs).where(upload_jobs.c.worker == self.worker,
                                                           upload_jobs.c.state.not_in(OVER))
                                 .values(heartbeat_at=_now()))
            except Exception:  # noqa: BLE001 - tried again at the next beat
                log.warning("upload jobs: could not say this process is alive", exc_info=True)

    @staticmethod
    def _prune(conn: Connection) -> None:
        """Keep the newest KEEP_FINISHED finished (or lost) jobs, and those still going."""
        gone = or_(upload_jobs.c.state.in_(OVER),
                   upload_jobs.c.heartbeat_at < _now() - timedelta(seconds=LOST_AFTER))
        cutoff = conn.execute(select(upload_jobs.c.seq).where(gone).order_by(upload_jobs.c.seq.desc())
                              .offset(KEEP_FINISHED - 1).limit(1)).scalar()
        if cutoff is not None:
            conn.execute(delete(upload_jobs).where(and_(gone, upload_jobs.c.seq <= cutoff)))


_registry_lock = threading.Lock()


def registry(app) -> Jobs:
    """The app's jobs, made on first use."""
    with _registry_lock:
        jobs = getattr(app.state, "upload_jobs", None)
        if jobs is None:
            jobs = app.state.upload_jobs = Jobs(app.state.engine)
        return jobs
