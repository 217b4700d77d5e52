"""How the web process is configured: flags of `detainers serve`, else environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass

from detainers.errors import InputError

ANONYMOUS_CHOICES = ("viewer", "off")


@dataclass(frozen=True)
class WebSettings:
    db_url: str
    # "viewer": visitors who are not signed in see the public audience; "off": they must sign in.
    anonymous: str = "viewer"
    # Cookies get `Secure` when the request came over https (directly or through a trusted proxy);
    # True forces it on every response.
    secure_cookies: bool = False
    session_hours: int = 12
    max_upload_bytes: int = 256 * 1024 * 1024
    # Failed sign-ins allowed per 15 minutes, per user name and per address.
    max_failures_per_user: int = 5
    max_failures_per_address: int = 20
    # PostgreSQL connection pool of the web process: uvicorn answers requests from a thread pool (40
    # threads), each holding a connection while it reads; past pool + overflow a request waits (30 s)
    # for one to come back. SQLite keeps SQLAlchemy's default pool (connections to a file are cheap).
    db_pool_size: int = 10
    db_max_overflow: int = 10

    def __post_init__(self) -> None:
        if self.anonymous not in ANONYMOUS_CHOICES:
            raise InputError(f"--anonymous: {self.anonymous!r} (expected one of {', '.join(ANONYMOUS_CHOICES)})")
        if self.db_pool_size < 1 or self.db_max_overflow < 0:
            raise InputError(f"DETAINERS_DB_POOL_SIZE / DETAINERS_DB_MAX_OVERFLOW: {self.db_pool_size} / "
                             f"{self.db_max_overflow} (expected at least 1 / at least 0)")


def from_environment(db_url: str, **overrides) -> WebSettings:
    """Settings from DETAINERS_ANONYMOUS, DETAINERS_SECURE_COOKIES, DETAINERS_MAX_UPLOAD_MB,
    DETAINERS_DB_POOL_SIZE and DETAINERS_DB_MAX_OVERFLOW, then overrides."""
    values: dict = {}
    if os.environ.get("DETAINERS_ANONYMOUS"):
        values["anonymous"] = os.environ["DETAINERS_ANONYMOUS"]
    if os.environ.get("DETAINERS_SECURE_COOKIES"):
        values["secure_cookies"] = os.environ["DETAINERS_SECURE_COOKIES"].lower() in ("1", "true", "yes")
    if os.environ.get("DETAINERS_MAX_UPLOAD_MB"):
        raw = os.environ["DETAINERS_MAX_UPLOAD_MB"]
        try:
            values["max_upload_bytes"] = int(raw) * 1024 * 1024
        except ValueError:
            raise InputError(f"DETAINERS_MAX_UPLOAD_MB: {raw!r} (expected a whole number of megabytes)") from None
    for name, field in (("DETAINERS_DB_POOL_SIZE", "db_pool_size"), ("DETAINERS_DB_MAX_OVERFLOW", "db_max_overflow")):
        raw = os.environ.get(name)
        if raw:
            try:
                values[field] = int(raw)
            except ValueError:
                raise InputError(f"{name}: {raw!r} (expected a whole number of connections)") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    return WebSettings(db_url=db_url, **values)
