"""Upload jobs live in the database: every server process shows every job, while it runs too, and jobs
run one at a time across processes in the order they came.

"Another process" is a second app over the same database, as each process of
`detainers serve --workers N` builds one; the last test starts such a server for real.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, insert, select

from detainers.store.schema import sources, upload_jobs
from detainers.web import jobs as jobs_module
from detainers.web.app import create_app
from detainers.web.jobs import QUEUED_STAGE, registry
from detainers.web.settings import WebSettings
from tests.web.conftest import csrf_of, sign_in, signed_in

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture
def other(fresh_site):
    """A second server process's app over the same database."""
    app = create_app(WebSettings(db_url=fresh_site.url))
    yield app
    jobs = getattr(app.state, "upload_jobs", None)
    if jobs is not None:
        jobs.shutdown()
    app.state.engine.dispose()


def wait_for(what, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while not what():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.02)


def test_a_job_is_seen_from_another_process_while_its_ingest_holds_the_write_lock(fresh_site, other):
    inside = threading.Event()
    release = threading.Event()

    def work(update):
        # What an ingest does: one write transaction, and progress told from inside it.
        with fresh_site.engine.begin() as conn:
            conn.execute(insert(sources).values(kind="jail-report", name="held open by a test", sha256="0" * 64,
                                                loaded_at=jobs_module._now()))
            update(stage="reading", records=1234)
            inside.set()
            assert release.wait(20)
        update(stage="summarising")
        return {"type": "test", "records": 1234}

    # Signed in first: a sign-in writes its session, and would wait for the ingest like any write.
    analyst = signed_in(type(fresh_site)(fresh_site.url, other, other.state.engine, fresh_site.backend), "analyst")
    job = registry(fresh_site.app).submit("analyst", "jail-report", "slow.csv", work, actor="web:analyst",
                                          address="testclient")
    assert inside.wait(20)
    seen = registry(other).get(job.job_id)
    assert (seen.state, seen.stage, seen.records, seen.owner) == ("running", "reading", 1234, "analyst")
    # Its page, answered by the other process, polls and shows the progress.
    page = analyst.get(f"/upload/jobs/{job.job_id}").text
    assert "job-state running" in page and "1,234" in page and 'hx-trigger="every 1s"' in page
    assert [j.job_id for j in registry(other).recent("analyst", "analyst")] == [job.job_id]
    assert registry(other).recent("viewer", "viewer") == []
    release.set()
    wait_for(lambda: registry(other).get(job.job_id).over)
    done = registry(other).get(job.job_id)
    assert (done.state, done.stage, done.summary) == ("done", "finished", {"type": "test", "records": 1234})
    assert done.started <= done.finished
    with fresh_site.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(sources)
                            .where(sources.c.name == "held open by a test")).scalar_one() == 1


def test_jobs_run_one_at_a_time_in_the_order_they_came_across_processes(fresh_site, other):
    release = threading.Event()
    ran: list[str] = []

    def first(update):
        ran.append("first started")
        assert release.wait(20)
        ran.append("first ended")
        return {"n": 1}

    def second(update):
        ran.append("second started")
        return {"n": 2}

    one = registry(fresh_site.app).submit("analyst", "jail-report", "one.csv", first, actor="a", address=None)
    wait_for(lambda: ran == ["first started"])
    two = registry(other).submit("admin", "jail-report", "two.csv", second, actor="b", address=None)
    time.sleep(4 * jobs_module.WAIT_POLL)
    waiting = registry(fresh_site.app).get(two.job_id)
    assert (waiting.state, waiting.stage) == ("queued", QUEUED_STAGE)
    assert ran == ["first started"]
    release.set()
    wait_for(lambda: registry(fresh_site.app).get(two.job_id).over)
    assert ran == ["first started", "first ended", "second started"]
    assert registry(other).get(one.job_id).summary == {"n": 1}
    assert registry(other).get(two.job_id).summary == {"n": 2}
    # An admin sees both, newest first; the analyst only their own.
    assert [j.file_name for j in registry(other).recent("admin", "admin")] == ["two.csv", "one.csv"]
    assert [j.file_name for j in registry(other).recent("analyst", "analyst")] == ["one.csv"]


