"""A token that names the state of the records: it changes with every write that changes them.

Answers computed from the records (the statistics the API serves over and over between loads) can
be kept under this token and served again while it is the same. A new random token, not a counter,
is written by each write in its own transaction, so a restored backup brings back the token of the
state it holds, and two histories never share a token.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, insert, select, update

from detainers.store.schema import installation

KEY = "data_version"


def bump(conn: Connection) -> None:
    """Give the records a new token (in the caller's transaction, with the write)."""
    token = uuid.uuid4().hex
    if conn.execute(update(installation).where(installation.c.key == KEY).values(value=token)).rowcount == 0:
        conn.execute(insert(installation).values(key=KEY, value=token))


def current(conn: Connection) -> str:
    """The records' token ("" before anything was written)."""
    return conn.execute(select(installation.c.value).where(installation.c.key == KEY)).scalar() or ""
