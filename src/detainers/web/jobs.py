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

from sqlalchemy import Connection, Engine, and_, create_engine, delete, func, or_, select, update

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


def _job_of(row) -> Job:
    """A job from its row, selected with JobRows.columns() (which says whether its process is alive)."""
    job = Job(row.job_id, row.owner, row.kind, row.file_name, _utc(row.created_at), row.state, row.stage,
              row.records, _utc(row.started_at), _utc(row.finished_at),
              json.loads(row.summary) if row.summary is not None else None, row.error, row.error_kind, row.changed)
    if not job.over and not row.alive:
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


#: The version of the companion file's table; a file made by another version is made again (its
#: rows only tell the progress of uploads, whose data is in the database).
COMPANION_VERSION = 1
#: PostgreSQL session lock held by the process running a job, so that one runs at a time even when
#: two processes look at the queue at the same moment ("detainer" + 1, apart from the writer lock).
RUN_LOCK = 0x64657461696E66


class JobRows:
    """Where job rows live, written outside any ingest's transaction (see the module's docstring).

    On PostgreSQL the rows have a small pool of their own (not the web pool, which requests may
    exhaust) and the server's clock tells who is alive, so that processes on several machines agree;
    on SQLite, all processes are on the machine that has the file, and its clock does."""

    def __init__(self, engine: Engine) -> None:
        self.companion = engine.dialect.name == "sqlite"
        if self.companion:
            self.engine = make_engine(f"sqlite:///{_companion_path(engine)}")
            with self.engine.begin() as conn:
                if conn.exec_driver_sql("PRAGMA user_version").scalar() != COMPANION_VERSION:
                    upload_jobs.drop(conn, checkfirst=True)
                    upload_jobs.create(conn)
                    conn.exec_driver_sql(f"PRAGMA user_version = {COMPANION_VERSION}")
        else:
            # Autocommit: each statement commits by itself, so it neither waits for the writer lock
            # an ingest holds nor is undone with the ingest's transaction.
            self.engine = create_engine(engine.url, isolation_level="AUTOCOMMIT", pool_size=2, max_overflow=4,
                                        pool_pre_ping=True, pool_recycle=1800)

    def now(self):
        """The time to write as a heartbeat."""
        return _now() if self.companion else func.now()

    def alive(self):
        """True for rows whose process was heard from within LOST_AFTER seconds."""
        since = (_now() if self.companion else func.now()) - timedelta(seconds=LOST_AFTER)
        return upload_jobs.c.heartbeat_at >= since

    def columns(self):
        return select(upload_jobs, self.alive().label("alive"))

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        if self.companion:
            with self.engine.begin() as conn:
                yield conn
        else:
            with self.engine.connect() as conn:
                yield conn

    def reading(self):
        return self.engine.connect()

    def claim(self, job_id: str, seq: int):
        """Mark the job running if no earlier job is waiting and none is running; None if it must wait.
        Atomic across processes: on SQLite in one write transaction of the companion file; on
        PostgreSQL under RUN_LOCK, held on the returned connection until `release`."""
        blocking = select(func.count()).select_from(upload_jobs).where(
            upload_jobs.c.job_id != job_id, upload_jobs.c.state.not_in(OVER), self.alive(),
            or_(upload_jobs.c.seq < seq, upload_jobs.c.state == "running"))
        running = update(upload_jobs).where(upload_jobs.c.job_id == job_id).values(
            state="running", stage="starting", started_at=_now(), heartbeat_at=self.now())
        if self.companion:
            with self.engine.begin() as conn:
                if conn.execute(blocking).scalar_one():
                    return None
                conn.execute(running)
            return _NO_LOCK
        conn = self.engine.connect()
        try:
            if conn.execute(select(func.pg_try_advisory_lock(RUN_LOCK))).scalar_one():
                if not conn.execute(blocking).scalar_one():
                    conn.execute(running)
                    return conn
                conn.execute(select(func.pg_advisory_unlock(RUN_LOCK)))
        except BaseException:
            conn.invalidate()  # the session ends, and with it the lock (closed, not put back in the pool)
            conn.close()
            raise
        conn.close()
        return None

    @staticmethod
    def release(held) -> None:
        if held is _NO_LOCK:
            return
        try:
            held.execute(select(func.pg_advisory_unlock(RUN_LOCK)))
        except Exception:  # noqa: BLE001 - the session is ended instead, and the lock with it
            log.warning("upload jobs: the run lock could not be let go; its connection is closed", exc_info=True)
            held.invalidate()
        finally:
            held.close()

    def close(self) -> None:
        self.engine.dispose()


