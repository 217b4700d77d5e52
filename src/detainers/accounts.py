"""Accounts for the web dashboard: who may sign in, and with which role.

Roles (DESIGN §8): `admin` manages users, sources and policies and sees everything;
`analyst` sees everything, identity fields included (every such view is audited);
`viewer` sees the public audience only. Passwords are stored as argon2 hashes.
Accounts are never deleted, only disabled, so the audit log's names stay meaningful.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, insert, select, update

from detainers import audit
from detainers.errors import InputError
from detainers.store.schema import users, web_sessions

ROLES = ("admin", "analyst", "viewer")
# What each role is shown: the restricted audience carries identity fields.
AUDIENCE = {"admin": "restricted", "analyst": "restricted", "viewer": "public"}
MIN_PASSWORD = 12
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the timing of a wrong name and a wrong
# password alike, so sign-in does not reveal which user names exist.
_DUMMY_HASH = _hasher.hash("not a password of anyone's")


@dataclass(frozen=True)
class User:
    user_id: int
    username: str
    role: str
    disabled: bool
    created_at: datetime

    @property
    def audience(self) -> str:
        return AUDIENCE[self.role]


def _user(row) -> User:
    return User(row.user_id, row.username, row.role, bool(row.disabled), row.created_at)


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise InputError(f"user name {username!r}: expected 2–64 characters, letters, digits, '.', '_' or '-', "
                         "starting with a letter or digit")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"password: too short ({len(password)} characters; expected at least {MIN_PASSWORD})")
    if len(password) > 1024:
        raise InputError("password: too long (expected at most 1,024 characters)")
    return password


def get(conn: Connection, username: str) -> User | None:
    row = conn.execute(select(users).where(users.c.username == username.strip().lower())).first()
    return _user(row) if row else None


def by_id(conn: Connection, user_id: int) -> User | None:
    row = conn.execute(select(users).where(users.c.user_id == user_id)).first()
    return _user(row) if row else None


def list_users(conn: Connection) -> list[User]:
    return [_user(r) for r in conn.execute(select(users).order_by(users.c.username))]


def add(conn: Connection, username: str, password: str, role: str, *, actor: str | None = None,
        address: str | None = None) -> User:
    """Create an account (audited). A taken name is an error."""
    name, role = check_username(username), check_role(role)
    check_password(password)
    if get(conn, name) is not None:
        raise InputError(f"user name {name!r}: already taken")
    now = datetime.now(timezone.utc)
    conn.execute(insert(users).values(username=name, password_hash=_hasher.hash(password), role=role,
                                      disabled=False, created_at=now))
    audit.record(conn, "user-add", _detail(username=name, role=role, address=address), actor=actor)
    return get(conn, name)


def set_role(conn: Connection, username: str, role: str, *, actor: str | None = None,
             address: str | None = None) -> User:
    user = _existing(conn, username)
    role = check_role(role)
    if user.role == "admin" and role != "admin":
        _keep_an_admin(conn, user)
    conn.execute(update(users).where(users.c.user_id == user.user_id).values(role=role))
    audit.record(conn, "user-role", _detail(username=user.username, old=user.role, new=role, address=address),
                 actor=actor)
    return by_id(conn, user.user_id)


def set_disabled(conn: Connection, username: str, disabled: bool = True, *, actor: str | None = None,
                 address: str | None = None) -> User:
    """Disable (or enable again) an account; disabling ends its sessions at once."""
    user = _existing(conn, username)
    if disabled and user.role == "admin" and not user.disabled:
        _keep_an_admin(conn, user)
    conn.execute(update(users).where(users.c.user_id == user.user_id).values(disabled=disabled))
    if disabled:
        conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user.user_id))
    audit.record(conn, "user-disable" if disabled else "user-enable", _detail(username=user.username, address=address),
                 actor=actor)
    return by_id(conn, user.user_id)


def set_password(conn: Connection, username: str, password: str, *, actor: str | None = None,
                 address: str | None = None) -> User:
    """A new password; every session of the account ends."""
    user = _existing(conn, username)
    check_password(password)
    conn.execute(update(users).where(users.c.user_id == user.user_id).values(password_hash=_hasher.hash(password)))
    conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user.user_id))
    audit.record(conn, "user-password", _detail(username=user.username, address=address), actor=actor)
    return user


def authenticate(conn: Connection, username: str, password: str) -> User | None:
    """The user if the name and password match an enabled account, else None (no hint which part failed)."""
    row = conn.execute(select(users).where(users.c.username == username.strip().lower())).first()
    stored = row.password_hash if row is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled:
        return None
    if _hasher.check_needs_rehash(stored):
        conn.execute(update(users).where(users.c.user_id == row.user_id).values(password_hash=_hasher.hash(password)))
    return _user(row)


def _existing(conn: Connection, username: str) -> User:
    user = get(conn, username)
    if user is None:
        raise InputError(f"user name {username!r}: no such user (see `detainers users list`)")
    return user


def _keep_an_admin(conn: Connection, user: User) -> None:
    others = conn.execute(select(users.c.user_id).where(users.c.role == "admin", users.c.disabled.is_(False),
                                                        users.c.user_id != user.user_id).limit(1)).first()
    if others is None:
        raise InputError(f"user {user.username!r} is the last enabled admin: make another admin first")


def _detail(**values) -> dict:
    return {k: v for k, v in values.items() if v is not None}
