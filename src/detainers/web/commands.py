"""`detainers serve` and `detainers users …`: the web process and its accounts, from the command line."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Optional

import typer
from rich.table import Table

from detainers.cli import DbOption, app, err, escape, handle_errors, out, store
from detainers.config import database_url
from detainers.errors import InputError

users_app = typer.Typer(help="Accounts for the web dashboard (roles: admin, analyst, viewer).", no_args_is_help=True)
app.add_typer(users_app, name="users")

RoleOption = Annotated[str, typer.Option("--role", help="admin, analyst or viewer.")]


def _read_password(from_stdin: bool, confirm: bool = True) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InputError("--password-stdin: nothing on standard input (expected the password on one line)")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InputError("no terminal to ask for the password: use --password-stdin and pipe it in")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)


@users_app.command("add")
@handle_errors
def users_add(
    username: Annotated[str, typer.Argument(help="The user name (letters, digits, '.', '_', '-').")],
    role: RoleOption = "viewer",
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from standard input instead of asking.")] = False,
    db: DbOption = None,
) -> None:
    """Make an account. The password is asked for (at least 12 characters), never taken as an argument."""
    from detainers import accounts

    password = _read_password(password_stdin)
    with store(db).begin() as conn:
        user = accounts.add(conn, username, password, role)
    out.print(f"Added {escape(user.username)} ({user.role}).")


@users_app.command("list")
@handle_errors
def users_list(db: DbOption = None) -> None:
    """Every account, with its role and whether it is disabled."""
    from detainers import accounts

    with store(db).connect() as conn:
        rows = accounts.list_users(conn)
    table = Table("user", "role", "state", "created")
    for u in rows:
        table.add_row(escape(u.username), u.role, "disabled" if u.disabled else "enabled",
                      u.created_at.strftime("%Y-%m-%d %H:%M"))
    out.print(table)


@users_app.command("set-role")
@handle_errors
def users_set_role(
    username: Annotated[str, typer.Argument(help="The user name.")],
    role: Annotated[str, typer.Argument(help="admin, analyst or viewer.")],
    db: DbOption = None,
) -> None:
    """Change an account's role (audited). The last enabled admin cannot lose the role."""
    from detainers import accounts

    with store(db).begin() as conn:
        user = accounts.set_role(conn, username, role)
    out.print(f"{escape(user.username)} is now {user.role}.")


@users_app.command("disable")
@handle_errors
def users_disable(
    username: Annotated[str, typer.Argument(help="The user name.")],
    enable: Annotated[bool, typer.Option("--enable", help="Enable the account again instead.")] = False,
    db: DbOption = None,
) -> None:
    """Disable an account (its sessions end at once); --enable turns it back on."""
    from detainers import accounts

    with store(db).begin() as conn:
        user = accounts.set_disabled(conn, username, not enable)
    out.print(f"{escape(user.username)} is {'disabled' if user.disabled else 'enabled'}.")


@users_app.command("set-password")
@handle_errors
def users_set_password(
    username: Annotated[str, typer.Argument(help="The user name.")],
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from standard input instead of asking.")] = False,
    db: DbOption = None,
) -> None:
    """Give an account a new password; its sessions end."""
    from detainers import accounts

    password = _read_password(password_stdin)
    with store(db).begin() as conn:
        user = accounts.set_password(conn, username, password)
    out.print(f"New password set for {escape(user.username)}.")


@app.command("serve")
@handle_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    anonymous: Annotated[Optional[str], typer.Option(
        help="viewer: visitors who are not signed in see the public audience; off: they must sign in "
             "(default $DETAINERS_ANONYMOUS, else viewer).")] = None,
    secure_cookies: Annotated[Optional[bool], typer.Option(
        "--secure-cookies/--no-secure-cookies",
        help="Always mark cookies Secure (default: when the request came over https).")] = None,
    forwarded_allow_ips: Annotated[Optional[str], typer.Option(
        help="Proxies trusted to say the client's address and scheme (X-Forwarded-*), comma-separated.")] = None,
    workers: Annotated[int, typer.Option(
        help="Server processes answering on the one address: a long report built in one does not hold up "
             "the others. Each keeps its own database connections and answers; uploads and sessions are "
             "shared through the database.", min=1, max=64)] = 1,
    db: DbOption = None,
) -> None:
    """Serve the dashboard and the JSON API (/api/v1, documented at /api/docs)."""
    import uvicorn

    from detainers.web.app import create_app
    from detainers.web.settings import from_environment

    url = database_url(db)
    settings = from_environment(url, anonymous=anonymous, secure_cookies=secure_cookies)
    # Built here even with several workers: a bad setting or database stops the command before any
    # process starts, and the schema is brought up to date once, not by each worker at once.
    application = create_app(settings)
    err.print(f"Serving detainers on http://{host}:{port}/ (API docs at /api/docs) with {workers} "
              f"process{'es' if workers > 1 else ''}; anonymous visitors: {settings.anonymous}. Ctrl-C stops.",
              highlight=False)
    common = dict(host=host, port=port, log_level="info", proxy_headers=bool(forwarded_allow_ips),
                  forwarded_allow_ips=forwarded_allow_ips)
    if workers == 1:
        uvicorn.run(application, **common)
        return
    application.state.engine.dispose()
    # The worker processes are started afresh and build their app from the environment.
    os.environ.update({"DETAINERS_DB": url, "DETAINERS_ANONYMOUS": settings.anonymous,
                       "DETAINERS_SECURE_COOKIES": "1" if settings.secure_cookies else "0"})
    uvicorn.run("detainers.web.app:app_from_environment", factory=True, workers=workers, **common)