def test_a_job_whose_process_stopped_is_shown_as_lost_and_holds_up_nothing(fresh_site, other):
    jobs = registry(fresh_site.app)
    now = jobs_module._now()
    silent = now - timedelta(seconds=jobs_module.LOST_AFTER + 1)
    with jobs.rows.writing() as conn:
        conn.execute(upload_jobs.insert().values(
            job_id="killed-mid-load", owner="analyst", kind="ice-lesa", file_name="big.xlsx", created_at=silent,
            state="running", stage="writing", records=50_000, started_at=silent, worker="gone",
            heartbeat_at=silent))
    lost = registry(other).get("killed-mid-load")
    assert lost.over and (lost.state, lost.error_kind) == ("failed", "lost")
    assert "stopped before it finished" in lost.error
    analyst = signed_in(fresh_site, "analyst")
    panel = analyst.get("/upload/jobs/killed-mid-load/status").text
    assert "job-state failed" in panel and "hx-get" not in panel
    assert "what it had not finished writing was not kept" in panel
    # A later upload does not wait for it.
    later = registry(other).submit("analyst", "jail-report", "later.csv", lambda update: {"ok": True},
                                   actor="a", address=None)
    wait_for(lambda: registry(other).get(later.job_id).over, seconds=10)
    assert registry(other).get(later.job_id).state == "done"


def test_a_running_job_keeps_saying_it_is_alive(fresh_site, monkeypatch):
    monkeypatch.setattr(jobs_module, "BEAT", 0.05)
    monkeypatch.setattr(jobs_module, "LOST_AFTER", 2.0)
    release = threading.Event()
    job = registry(fresh_site.app).submit("analyst", "jail-report", "slow.csv",
                                          lambda update: release.wait(20) and {"ok": True}, actor="a", address=None)
    time.sleep(4.5)  # more than LOST_AFTER without any progress told by the work itself
    assert registry(fresh_site.app).get(job.job_id).state == "running"
    release.set()
    wait_for(lambda: registry(fresh_site.app).get(job.job_id).over)
    assert registry(fresh_site.app).get(job.job_id).state == "done"


def test_only_the_newest_finished_jobs_are_kept(fresh_site, monkeypatch):
    monkeypatch.setattr(jobs_module, "KEEP_FINISHED", 3)
    jobs = registry(fresh_site.app)
    made = []
    for n in range(6):
        made.append(jobs.submit("analyst", "jail-report", f"{n}.csv", lambda update: {}, actor="a", address=None))
        wait_for(lambda: jobs.get(made[-1].job_id).over)
    with jobs.rows.reading() as conn:
        kept = conn.execute(select(upload_jobs.c.file_name).order_by(upload_jobs.c.seq)).scalars().all()
    assert kept == ["3.csv", "4.csv", "5.csv"]


def test_progress_that_cannot_be_recorded_does_not_stop_the_load(fresh_site, monkeypatch, caplog):
    jobs = registry(fresh_site.app)
    real = jobs._update

    def failing(job_id, **values):
        if values.get("stage") == "reading":
            raise RuntimeError("the jobs table is unreachable")
        real(job_id, **values)

    monkeypatch.setattr(jobs, "_update", failing)

    def work(update):
        update(stage="reading")
        return {"ok": True}

    job = jobs.submit("analyst", "jail-report", "x.csv", work, actor="a", address=None)
    wait_for(lambda: jobs.get(job.job_id).over)
    assert jobs.get(job.job_id).summary == {"ok": True}
    assert "progress not recorded" in caplog.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_with_several_workers_shares_uploads_between_them(fresh_site, tmp_path):
    port = _free_port()
    log_path = tmp_path / "server.log"
    env = {**os.environ, "DETAINERS_ANONYMOUS": "viewer", "TMPDIR": str(tmp_path)}
    env.pop("DETAINERS_DB", None)
    with log_path.open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", "detainers", "serve", "--db", fresh_site.url, "--port",
                                   str(port), "--workers", "2"], stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while log_path.read_text().count("Application startup complete") < 2:
            assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        pids = set(re.findall(r"Started server process \[(\d+)\]", log_path.read_text()))
        assert len(pids) == 2 and str(server.pid) not in pids
        # A new connection for every request, so that the requests are spread over the processes
        # (a kept-alive connection is answered by one process throughout).
        with httpx.Client(base_url=base, timeout=30, limits=httpx.Limits(max_keepalive_connections=0)) as client:
            assert sign_in(client, "analyst").status_code == 303
            token = csrf_of(client.get("/upload?kind=jail-report").text)
            sample = DATA / "jail-detainer-report-sample.csv"
            response = client.post("/upload", data={"csrf_token": token, "kind": "jail-report",
                                                    "jurisdiction": "tx-harris", "state": "TX"},
                                   files={"file": (sample.name, sample.read_bytes())}, follow_redirects=False)
            assert response.status_code == 303, response.text
            location = response.headers["location"]
            deadline = time.monotonic() + 60
            while True:
                panel = client.get(f"{location}/status")
                assert panel.status_code == 200, panel.text  # whichever process answers knows the job
                if "hx-get" not in panel.text:
                    break
                assert time.monotonic() < deadline
                time.sleep(0.1)
            assert "job-state done" in panel.text
            for _ in range(20):
                assert "job-state done" in client.get(f"{location}/status").text
        # The job's row is where every process (and this one) reads it.
        job_id = location.rsplit("/", 1)[1]
        assert registry(fresh_site.app).get(job_id).summary["file"] == sample.name
    finally:
        server.terminate()
        server.wait(30)
    assert server.returncode == 0, log_path.read_text()


