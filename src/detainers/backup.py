"""Backups: a consistent copy of the whole database while it is in use, and putting one back.

SQLite: the database's own online backup (the copy is the state of one moment; writers that have
not committed are not in it), checked with `PRAGMA integrity_check`, written next to PATH and
renamed into place so a half-written backup never has PATH's name. PostgreSQL: `pg_dump
--format=custom` (one snapshot) and `pg_restore --single-transaction` (all of it or nothing).

A backup holds everything, names and dates of birth, accounts and the audit log included: keep it
where only the restricted audience can read it. Making one is recorded in the audit log.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from detainers import audit
from detainers.errors import InputError
from detainers.store.db import head_revision, open_store, retry_when_busy

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


@dataclass(frozen=True)
class BackupResult:
    path: str
    backend: str
    size: int
    revision: str


def _sqlite_file(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise InputError("--db: an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _pg_command(engine: Engine, program: str) -> tuple[list[str], dict]:
    """The program with the connection as flags; the password goes in the environment, not on the
    command line (where `ps` would show it)."""
    if shutil.which(program) is None:
        raise InputError(f"{program} is not installed: install PostgreSQL's client programs "
                         f"(Debian: apt-get install postgresql-client) to back up or restore PostgreSQL")
    url = engine.url
    args = [program, "--no-password"]
    for flag, value in (("--host", url.host), ("--port", url.port), ("--username", url.username)):
        if value:
            args += [flag, str(value)]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _target(path: Path) -> Path:
    if path.is_dir():
        raise InputError(f"{path}: is a folder (expected the path of the backup file to write)")
    if not path.parent.is_dir():
        raise InputError(f"{path}: folder {path.parent} does not exist")
    return path


def backup(engine: Engine, path: Path) -> BackupResult:
    """Write a consistent backup of the database to `path` (replacing a file there only when complete)."""
    path = _target(Path(path))
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(handle)
    temporary = Path(temporary)
    try:
        if engine.dialect.name == "sqlite":
            source = sqlite3.connect(str(_sqlite_file(engine)))
            target = sqlite3.connect(str(temporary))
            try:
                source.backup(target)  # all pages in one step: one consistent moment
                ok = target.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                target.close()
                source.close()
            if ok != "ok":
                raise InputError(f"{path}: the copy failed its integrity check ({ok}); nothing was written")
        else:
            args, env = _pg_command(engine, "pg_dump")
            args += ["--format=custom", "--file", str(temporary), "--dbname", engine.url.database]
            done = subprocess.run(args, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise InputError(f"pg_dump failed: {done.stderr.strip().splitlines()[-1] if done.stderr else ''}")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    # Recorded once the copy exists; waits for a writer that holds the database (SQLite) to finish.
    retry_when_busy(engine, lambda conn: audit.record(conn, "backup", {"path": str(path.resolve()),
                                                                      "bytes": path.stat().st_size}))
    return BackupResult(str(path), engine.dialect.name, path.stat().st_size, head_revision())


def _kind(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            start = handle.read(16)
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder (expected a backup file written by `detainers backup`)") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if start.startswith(SQLITE_MAGIC):
        return "sqlite"
    if start.startswith(PG_MAGIC):
        return "postgresql"
    raise InputError(f"{path}: is not a backup written by `detainers backup` (expected a SQLite database "
                     "or a pg_dump custom-format file)")


def _check_sqlite_backup(path: Path) -> None:
    """The file is a sound detainers database this version can read."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path}: cannot be read as a detainers database ({exc})") from None
    if ok != "ok":
        raise InputError(f"{path}: fails its integrity check ({ok}); the database was not changed")
    _check_revision(path, revision[0] if revision else None)


def _check_revision(path: Path, revision: str | None) -> None:
    from alembic.script import ScriptDirectory

    from detainers.store.db import alembic_config

    known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if revision is None:
        raise InputError(f"{path}: holds no detainers schema (no migration revision)")
    if revision not in known:
        raise InputError(f"{path}: was written by a newer version of detainers (schema {revision}); "
                         "upgrade detainers before restoring it")


def restore(url: str, path: Path) -> BackupResult:
    """Put a backup back into the database at `url`, replacing what is there; all of it or nothing.
    An older backup is then migrated to this version's schema."""
    path = Path(path)
    kind = _kind(path)
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    if kind != backend:
        raise InputError(f"{path}: is a {kind} backup and --db is {backend}; restore it into a {kind} "
                         "database (to move between the two, use `detainers export` and `detainers import`)")
    if kind == "sqlite":
        _check_sqlite_backup(path)
        target_file = Path(make_url(url).database or "")
        if not str(target_file) or str(target_file) == ":memory:":
            raise InputError("--db: an in-memory SQLite database cannot be restored into")
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(str(target_file))
        try:
            source.backup(target)  # replaces the target's pages in one transaction
        finally:
            target.close()
            source.close()
    else:
        from detainers.store.db import make_engine

        engine = make_engine(url)
        try:
            args, env = _pg_command(engine, "pg_restore")
            args += ["--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
                     "--dbname", engine.url.database, str(path)]
        finally:
            engine.dispose()
        done = subprocess.run(args, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
            raise InputError(f"{path}: pg_restore failed, the database was not changed ({last})")
    engine = open_store(url)  # migrates an older backup to this version's schema
    try:
        retry_when_busy(engine, lambda conn: audit.record(conn, "restore", {"path": str(path.resolve())}))
    finally:
        engine.dispose()
    return BackupResult(str(path), kind, path.stat().st_size, head_revision())
