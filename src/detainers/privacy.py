"""Pseudonymous person keys for the public audience.

A key is a keyed hash (HMAC-SHA256) of the person id with a secret made once per
installation and kept in the database, so keys are stable across reports from
the same database but cannot be recomputed from a list of ids or names by
anyone without that secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from detainers.store.schema import installation

_SECRET_KEY = "person_key_secret"


def installation_secret(conn: Connection, name: str = _SECRET_KEY) -> bytes:
    """One of the installation's secrets (person keys by default), created on first use."""
    value = conn.execute(select(installation.c.value).where(installation.c.key == name)).scalar()
    if value is None:
        candidate = secrets.token_hex(32)
        try:
            with conn.begin_nested():
                conn.execute(insert(installation).values(key=name, value=candidate))
            value = candidate
        except IntegrityError:  # another process made it first
            value = conn.execute(select(installation.c.value).where(installation.c.key == name)).scalar_one()
    return bytes.fromhex(value)


def person_key(secret: bytes, person_id: str) -> str:
    """A stable pseudonym such as `P-7KQ2M4XW9DAB`."""
    return Keyer(secret)(person_id)


class Keyer:
    """Pseudonyms for many ids of one kind (the prefix), cached since ids repeat."""

    def __init__(self, secret: bytes, prefix: str = "P-") -> None:
        self._secret = secret
        self._prefix = prefix
        self._cache: dict[str, str] = {}

    def __call__(self, value: str) -> str:
        key = self._cache.get(value)
        if key is None:
            digest = hmac.new(self._secret, f"{self._prefix}{value}".encode("utf-8"), hashlib.sha256).digest()
            key = self._prefix + base64.b32encode(digest[:10]).decode("ascii")[:12]
            self._cache[value] = key
        return key