def test_a_process_says_it_is_alive_only_while_it_has_jobs(fresh_site, monkeypatch):
    monkeypatch.setattr(jobs_module, "BEAT", 0.05)
    jobs = registry(fresh_site.app)
    assert jobs._beating is None  # nothing uploaded yet: no thread
    job = jobs.submit("analyst", "jail-report", "x.csv", lambda update: {}, actor="a", address=None)
    beating = jobs._beating
    assert beating is not None and beating.is_alive()
    wait_for(lambda: jobs.get(job.job_id).over)
    beating.join(5)
    assert not beating.is_alive() and jobs._beating is None


def test_uploads_sent_at_once_to_one_process_run_in_the_order_of_their_numbers(fresh_site):
    jobs = registry(fresh_site.app)
    ran: list[str] = []
    go = threading.Barrier(8)

    def send(n: int) -> None:
        go.wait()
        jobs.submit("analyst", "jail-report", f"{n}.csv", lambda update, n=n: ran.append(f"{n}.csv") or {},
                    actor="a", address=None)

    senders = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for t in senders:
        t.start()
    for t in senders:
        t.join(30)
    wait_for(lambda: len(ran) == 8 and all(j.over for j in jobs.recent("admin", "admin")))
    with jobs.rows.reading() as conn:
        numbered = conn.execute(select(upload_jobs.c.file_name).order_by(upload_jobs.c.seq)).scalars().all()
    assert ran == numbered


def test_a_job_whose_row_cannot_be_written_holds_up_later_ones_only_until_it_is_lost(fresh_site, monkeypatch):
    monkeypatch.setattr(jobs_module, "BEAT", 0.05)
    monkeypatch.setattr(jobs_module, "LOST_AFTER", 1.0)
    jobs = registry(fresh_site.app)
    real = jobs.rows.claim
    broken = {"first.csv"}

    def claim(job_id, seq):
        if jobs.get(job_id).file_name in broken:
            raise RuntimeError("the jobs table went away for a moment")
        return real(job_id, seq)

    monkeypatch.setattr(jobs.rows, "claim", claim)
    first = jobs.submit("analyst", "jail-report", "first.csv", lambda update: {}, actor="a", address=None)
    second = jobs.submit("analyst", "jail-report", "second.csv", lambda update: {"ok": True}, actor="a",
                         address=None)
    wait_for(lambda: jobs.get(second.job_id).over, seconds=15)
    assert jobs.get(second.job_id).state == "done"
    assert (jobs.get(first.job_id).state, jobs.get(first.job_id).error_kind) == ("failed", "lost")


def test_a_job_finishing_while_its_process_stops_is_still_alive_to_the_others(fresh_site, other, monkeypatch):
    monkeypatch.setattr(jobs_module, "BEAT", 0.05)
    # Beats every 0.05 s; silent for 2 s (a stall of a busy CI host is not a stop) makes a job lost.
    monkeypatch.setattr(jobs_module, "LOST_AFTER", 2.0)
    release = threading.Event()
    jobs = registry(fresh_site.app)
    job = jobs.submit("analyst", "jail-report", "slow.csv", lambda update: release.wait(30) and {"ok": True},
                      actor="a", address=None)
    wait_for(lambda: jobs.get(job.job_id).state == "running")
    stopping = threading.Thread(target=jobs.shutdown)
    stopping.start()
    time.sleep(5)  # two and a half times LOST_AFTER: the process is stopping, but its job is not over
    assert registry(other).get(job.job_id).state == "running"
    later = registry(other).submit("admin", "jail-report", "later.csv", lambda update: {}, actor="b", address=None)
    time.sleep(0.5)
    assert registry(other).get(later.job_id).state == "queued"
    release.set()
    stopping.join(20)
    assert not stopping.is_alive()
    assert registry(other).get(job.job_id).state == "done"
    wait_for(lambda: registry(other).get(later.job_id).over)
