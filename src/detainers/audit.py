"""Append-only audit log: each entry's hash covers the previous entry's hash."""

from __future__ import annotations

import getpass
import hashlib
import json
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

from sqlalchemy import Connection, insert, select

from detainers.store.schema import audit_log

GENESIS = "0" * 64

# Who is acting, where the caller knows better than the operating system (a web request).
_acting: ContextVar[tuple[str, str | None] | None] = ContextVar("detainers_acting", default=None)


@contextmanager
def acting_as(actor: str, address: str | None = None):
    """Within the block, entries are recorded for `actor` (and the `address` it came from)."""
    token = _acting.set((actor, address))
    try:
        yield
    finally:
        _acting.reset(token)


def current_actor() -> str:
    """Who is acting: the web user inside `acting_as`, else the operating-system user for the CLI."""
    acting = _acting.get()
    if acting is not None:
        return acting[0]
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli:unknown"


def _entry_hash(prev_hash: str, at: str, actor: str, action: str, detail: str) -> str:
    payload = "\x1f".join([prev_hash, at, actor, action, detail]).encode()
    return hashlib.sha256(payload).hexdigest()


def record(conn: Connection, action: str, detail: dict, actor: str | None = None) -> None:
    """Append one entry, chained to the last one, inside the caller's transaction."""
    actor = actor or current_actor()
    acting = _acting.get()
    if acting is not None and acting[1] and "address" not in detail:
        detail = {**detail, "address": acting[1]}
    last = conn.execute(select(audit_log.c.hash).order_by(audit_log.c.entry_id.desc()).limit(1)).scalar()
    prev = last or GENESIS
    at = datetime.now(timezone.utc).replace(microsecond=0)
    text = json.dumps(detail, sort_keys=True, default=str)
    conn.execute(insert(audit_log).values(
        at=at, actor=actor, action=action, detail=text, prev_hash=prev,
        hash=_entry_hash(prev, at.isoformat(), actor, action, text)))


def verify(conn: Connection) -> list[str]:
    """Problems with the chain (empty when intact)."""
    problems = []
    prev = GENESIS
    for row in conn.execute(select(audit_log).order_by(audit_log.c.entry_id)):
        at = row.at if row.at.tzinfo else row.at.replace(tzinfo=timezone.utc)
        expected = _entry_hash(prev, at.isoformat(), row.actor, row.action, row.detail)
        if row.prev_hash != prev or row.hash != expected:
            problems.append(f"entry {row.entry_id} ({row.action} by {row.actor}) does not match the chain")
        prev = row.hash
    return problems
