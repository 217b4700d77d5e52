"""`detainers users …`: accounts from the command line, audited, with clear errors (exit 2)."""

from __future__ import annotations

import json

from sqlalchemy import select
from typer.testing import CliRunner

from detainers import accounts
from detainers.cli import app
from detainers.store.schema import audit_log

runner = CliRunner()


def run(db_url, *args, stdin=None):
    return runner.invoke(app, [*args, "--db", db_url], input=stdin)


def test_add_list_set_role_disable(engine, db_url):
    result = run(db_url, "users", "add", "Dana.Smith", "--role", "analyst", "--password-stdin",
                 stdin="a long enough password\n")
    assert result.exit_code == 0, result.output
    assert "Added dana.smith (analyst)" in result.output
    assert run(db_url, "users", "add", "boss", "--role", "admin", "--password-stdin",
               stdin="another long password\n").exit_code == 0
    listing = run(db_url, "users", "list").output
    assert "dana.smith" in listing and "analyst" in listing and "boss" in listing
    assert run(db_url, "users", "set-role", "dana.smith", "viewer").exit_code == 0
    assert run(db_url, "users", "disable", "dana.smith").exit_code == 0
    with engine.connect() as conn:
        user = accounts.get(conn, "dana.smith")
        assert (user.role, user.disabled) == ("viewer", True)
        assert accounts.authenticate(conn, "dana.smith", "a long enough password") is None
        actions = [(r.action, json.loads(r.detail).get("username")) for r in
                   conn.execute(select(audit_log).order_by(audit_log.c.entry_id))]
    assert actions == [("user-add", "dana.smith"), ("user-add", "boss"), ("user-role", "dana.smith"),
                       ("user-disable", "dana.smith")]
    assert run(db_url, "users", "disable", "dana.smith", "--enable").exit_code == 0
    with engine.connect() as conn:
        assert accounts.authenticate(conn, "dana.smith", "a long enough password").role == "viewer"


def test_bad_input_exits_2_and_changes_nothing(engine, db_url):
    cases = [
        (("users", "add", "x y", "--password-stdin"), "a long enough password\n", "user name 'x y'"),
        (("users", "add", "ok-name", "--role", "owner", "--password-stdin"), "a long enough password\n",
         "role 'owner'"),
        (("users", "add", "ok-name", "--password-stdin"), "short\n", "too short"),
        (("users", "add", "ok-name", "--password-stdin"), "", "nothing on standard input"),
        (("users", "set-role", "nobody", "viewer"), None, "no such user"),
    ]
    for args, stdin, message in cases:
        result = run(db_url, *args, stdin=stdin)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
    with engine.connect() as conn:
        assert accounts.list_users(conn) == []
        assert conn.execute(select(audit_log)).all() == []


def test_the_last_admin_cannot_be_demoted_or_disabled(engine, db_url):
    run(db_url, "users", "add", "root-admin", "--role", "admin", "--password-stdin", stdin="a long enough password\n")
    for args in (("users", "set-role", "root-admin", "analyst"), ("users", "disable", "root-admin")):
        result = run(db_url, *args)
        assert result.exit_code == 2 and "last enabled admin" in result.output
    run(db_url, "users", "add", "second", "--role", "admin", "--password-stdin", stdin="a long enough password\n")
    assert run(db_url, "users", "set-role", "root-admin", "analyst").exit_code == 0


def test_a_taken_name_is_refused(engine, db_url):
    run(db_url, "users", "add", "sam", "--password-stdin", stdin="a long enough password\n")
    result = run(db_url, "users", "add", "SAM", "--password-stdin", stdin="a long enough password\n")
    assert result.exit_code == 2 and "already taken" in result.output


def test_serve_refuses_an_unknown_anonymous_setting(db_url):
    result = run(db_url, "serve", "--anonymous", "everyone")
    assert result.exit_code == 2 and "--anonymous: 'everyone'" in result.output
