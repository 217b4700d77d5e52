"""Signing in and out. Sign-ins, failures and sign-outs go to the audit log, with the address."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException

from detainers import accounts, audit
from detainers.web.deps import csrf_checked
from detainers.web.security import clear_attempt, end_session, record_attempt, sign_in_limit, start_session, visitor_sid
from detainers.web.templating import page

router = APIRouter(include_in_schema=False)
log = logging.getLogger("detainers.web")


def safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no `//`), else the home page."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/"


@router.get("/login")
def login_form(request: Request, next: str | None = None):
    return page(request, "login.html", title="Sign in", next=safe_next(next), error=None, username="")


@router.post("/login", dependencies=[Depends(csrf_checked)])
def login(request: Request, username: str = Form("", max_length=200), password: str = Form("", max_length=1024),
          next: str = Form("/", max_length=2000)):
    p = request.state.principal
    settings = request.app.state.settings
    engine = request.app.state.engine
    with engine.begin() as conn:
        limit = sign_in_limit(conn, username, p.address, settings.max_failures_per_user,
                              settings.max_failures_per_address)
        attempt = None if limit.blocked else record_attempt(conn, username, p.address)
    if limit.blocked:
        # Not written to the audit log: a flood of refused guesses must not flood the chain. The failures
        # that led to the block are there; the server log has each refusal.
        log.warning("sign-in refused (rate limit): user %r from %s", username[:64], p.address)
        minutes = (limit.retry_after + 59) // 60
        raise HTTPException(429, f"Too many failed sign-ins. Try again in {minutes} minute"
                                 f"{'s' if minutes != 1 else ''}.", headers={"Retry-After": str(limit.retry_after)})
    with engine.begin() as conn:
        user = accounts.authenticate(conn, username, password)
        if user is None:
            audit.record(conn, "sign-in-failed", {"username": username[:64], "address": p.address},
                         actor="web:anonymous")
        else:
            clear_attempt(conn, attempt)
            sid = start_session(conn, user, settings.session_hours, p.address)
            audit.record(conn, "sign-in", {"address": p.address}, actor=f"web:{user.username}")
    if user is None:
        return page(request, "login.html", status_code=401, title="Sign in", next=safe_next(next),
                    error="That user name and password do not match an account.", username=username[:64])
    request.state.set_sid = sid  # a fresh id: whatever cookie came in is not carried into the session
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(csrf_checked)])
def logout(request: Request):
    p = request.state.principal
    if p.user is not None:
        with request.app.state.engine.begin() as conn:
            end_session(conn, p.sid)
            audit.record(conn, "sign-out", {"address": p.address}, actor=p.actor)
    request.state.set_sid = visitor_sid()
    return RedirectResponse("/", status_code=303)
