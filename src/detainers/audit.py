"""Append-only audit log: each entry's hash covers the previous entry's hash."""

from __future__ import annotations

import getpass
import hashlib
import json
from datetime import datetime, timezone

from sqlalchemy import Connection, insert, select

from detainers.store.schema import audit_log

GENESIS = "0" * 64


def current_actor() -> str:
    """Who is acting: the operating-system user for the CLI."""
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
