"""Telling, on the next start, that a long write was stopped before it finished.

An import, ingest or re-classification writes in one transaction, so a process killed halfway
leaves the database as it was. What it cannot leave is a word about it, so before the work begins
a marker is committed (in the `installation` table), and the work's own transaction removes it:
committed together with the work, or left behind with nothing else when the process dies. The
next command that opens the database finds markers of processes that are gone and says so.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone

from sqlalchemy import Connection, Engine, delete, insert, select

from detainers.store.db import retry_when_busy
from detainers.store.schema import installation

PREFIX = "running:"


class Mark:
    def __init__(self, key: str) -> None:
        self.key = key

    def done(self, conn: Connection) -> None:
        """Inside the work's transaction: the marker goes when (and only when) the work commits."""
        conn.execute(delete(installation).where(installation.c.key == self.key))


@contextmanager
def guard(engine: Engine, what: str, subject: str):
    """Around one all-or-nothing write; call `mark.done(conn)` inside its transaction."""
    mark = Mark(PREFIX + uuid.uuid4().hex)
    value = json.dumps({"what": what, "subject": subject, "pid": os.getpid(), "host": socket.gethostname(),
                        "started": datetime.now(timezone.utc).replace(microsecond=0).isoformat()})
    retry_when_busy(engine, lambda conn: conn.execute(insert(installation).values(key=mark.key, value=value)))
    try:
        yield mark
    except BaseException:  # an ordinary failure rolled the work back and will say so itself
        retry_when_busy(engine, lambda conn: conn.execute(delete(installation).where(installation.c.key == mark.key)))
        raise


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stopped(engine: Engine) -> list[str]:
    """What was stopped before it finished (processes on this machine that are gone), said once:
    the markers are removed as they are reported."""
    with engine.connect() as conn:
        rows = conn.execute(select(installation).where(installation.c.key.like(PREFIX + "%"))).all()
    here = socket.gethostname()
    messages, gone = [], []
    for row in rows:
        try:
            info = json.loads(row.value)
        except ValueError:
            continue
        if info.get("host") != here or _alive(int(info.get("pid", 0))):
            continue  # still running, or on another machine: not ours to judge
        gone.append(row.key)
        messages.append(f"The {info.get('what')} of {info.get('subject')} started at {info.get('started')} did not "
                        "finish: its process stopped before it could commit. Nothing of it was written; the "
                        "database is as it was before it. Run it again.")
    if gone:
        retry_when_busy(engine, lambda conn: conn.execute(delete(installation).where(installation.c.key.in_(gone))))
    return messages