#: What `claim` returns on SQLite, where nothing is held while the job runs.
_NO_LOCK = object()


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
        self._stopping = threading.Event()  # no more jobs are started
        self._stop_beating = threading.Event()  # set once the job in progress has ended
        self._beating: threading.Thread | None = None
        self._lock = threading.Lock()
        # This process's jobs not over yet: it says they are alive while there are any.
        self._in_progress: set[str] = set()

    # --- reading ------------------------------------------------------------------------------

    def get(self, job_id: str) -> Job | None:
        with self.rows.reading() as conn:
            row = conn.execute(self.rows.columns().where(upload_jobs.c.job_id == job_id)).first()
        return _job_of(row) if row is not None else None

    def recent(self, username: str | None, role: str, limit: int = 10) -> list[Job]:
        """The newest jobs this user may see."""
        query = self.rows.columns().order_by(upload_jobs.c.seq.desc()).limit(limit)
        if role != "admin":
            if username is None:
                return []
            query = query.where(upload_jobs.c.owner == username)
        with self.rows.reading() as conn:
            return [_job_of(row) for row in conn.execute(query)]

    # --- running ------------------------------------------------------------------------------

    def submit(self, owner: str, kind: str, file_name: str, work: Callable[[Callable[..., None]], dict], *,
               actor: str, address: str | None, cleanup: Callable[[], None] | None = None) -> Job:
        """Queue `work(update)`; its dict is the job's summary. `cleanup` runs after it, whatever happened."""
        job = Job(secrets.token_urlsafe(12), owner, kind, file_name, _now())
        # One submit at a time in this process, so that its jobs reach the pool in the order of their
        # numbers (a job waits for the earlier ones: the other way round, two would wait for each other).
        with self._lock:
            with self.rows.writing() as conn:
                self._prune(conn)
                seq = conn.execute(upload_jobs.insert().values(
                    **_columns({k: getattr(job, k) for k in ("job_id", "owner", "kind", "file_name", "created",
                                                              "state", "stage", "records")}),
                    worker=self.worker, heartbeat_at=self.rows.now()).returning(upload_jobs.c.seq)).scalar_one()
            try:
                self._pool.submit(self._run, job.job_id, seq, work, actor, address, cleanup)
            except RuntimeError:  # the pool is shut down (the process is stopping)
                refused = True
            else:
                refused = False
                self._in_progress.add(job.job_id)
                if self._beating is None:
                    self._beating = threading.Thread(target=self._beat, name="detainers-upload-beat", daemon=True)
                    self._beating.start()
        if refused:
            self._update(job.job_id, state="failed", error="The server is shutting down; upload the file again later.",
                         error_kind="bug", finished=_now())
            if cleanup is not None:
                cleanup()
        return self.get(job.job_id) or job

    def shutdown(self) -> None:
        """Let the ingest in progress finish its transaction (its process is still alive meanwhile);
        queued ones are not started."""
        self._stopping.set()
        self._pool.shutdown(wait=True)
        self._stop_beating.set()
        with self._lock:
            beating = self._beating
        if beating is not None:
            beating.join()
        self.rows.close()

    def _update(self, job_id: str, **values) -> None:
        with self.rows.writing() as conn:
            conn.execute(update(upload_jobs).where(upload_jobs.c.job_id == job_id)
                         .values(**_columns(values), heartbeat_at=self.rows.now()))

    def _progress(self, job_id: str) -> Callable[..., None]:
        """What the work calls to tell its stage and records. A row that cannot be written is logged,
        not raised: the ingest goes on, and its end is written when it comes."""
        def told(**values) -> None:
            try:
                self._update(job_id, **values)
            except Exception:  # noqa: BLE001 - progress is not worth failing a load for
                log.warning("upload job %s: progress not recorded", job_id, exc_info=True)
        return told

    def _run(self, job_id: str, seq: int, work, actor: str, address: str | None, cleanup) -> None:
        try:
            self._wait_and_run(job_id, seq, work, actor, address, cleanup)
        except Exception:  # noqa: BLE001 - the job's row could not be read or written
            log.exception("upload job %s could not be run", job_id)
            if cleanup is not None:
                cleanup()
        finally:
            # No longer said to be alive: a row left unfinished by a failed write is shown as lost
            # after LOST_AFTER, and holds up no later job.
            with self._lock:
                self._in_progress.discard(job_id)

    def _wait_and_run(self, job_id: str, seq: int, work, actor: str, address: str | None, cleanup) -> None:
        # Uploads taken before this one, by any server process, go first; one runs at a time.
        held = None
        while not self._stopping.is_set():
            held = self.rows.claim(job_id, seq)
            if held is not None:
                break
            self._stopping.wait(WAIT_POLL)
        if held is None:
            self._not_started(job_id, cleanup)
            return
        try:
            self._work(job_id, work, actor, address, cleanup)
        finally:
            self.rows.release(held)

    def _not_started(self, job_id: str, cleanup) -> None:
        self._update(job_id, state="failed", stage="not started", error_kind="input", finished=_now(),
                     error="The server stopped before this upload was loaded.",
                     changed="Nothing was changed; upload the file again.")
        if cleanup is not None:
            cleanup()

    def _work(self, job_id: str, work, actor: str, address: str | None, cleanup) -> None:
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
            log.exception("upload job %s failed: reference %s", job_id, ref)
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

    def _beat(self) -> None:
        """Say every BEAT seconds that this process's unfinished jobs are alive, while it has any."""
        while not self._stop_beating.wait(BEAT):
            with self._lock:
                alive = sorted(self._in_progress)
                if not alive:
                    self._beating = None
                    return
            try:
                with self.rows.writing() as conn:
                    conn.execute(update(upload_jobs).where(upload_jobs.c.job_id.in_(alive),
                                                           upload_jobs.c.state.not_in(OVER))
                                 .values(heartbeat_at=self.rows.now()))
            except Exception:  # noqa: BLE001 - tried again at the next beat
                log.warning("upload jobs: could not say this process is alive", exc_info=True)

    def _prune(self, conn: Connection) -> None:
        """Keep the newest KEEP_FINISHED finished (or lost) jobs, and those still going."""
        gone = or_(upload_jobs.c.state.in_(OVER), ~self.rows.alive())
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
