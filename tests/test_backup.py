"""`detainers backup` / `restore`: a consistent copy while in use, put back whole, checked by reports."""

from __future__ import annotations

import json
import threading
from datetime import date

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from detainers import audit
from detainers.backup import backup, restore
from detainers.cli import app
from detainers.datapackage.importer import import_package
from detainers.errors import InputError
from detainers.reports import declined, noncooperative
from detainers.reports.render import render
from detainers.store.db import open_store
from detainers.store.schema import audit_log, detainers, jurisdictions
from tests.pkg import write_package
from tests.scenario import scenario

runner = CliRunner()


def _reports(engine) -> list[str]:
    """The answers a restore must give back: two reports, restricted (names included), as JSON without
    the parts that name the database or the moment."""
    out = []
    with engine.begin() as conn:
        for module, query in ((noncooperative, noncooperative.NonCooperativeQuery(date(2019, 6, 1),
                                                                                  audience="restricted")),
                              (declined, declined.DeclinedQuery(date(2019, 1, 1), date(2019, 12, 31),
                                                                audience="restricted"))):
            report = json.loads(render(module.build(conn, query), "json"))
            for volatile in ("manifest", "generated_by", "generated_at"):
                report.pop(volatile, None)
            out.append(json.dumps(report, sort_keys=True))
    return out


def _other_database(db_url: str, tmp_path) -> str:
    """An empty database on the same backend as `db_url`."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored.db'}"
    from sqlalchemy import create_engine

    admin = create_engine(db_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = db_url.rsplit("/", 1)[1] + "_restored"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return db_url.rsplit("/", 1)[0] + f"/{name}"


def test_backup_then_restore_gives_the_same_reports(engine, db_url, tmp_path):
    import_package(engine, write_package(tmp_path / "p", scenario()))
    before = _reports(engine)
    result = backup(engine, tmp_path / "backup.bin")
    assert result.size > 0 and (tmp_path / "backup.bin").exists()
    assert not list(tmp_path.glob(".backup.bin.*"))  # no partial file left
    other_url = _other_database(db_url, tmp_path)
    restore(other_url, tmp_path / "backup.bin")
    other = open_store(other_url)
    with other.connect() as conn:
        actions = [r.action for r in conn.execute(select(audit_log).order_by(audit_log.c.entry_id))]
        assert audit.verify(conn) == []  # the restored chain is whole, and the restore is on it
    assert actions[-1] == "restore"
    assert _reports(other) == before
    with engine.connect() as conn:  # the backup itself is recorded where it was made
        assert conn.execute(select(audit_log.c.action).order_by(audit_log.c.entry_id.desc())).first()[0] == "backup"
    other.dispose()


def test_restore_replaces_later_changes(engine, db_url, tmp_path):
    import_package(engine, write_package(tmp_path / "p", scenario()))
    backup(engine, tmp_path / "b")
    with engine.begin() as conn:
        conn.execute(text("UPDATE jurisdictions SET name = 'Changed after the backup'"))
    engine.dispose()
    restore(db_url, tmp_path / "b")
    fresh = open_store(db_url)
    with fresh.connect() as conn:
        names = conn.execute(select(jurisdictions.c.name)).scalars().all()
    assert names and "Changed after the backup" not in names
    fresh.dispose()


def test_a_backup_taken_during_a_write_has_none_of_it(engine, db_url, tmp_path):
    """Consistent while in use: a transaction still open when the backup is taken is not in it."""
    import_package(engine, write_package(tmp_path / "p", scenario()))
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(detainers)).scalar_one()
    started, finish = threading.Event(), threading.Event()

    def writer():
        with engine.begin() as conn:
            conn.execute(text("UPDATE jurisdictions SET name = name || ' (being edited)'"))
            conn.execute(text("DELETE FROM charges"))
            started.set()
            finish.wait(30)

    thread = threading.Thread(target=writer)
    thread.start()
    assert started.wait(30)
    # The writer commits 1.5 s from now. The copy is taken at once, while its changes are uncommitted;
    # the backup's own audit entry then waits for the writer's lock (SQLite) and is written after it.
    release = threading.Timer(1.5, finish.set)
    release.start()
    try:
        backup(engine, tmp_path / "during")
    finally:
        finish.set()
        release.cancel()
        thread.join()
    other_url = _other_database(db_url, tmp_path)
    restore(other_url, tmp_path / "during")
    other = open_store(other_url)
    with other.connect() as conn:
        assert conn.execute(select(func.count()).select_from(detainers)).scalar_one() == count
        assert not any("(being edited)" in n for n in conn.execute(select(jurisdictions.c.name)).scalars())
        assert conn.execute(text("SELECT count(*) FROM charges")).scalar_one() > 0
    other.dispose()


def test_bad_backup_files_are_refused_and_change_nothing(engine, db_url, tmp_path):
    import_package(engine, write_package(tmp_path / "p", scenario()))
    before = _reports(engine)
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    truncated = tmp_path / "truncated"
    backup(engine, truncated)
    truncated.write_bytes(truncated.read_bytes()[:4096 if db_url.startswith("sqlite") else 64])
    cases = [(not_a_backup, "is not a backup written by `detainers backup`"), (tmp_path, "is a folder"),
             (tmp_path / "missing", "cannot be read")]
    cases.append((truncated, "cannot be read as a detainers database" if db_url.startswith("sqlite") else "pg_restore failed"))
    for path, message in cases:
        with pytest.raises(InputError) as caught:
            restore(db_url, path)
        assert message in caught.value.message(), (path, caught.value.message())
    other_kind = tmp_path / "other-kind"
    other_kind.write_bytes(b"PGDMP" + b"\0" * 64 if db_url.startswith("sqlite") else b"SQLite format 3\x00" + b"\0" * 84)
    with pytest.raises(InputError) as caught:
        restore(db_url, other_kind)
    assert "backup and --db is" in caught.value.message()
    assert _reports(engine) == before


def test_the_commands(engine, db_url, tmp_path):
    import_package(engine, write_package(tmp_path / "p", scenario()))
    result = runner.invoke(app, ["backup", str(tmp_path / "cli.bak"), "--db", db_url])
    assert result.exit_code == 0 and "keep it where only the restricted audience can read it" in result.output
    refused = runner.invoke(app, ["restore", str(tmp_path / "cli.bak"), "--db", db_url], input="")
    assert refused.exit_code == 2 and "give --yes to confirm" in refused.output
    engine.dispose()
    done = runner.invoke(app, ["restore", str(tmp_path / "cli.bak"), "--yes", "--db", db_url])
    assert done.exit_code == 0, done.output
    bad = runner.invoke(app, ["restore", str(tmp_path), "--yes", "--db", db_url])
    assert bad.exit_code == 2 and "is a folder" in bad.output
