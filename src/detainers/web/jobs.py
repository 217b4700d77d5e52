"""Upload jobs: an ingest running in a background thread, and what its page shows of it.

One registry per app, in memory: a job lives as long as the process (the data it
wrote is in the database; the job only tells its progress and summary). Jobs run one
at a time, in the order they came: each ingest is one transaction, and two writing at
once would only wait on each other's locks.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from detainers import audit
from detainers.errors import InputError

log = logging.getLogger("detainers.web.jobs")

#: Finished jobs kept for their pages; the oldest go first.
KEEP_FINISHED = 200


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class Job:
    """One upload as its page shows it (a snapshot: the registry holds the live one)."""

    job_id: str
    owner: str  # the user name of who uploaded it
    kind: str
    file_name: str
    created: datetime
    state: str = "queued"
    stage: str = "waiting for earlier uploads to finish"
    records: int = 0
    started: datetime | None = None
    finished: datetime | None = None
    #: what the ingest reported (see upload.summary_of_*), when done
    summary: dict | None = None
    #: the message for the user, when failed
    error: str | None = None
    #: "input" (the file is wrong; nothing was changed) or "bug" (ours; logged)
    error_kind: str | None = None
    #: what was changed after all, when an input error says so
    changed: str | None = None

    @property
    def over(self) -> bool:
        return self.state in ("done", "failed")

    def visible_to(self, username: str | None, role: str) -> bool:
        """Only the one who uploaded it, or an admin, may see a job."""
        return role == "admin" or (username is not None and username == self.owner)


@dataclass
class _Entry:
    job: Job
    lock: threading.Lock = field(default_factory=threading.Lock)

    def update(self, **values) -> None:
        with self.lock:
            self.job = replace(self.job, **values)


class Jobs:
    """The jobs of one app: submit work, read snapshots."""

    def __init__(self, workers: int = 1) -> None:
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="detainers-upload")
        self._stopping = threading.Event()

    def submit(self, owner: str, kind: str, file_name: str, work: Callable[[Callable[..., None]], dict], *,
               actor: str, address: str | None, cleanup: Callable[[], None] | None = None) -> Job:
        """Queue `work(update)`; its dict is the job's summary. `cleanup` runs after it, whatever happened."""
        job = Job(secrets.token_urlsafe(12), owner, kind, file_name, _now())
        entry = _Entry(job)
        with self._lock:
            self._prune()
            self._entries[job.job_id] = entry
        try:
            self._pool.submit(self._run, entry, work, actor, address, cleanup, self._stopping)
        except RuntimeError:  # the pool is shut down (the process is stopping)
            entry.update(state="failed", error="The server is shutting down; upload the file again later.",
                         error_kind="bug", finished=_now())
            if cleanup is not None:
                cleanup()
        return entry.job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            entry = self._entries.get(job_id)
        return entry.job if entry else None

    def recent(self, username: str | None, role: str, limit: int = 10) -> list[Job]:
        """The newest jobs this user may see."""
        with self._lock:
            jobs = [e.job for e in self._entries.values()]
        mine = [j for j in jobs if j.visible_to(username, role)]
        return sorted(mine, key=lambda j: (j.created, j.job_id), reverse=True)[:limit]

    def shutdown(self) -> None:
        """Let the ingest in progress finish its transaction; queued ones are not started."""
        self._stopping.set()
        self._pool.shutdown(wait=True)

    def _prune(self) -> None:
        finished = sorted((e.job.finished, key) for key, e in self._entries.items() if e.job.over)
        for _, key in finished[:max(0, len(finished) - KEEP_FINISHED + 1)]:
            del self._entries[key]

    @staticmethod
    def _run(entry: _Entry, work, actor: str, address: str | None, cleanup, stopping: threading.Event) -> None:
        if stopping.is_set():
            entry.update(state="failed", stage="not started", error_kind="input", finished=_now(),
                         error="The server stopped before this upload was loaded.",
                         changed="Nothing was changed; upload the file again.")
            if cleanup is not None:
                cleanup()
            return
        entry.update(state="running", stage="starting", started=_now())
        try:
            # The ingest's own audit entry names the web user who uploaded, not the server process.
            with audit.acting_as(actor, address):
                summary = work(entry.update)
            final = dict(state="done", stage="finished", summary=summary)
        except InputError as exc:
            final = dict(state="failed", stage="refused", error=exc.message(), error_kind="input",
                         changed=exc.changed)
        except Exception:  # a bug: the log keeps the trace, the page a reference to it
            ref = secrets.token_hex(4)
            log.exception("upload job %s (%s, %s) failed: reference %s", entry.job.job_id, entry.job.kind,
                          entry.job.file_name, ref)
            final = dict(state="failed", stage="stopped", error_kind="bug",
                         error=f"Something went wrong on our side (reference {ref}). It has been logged.")
        # Temporary files go before the job is shown as over, so "over" means nothing is left behind.
        if cleanup is not None:
            try:
                cleanup()
            except Exception:  # noqa: BLE001 - a leftover temp folder must not hide the result
                log.exception("upload job %s: temporary files could not be removed", entry.job.job_id)
        entry.update(**final, finished=_now())


_registry_lock = threading.Lock()


def registry(app) -> Jobs:
    """The app's job registry, made on first use."""
    with _registry_lock:
        jobs = getattr(app.state, "upload_jobs", None)
        if jobs is None:
            jobs = app.state.upload_jobs = Jobs()
        return jobs
