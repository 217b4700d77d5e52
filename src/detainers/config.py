"""Where the database is: `--db`, else `DETAINERS_DB`, else `sqlite:///detainers.db`."""

from __future__ import annotations

import os

DEFAULT_DB_URL = "sqlite:///detainers.db"
ENV_DB = "DETAINERS_DB"


def database_url(flag: str | None = None) -> str:
    """Resolve the database URL from a flag, the environment, or the default."""
    if flag:
        return normalize_url(flag)
    env = os.environ.get(ENV_DB)
    if env:
        return normalize_url(env)
    return DEFAULT_DB_URL


def normalize_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and a bare file path for SQLite."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" not in url:
        return f"sqlite:///{url}"
    return url


def redact_url(url: str) -> str:
    """The URL without its password, fit for reports and logs."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"
