"""Sessions, CSRF tokens, the sign-in rate limit and security headers.

The session cookie carries only a random id, signed with a secret kept in the
database (so every process of one installation agrees). Signed-in sessions are
rows in `web_sessions`, stored by the id's hash: signing out, disabling the user
or changing the password ends them at once. Every visitor has an id, signed in
or not, so forms (the sign-in form too) carry a CSRF token bound to it; signing
in always starts a fresh id, so a planted cookie cannot be carried into a session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Connection, delete, func, insert, select

from detainers.accounts import User, by_id
from detainers.store.schema import login_failures, web_sessions

COOKIE = "detainers_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
FAILURE_WINDOW = timedelta(minutes=15)

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
                           "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode("ascii")).hexdigest()


def new_sid() -> str:
    """A session id for someone who just signed in (stored, as its hash, in web_sessions)."""
    return secrets.token_urlsafe(32)


#: What begins a visitor's session id: one that was never signed in, so there is nothing to look up.
#: A signed-in id never has it ('.' is not among token_urlsafe's characters), and the cookie is
#: signed, so a visitor cannot turn one into the other.
VISITOR = "v."


def visitor_sid() -> str:
    """A session id for a visitor who has not signed in (it names the visitor's CSRF tokens only)."""
    return VISITOR + secrets.token_urlsafe(32)


def is_visitor(sid: str) -> bool:
    return sid.startswith(VISITOR)


class Signer:
    """Signs and reads the cookie; makes CSRF tokens for a session id."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._serializer = URLSafeSerializer(secret, salt="detainers-session")

    def cookie(self, sid: str) -> str:
        return self._serializer.dumps(sid)

    def read(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            sid = self._serializer.loads(value)
        except BadSignature:
            return None
        return sid if isinstance(sid, str) and 20 <= len(sid) <= 100 else None

    def csrf(self, sid: str) -> str:
        return hmac.new(self._secret, f"csrf:{sid}".encode("ascii"), hashlib.sha256).hexdigest()

    def csrf_ok(self, sid: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf(sid), token)


def start_session(conn: Connection, user: User, hours: int, address: str | None) -> str:
    """A new session id for a user who just signed in."""
    sid = new_sid()
    now = datetime.now(timezone.utc)
    conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < now))
    conn.execute(insert(web_sessions).values(session_hash=_hash(sid), user_id=user.user_id, created_at=now,
                                             expires_at=now + timedelta(hours=hours), address=address))
    return sid


def end_session(conn: Connection, sid: str) -> None:
    conn.execute(delete(web_sessions).where(web_sessions.c.session_hash == _hash(sid)))


def session_user(conn: Connection, sid: str) -> User | None:
    """The signed-in user of a session id, if the session is current and the account enabled."""
    row = conn.execute(select(web_sessions.c.user_id, web_sessions.c.expires_at)
                       .where(web_sessions.c.session_hash == _hash(sid))).first()
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=timezone.utc)
    if expires < datetime.now(timezone.utc):
        return None
    user = by_id(conn, row.user_id)
    return None if user is None or user.disabled else user


@dataclass(frozen=True)
class Limit:
    blocked: bool
    retry_after: int = 0  # seconds


def sign_in_limit(conn: Connection, username: str, address: str, per_user: int, per_address: int) -> Limit:
    """Whether sign-in is refused for now: too many recent failures for this name or from this address."""
    since = datetime.now(timezone.utc) - FAILURE_WINDOW
    conn.execute(delete(login_failures).where(login_failures.c.at < since))
    for column, value, limit in ((login_failures.c.username, username.strip().lower()[:64], per_user),
                                 (login_failures.c.address, address, per_address)):
        count, oldest = conn.execute(select(func.count(), func.min(login_failures.c.at))
                                     .where(column == value, login_failures.c.at >= since)).one()
        if count >= limit:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=timezone.utc)
            wait = oldest + FAILURE_WINDOW - datetime.now(timezone.utc)
            return Limit(True, max(1, int(wait.total_seconds()) + 1))
    return Limit(False)


def record_attempt(conn: Connection, username: str, address: str) -> int:
    """Count a sign-in attempt as failed before the password is checked, so that guesses sent in
    parallel are counted while they are being verified; `clear_attempt` takes it back on success."""
    result = conn.execute(insert(login_failures).values(
        at=datetime.now(timezone.utc), username=username.strip().lower()[:64], address=address)
        .returning(login_failures.c.failure_id))
    return result.scalar_one()


def clear_attempt(conn: Connection, failure_id: int) -> None:
    conn.execute(delete(login_failures).where(login_failures.c.failure_id == failure_id))
