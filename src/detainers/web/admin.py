"""Admin pages: accounts, the audit log, and policy periods entered by hand.

Accounts go through `detainers.accounts` (which audits every change). A policy
entered here is a user's policy like one in a data package's policies.csv (origin
"package"), with its own `sources` row of kind "web-edit" so its provenance holds:
it wins over policies derived from 287(g) lists, which are derived again around it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timezone
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import Connection, delete, func, insert, select, update
from starlette.exceptions import HTTPException

from detainers import accounts, audit
from detainers.analytics.policies import timeline
from detainers.datapackage.importer import row_hash
from detainers.datapackage.spec import CellError, read_date
from detainers.errors import InputError
from detainers.store import version
from detainers.store.schema import audit_log, jurisdictions, policies, roster_entries, sources
from detainers.web.deps import Principal, csrf_checked, require
from detainers.web.templating import page

admin_only = require("admin")
router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(admin_only)])
STANCES = ("declines", "limited", "honors")
AUDIT_PAGE = 50

Name = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
JurisdictionId = Path(min_length=1, max_length=128)

#: What a finished change says on the page it returns to (fixed texts: the address carries only a code).
DONE = {
    "added": "Account {user} was added.",
    "role": "The role of {user} was changed.",
    "disabled": "{user} was disabled and signed out everywhere.",
    "enabled": "{user} was enabled again.",
    "password": "{user} has a new password and was signed out everywhere.",
}


# --- accounts -----------------------------------------------------------------------------


def _users_page(request: Request, *, status_code: int = 200, error: str | None = None, notice: str | None = None,
                form: dict | None = None):
    with request.app.state.engine.connect() as conn:
        users = accounts.list_users(conn)
    return page(request, "admin_users.html", status_code=status_code, title="Users", nav="users", users=users,
                roles=accounts.ROLES, error=error, notice=notice, form=form or {},
                min_password=accounts.MIN_PASSWORD)


@router.get("/users")
def users_page(request: Request, done: str | None = Query(None, max_length=20),
               user: str | None = Query(None, max_length=64)):
    notice = DONE[done].format(user=user or "The account") if done in DONE else None
    return _users_page(request, notice=notice)


def _change(request: Request, p: Principal, what: str, username: str, action, form: dict | None = None):
    """Run one account change; back to the list with a notice, or the list with the error (422)."""
    try:
        with request.app.state.engine.begin() as conn:
            user = action(conn)
    except InputError as exc:
        return _users_page(request, status_code=422, error=exc.message(), form=form)
    return RedirectResponse(f"/admin/users?done={what}&user={quote(user.username)}", status_code=303)


def _same(password: str, again: str) -> None:
    if password != again:
        raise InputError("password: the two passwords differ (type the same password twice)")


@router.post("/users", dependencies=[Depends(csrf_checked)])
def add_user(request: Request, p: Principal = Depends(admin_only),
             username: str = Form(..., max_length=200), role: str = Form(..., max_length=20),
             password: str = Form(..., max_length=1024), password_again: str = Form(..., max_length=1024)):
    def action(conn):
        _same(password, password_again)
        return accounts.add(conn, username, password, role, actor=p.actor, address=p.address)
    return _change(request, p, "added", username, action, form={"username": username, "role": role})


@router.post("/users/{username}/role", dependencies=[Depends(csrf_checked)])
def set_role(request: Request, username: str = Name, p: Principal = Depends(admin_only),
             role: str = Form(..., max_length=20)):
    return _change(request, p, "role", username,
                   lambda conn: accounts.set_role(conn, username, role, actor=p.actor, address=p.address))


@router.post("/users/{username}/disable", dependencies=[Depends(csrf_checked)])
def disable(request: Request, username: str = Name, p: Principal = Depends(admin_only)):
    return _change(request, p, "disabled", username,
                   lambda conn: accounts.set_disabled(conn, username, True, actor=p.actor, address=p.address))


@router.post("/users/{username}/enable", dependencies=[Depends(csrf_checked)])
def enable(request: Request, username: str = Name, p: Principal = Depends(admin_only)):
    return _change(request, p, "enabled", username,
                   lambda conn: accounts.set_disabled(conn, username, False, actor=p.actor, address=p.address))


@router.post("/users/{username}/password", dependencies=[Depends(csrf_checked)])
def set_password(request: Request, username: str = Name, p: Principal = Depends(admin_only),
                 password: str = Form(..., max_length=1024), password_again: str = Form(..., max_length=1024)):
    def action(conn):
        _same(password, password_again)
        return accounts.set_password(conn, username, password, actor=p.actor, address=p.address)
    return _change(request, p, "password", username, action)


# --- the audit log ------------------------------------------------------------------------


@router.get("/audit")
def audit_page(request: Request, before: int | None = Query(None, ge=1, le=2**62),
               after: int | None = Query(None, ge=0, le=2**62)):
    """The newest entries, or those just before (older) or after (newer) an entry id."""
    entry_id = audit_log.c.entry_id
    query = select(audit_log).limit(AUDIT_PAGE)
    if before is not None:
        query = query.where(entry_id < before).order_by(entry_id.desc())
    elif after is not None:
        query = query.where(entry_id > after).order_by(entry_id.asc())
    else:
        query = query.order_by(entry_id.desc())
    with request.app.state.engine.begin() as conn:
        total = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
        rows = sorted(conn.execute(query).all(), key=lambda r: r.entry_id, reverse=True)
        older = newer = False
        if rows:
            older = conn.execute(select(entry_id).where(entry_id < rows[-1].entry_id).limit(1)).first() is not None
            newer = conn.execute(select(entry_id).where(entry_id > rows[0].entry_id).limit(1)).first() is not None
        problems = audit.verify(conn)
        # Entries can carry what people searched for; reading them is itself recorded.
        audit.record(conn, "view.audit", {k: v for k, v in (("before", before), ("after", after)) if v is not None})
    entries = [{"entry_id": r.entry_id, "at": r.at, "actor": r.actor, "action": r.action,
                "detail": _detail(r.detail)} for r in rows]
    return page(request, "admin_audit.html", title="Audit log", nav="users", entries=entries, total=total,
                older=older, newer=newer, problems=problems)


def _detail(text: str) -> list[tuple[str, str]]:
    try:
        values = json.loads(text)
    except ValueError:
        return [("", text)]
    if not isinstance(values, dict):
        return [("", text)]
    return [(k, v if isinstance(v, str) else json.dumps(v, sort_keys=True)) for k, v in sorted(values.items())]


# --- policies -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyEdit:
    source_id: int
    effective_to: date | None
    closed: date | None  # the day an earlier open policy now ends, if it had to


def add_policy(conn: Connection, jurisdiction_id: str, effective_from: date, stance: str, criteria: str | None,
               citation: str | None, *, actor: str) -> PolicyEdit:
    """Add a user's policy period from `effective_from` (to the next user policy, or open-ended).

    An earlier policy still in force on that day now ends on it, as in a timeline of stances.
    Policies derived from 287(g) lists give way: they are derived again around the user's.
    """
    if stance not in STANCES:
        raise InputError(f"stance {stance!r}: expected one of {', '.join(STANCES)}")
    own = conn.execute(select(policies).where(policies.c.jurisdiction_id == jurisdiction_id,
                                              policies.c.origin != "287g-roster")
                       .order_by(policies.c.effective_from)).all()
    same = [p for p in own if p.effective_from == effective_from]
    if same:
        raise InputError(f"effective from {effective_from}: {jurisdiction_id} already has a policy starting that day "
                         f"({same[0].stance}). Pick another day; a policy is changed by adding the next period.")
    earlier = [p for p in own if p.effective_from < effective_from]
    later = [p for p in own if p.effective_from > effective_from]
    effective_to = later[0].effective_from if later else None
    previous = earlier[-1] if earlier else None
    closes = previous is not None and (previous.effective_to is None or previous.effective_to > effective_from)
    now = datetime.now(timezone.utc)
    notes = [f"Policy of {jurisdiction_id} from {effective_from}: {stance}, entered on the web by {actor}."]
    if closes:
        notes.append(f"The policy from {previous.effective_from} now ends on {effective_from}.")
    digest = hashlib.sha256(json.dumps([jurisdiction_id, effective_from.isoformat(), stance, criteria, citation,
                                        actor, now.isoformat(), secrets.token_hex(8)]).encode()).hexdigest()
    source_id = conn.execute(insert(sources).values(
        kind="web-edit", name=f"policy edit: {jurisdiction_id} from {effective_from}", sha256=digest,
        loaded_at=now, rows_read=1 + closes, row_counts=json.dumps({"policies.csv": 1 + closes}),
        synthetic=False, notes=json.dumps(notes), family="web-edit:policies", quality="{}",
    ).returning(sources.c.source_id)).scalar_one()
    # A policy derived from a 287(g) list may start the same day; the user's wins, and the rest is derived again.
    conn.execute(delete(policies).where(policies.c.jurisdiction_id == jurisdiction_id,
                                        policies.c.origin == "287g-roster"))
    if closes:
        conn.execute(update(policies).where(policies.c.policy_id == previous.policy_id).values(
            effective_to=effective_from, source_id=source_id, source_row=2,
            row_hash=row_hash((previous.jurisdiction_id, previous.effective_from, effective_from, previous.stance,
                               previous.agreement, previous.criteria, previous.citation))))
    conn.execute(insert(policies).values(
        jurisdiction_id=jurisdiction_id, effective_from=effective_from, effective_to=effective_to, stance=stance,
        agreement="none", criteria=criteria, citation=citation, origin="package", source_id=source_id,
        source_row=1, row_hash=row_hash((jurisdiction_id, effective_from, effective_to, stance, None, criteria,
                                         citation))))
    if conn.execute(select(roster_entries.c.entry_id).limit(1)).first() is not None:
        from detainers.ingest.roster_load import rebuild

        rebuild(conn)
    version.bump(conn)
    audit.record(conn, "policy.edit", {
        "jurisdiction_id": jurisdiction_id, "effective_from": effective_from.isoformat(),
        "effective_to": effective_to.isoformat() if effective_to else None, "stance": stance, "by": actor,
        "source_id": source_id, "closed_previous": previous.effective_from.isoformat() if closes else None},
        actor=actor)
    return PolicyEdit(source_id, effective_to, previous.effective_from if closes else None)


def _jurisdiction(conn: Connection, jurisdiction_id: str):
    found = conn.execute(select(jurisdictions).where(jurisdictions.c.jurisdiction_id == jurisdiction_id)).first()
    if found is None:
        raise HTTPException(404, f"No jurisdiction {jurisdiction_id!r}.")
    return found


def _policies_page(request: Request, jurisdiction_id: str, *, status_code: int = 200, error: str | None = None,
                   notice: str | None = None, form: dict | None = None):
    with request.app.state.engine.connect() as conn:
        place = _jurisdiction(conn, jurisdiction_id)
        periods = timeline(conn, jurisdiction_id)
        ids = sorted({r.source_id for r in periods if r.source_id is not None})
        kinds = dict(conn.execute(select(sources.c.source_id, sources.c.kind).where(sources.c.source_id.in_(ids))).all())
    return page(request, "admin_policies.html", status_code=status_code, title=f"Policies: {place.name}",
                nav="users", place=place, periods=periods, source_kinds=kinds, stances=STANCES, error=error, notice=notice,
                form=form or {})


@router.get("/policies/{jurisdiction_id}")
def policies_page(request: Request, jurisdiction_id: str = JurisdictionId,
                  added: str | None = Query(None, max_length=10, pattern=r"^\d{4}-\d{2}-\d{2}$")):
    notice = f"The policy from {added} was added to the timeline." if added else None
    return _policies_page(request, jurisdiction_id, notice=notice)


@router.post("/policies/{jurisdiction_id}", dependencies=[Depends(csrf_checked)])
def add_policy_form(request: Request, jurisdiction_id: str = JurisdictionId, p: Principal = Depends(admin_only),
                    effective_from: str = Form(..., max_length=20), stance: str = Form(..., max_length=20),
                    criteria: str = Form("", max_length=2000), citation: str = Form("", max_length=2000)):
    form = {"effective_from": effective_from, "stance": stance, "criteria": criteria, "citation": citation}
    try:
        try:
            day = read_date(effective_from)
        except CellError as exc:
            raise InputError(f"effective from: {effective_from!r} {exc}") from None
        with request.app.state.engine.begin() as conn:
            _jurisdiction(conn, jurisdiction_id)
            add_policy(conn, jurisdiction_id, day, stance, criteria.strip() or None, citation.strip() or None,
                       actor=p.actor)
    except InputError as exc:
        return _policies_page(request, jurisdiction_id, status_code=422, error=exc.message(), form=form)
    return RedirectResponse(f"/admin/policies/{quote(jurisdiction_id, safe='')}?added={day.isoformat()}",
                            status_code=303)
