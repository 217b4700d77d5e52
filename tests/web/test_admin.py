"""Admin pages: accounts, the audit log and its chain, policy periods entered by hand."""

from __future__ import annotations

import csv
import json
import re
from datetime import date, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from detainers import audit
from detainers.analytics.policies import jurisdictions_on, timeline
from detainers.analytics.provenance import source_list
from detainers.datapackage.exporter import export_package
from detainers.datapackage.importer import import_package
from detainers.demo import WAKE
from detainers.ingest.base import IngestOptions
from detainers.ingest.load import ingest
from detainers.store.schema import audit_log, policies, sources, users
from tests.pkg import write_package
from tests.web.conftest import PASSWORD, csrf_of, sign_in, signed_in

DATA = Path(__file__).parents[1] / "data"
NEW_PASSWORD = "a different long password"


def entries(site, action):
    with site.engine.connect() as conn:
        return [(r.actor, json.loads(r.detail)) for r in conn.execute(
            select(audit_log).where(audit_log.c.action == action).order_by(audit_log.c.entry_id))]


def shown(html: str, kind: str) -> list[str]:
    """The texts of the page's notices or errors."""
    return [re.sub(r"<[^>]+>", "", m).replace("&#39;", "'") for m in
            re.findall(rf'<p class="{kind}"[^>]*>(.*?)</p>', html, re.S)]


def row_of(html: str, username: str) -> str:
    match = re.search(rf'<tr data-user="{username}".*?</tr>', html, re.S)
    assert match, f"no row for {username}"
    return match.group(0)


def role_now(client: TestClient) -> str:
    return client.get("/api/v1/me").json()["role"]


def test_admin_adds_users_changes_roles_disables_and_sets_passwords(fresh_site):
    admin = signed_in(fresh_site, "admin")
    listing = admin.get("/admin/users")
    assert listing.status_code == 200
    for name, role in (("admin", "admin"), ("analyst", "analyst"), ("viewer", "viewer")):
        row = row_of(listing.text, name)
        assert f'<span class="role-pill {role}">{role}</span>' in row and "enabled" in row
        assert re.search(r"<td>\d{4}-\d{2}-\d{2}</td>", row)
    token = csrf_of(listing.text)

    response = admin.post("/admin/users", data={"csrf_token": token, "username": "reporter", "role": "viewer",
                                                "password": PASSWORD, "password_again": PASSWORD})
    assert response.status_code == 200 and shown(response.text, "notice") == ["Account reporter was added."]
    assert "reporter" in row_of(response.text, "reporter")
    (actor, detail), = [e for e in entries(fresh_site, "user-add") if e[1]["username"] == "reporter"]
    assert actor == "web:admin" and detail == {"username": "reporter", "role": "viewer", "address": "testclient"}
    reporter = signed_in(fresh_site, "reporter")
    assert role_now(reporter) == "viewer"

    refused = [({"username": "reporter", "password": PASSWORD, "password_again": PASSWORD},
                "user name 'reporter': already taken"),
               ({"username": "shorty", "password": "short", "password_again": "short"},
                "password: too short (5 characters; expected at least 12)"),
               ({"username": "typo", "password": PASSWORD, "password_again": PASSWORD + "!"},
                "password: the two passwords differ")]
    for fields, message in refused:
        response = admin.post("/admin/users", data={"csrf_token": token, "role": "analyst", **fields})
        assert response.status_code == 422
        assert any(message in e for e in shown(response.text, "error")), (message, shown(response.text, "error"))
    with fresh_site.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(users)).scalar_one() == 4

    response = admin.post("/admin/users/reporter/role", data={"csrf_token": token, "role": "analyst"})
    assert shown(response.text, "notice") == ["The role of reporter was changed."]
    assert role_now(reporter) == "analyst"  # the next request already has the new role

    # Disabling ends the sessions at once; enabling lets the user sign in again.
    analyst = signed_in(fresh_site, "analyst")
    response = admin.post("/admin/users/analyst/disable", data={"csrf_token": token})
    assert shown(response.text, "notice") == ["analyst was disabled and signed out everywhere."]
    assert "disabled" in row_of(response.text, "analyst")
    assert role_now(analyst) == "anonymous"
    assert analyst.get("/upload", follow_redirects=False).status_code == 303
    assert sign_in(TestClient(fresh_site.app), "analyst").status_code == 401
    admin.post("/admin/users/analyst/enable", data={"csrf_token": token})
    assert role_now(signed_in(fresh_site, "analyst")) == "analyst"

    response = admin.post("/admin/users/viewer/password", data={"csrf_token": token, "password": NEW_PASSWORD,
                                                                 "password_again": NEW_PASSWORD})
    assert shown(response.text, "notice") == ["viewer has a new password and was signed out everywhere."]
    assert sign_in(TestClient(fresh_site.app), "viewer").status_code == 401
    assert sign_in(TestClient(fresh_site.app), "viewer", NEW_PASSWORD).status_code == 303

    # The last enabled admin stays an admin.
    for path, data in (("/admin/users/admin/role", {"role": "viewer"}), ("/admin/users/admin/disable", {})):
        response = admin.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 422
        assert shown(response.text, "error") == [
            "Not changed: user 'admin' is the last enabled admin: make another admin first"]
    assert role_now(admin) == "admin"
    response = admin.post("/admin/users/nobody/role", data={"csrf_token": token, "role": "viewer"})
    assert response.status_code == 422 and "no such user" in response.text
    with fresh_site.engine.connect() as conn:
        actions = set(conn.execute(select(audit_log.c.action).where(audit_log.c.actor == "web:admin")).scalars())
    assert {"user-add", "user-role", "user-disable", "user-enable", "user-password"} <= actions


def test_audit_page_lists_newest_first_pages_and_checks_the_chain(fresh_site):
    with fresh_site.engine.begin() as conn:
        for n in range(60):
            audit.record(conn, "test.entry", {"n": n}, actor="test")
    admin = signed_in(fresh_site, "admin")
    first = admin.get("/admin/audit")
    assert first.status_code == 200
    assert "The audit chain is intact" in first.text
    rows = re.findall(r'<tr>\s*<td class="num">(\d+)</td>.*?<td>([^<]*)</td>\s*<td><code>([^<]*)</code>', first.text,
                      re.S)
    assert len(rows) == 50
    ids = [int(i) for i, _, _ in rows]
    assert ids == sorted(ids, reverse=True)
    assert rows[0][1:] == ("web:admin", "sign-in")  # newest first: the admin's own sign-in
    assert ("test", "test.entry") in [r[1:] for r in rows]
    assert f'href="/admin/audit?before={min(ids)}"' in first.text and "Newer" not in first.text
    second = admin.get(f"/admin/audit?before={min(ids)}").text
    older = [int(i) for i in re.findall(r'<tr>\s*<td class="num">(\d+)</td>', second)]
    assert older == list(range(min(ids) - 1, 0, -1))  # the rest, down to the demo import
    assert "Older" not in second and f'href="/admin/audit?after={min(ids) - 1}"' in second
    newer = [int(i) for i in re.findall(r'<tr>\s*<td class="num">(\d+)</td>',
                                        admin.get(f"/admin/audit?after={min(ids) - 1}").text)]
    assert newer == ids  # back to the same page, though the log grew meanwhile
    assert admin.get("/admin/audit?before=0").status_code == 422
    # Viewing the log is itself recorded.
    assert [d for _, d in entries(fresh_site, "view.audit")] == [
        {"address": "testclient"}, {"before": min(ids), "address": "testclient"},
        {"after": min(ids) - 1, "address": "testclient"}]
    with fresh_site.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.entry_id == 5).values(detail='{"n": 999}'))
    broken = admin.get("/admin/audit").text
    assert "The audit chain is broken" in broken and "intact" not in broken
    assert "entry 5 (test.entry by test) does not match the chain" in broken


def test_policy_edit_enters_the_timeline_with_provenance_and_audit(fresh_site, tmp_path):
    admin = signed_in(fresh_site, "admin")
    form = admin.get(f"/admin/policies/{WAKE}")
    assert form.status_code == 200 and "Wake County" in form.text
    token = csrf_of(form.text)
    with fresh_site.engine.connect() as conn:
        before = [(p.effective_from, p.effective_to, p.stance) for p in timeline(conn, WAKE)]
    assert before[-1] == (date(2018, 12, 3), None, "declines")

    response = admin.post(f"/admin/policies/{WAKE}", data={
        "csrf_token": token, "effective_from": "2020-03-01", "stance": "limited",
        "criteria": "Only for people charged with a violent felony", "citation": "General Order 2020-01"},
        follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/admin/policies/{WAKE}?added=2020-03-01"
    page = admin.get(response.headers["location"]).text
    assert shown(page, "notice") == ["The policy from 2020-03-01 was added to the timeline."]
    assert "General Order 2020-01" in page
    with fresh_site.engine.connect() as conn:
        after = timeline(conn, WAKE)
        web_source = conn.execute(select(sources).where(sources.c.kind == "web-edit")).one()
        in_force = {r.jurisdiction_id: r.stance for r in jurisdictions_on(conn, date(2020, 6, 1))}
        listed = source_list(conn)
    assert [(p.effective_from, p.effective_to, p.stance) for p in after] == [
        *before[:-1], (date(2018, 12, 3), date(2020, 3, 1), "declines"), (date(2020, 3, 1), None, "limited")]
    new, closed = after[-1], after[-2]
    assert (new.criteria, new.citation, new.origin, new.source_id, new.source_row) == (
        "Only for people charged with a violent felony", "General Order 2020-01", "package",
        web_source.source_id, 1)
    assert new.row_hash and closed.source_id == web_source.source_id and closed.row_hash
    assert json.loads(web_source.notes)[1] == "The policy from 2018-12-03 now ends on 2020-03-01."
    assert in_force[WAKE] == "limited"
    assert any(s["kind"] == "web-edit" and s["source_id"] == web_source.source_id for s in listed)
    (actor, detail), = entries(fresh_site, "policy.edit")
    assert actor == "web:admin"
    assert {k: detail[k] for k in ("jurisdiction_id", "effective_from", "stance", "by")} == {
        "jurisdiction_id": WAKE, "effective_from": "2020-03-01", "stance": "limited", "by": "web:admin"}
    # The export carries it as a user's policy, so the package imports back to the same timeline.
    export_package(fresh_site.engine, tmp_path / "export", actor="test")
    with (tmp_path / "export" / "policies.csv").open() as handle:
        exported = [r for r in csv.DictReader(handle) if r["jurisdiction_id"] == WAKE]
    assert [(r["effective_from"], r["effective_to"], r["stance"]) for r in exported][-2:] == [
        ("2018-12-03", "2020-03-01", "declines"), ("2020-03-01", "", "limited")]

    response = admin.post(f"/admin/policies/{WAKE}", data={"csrf_token": token, "effective_from": "2020-03-01",
                                                           "stance": "declines"})
    assert response.status_code == 422
    assert shown(response.text, "error") == [
        "Not added: effective from 2020-03-01: nc-wake already has a policy starting that day (limited). "
        "Pick another day; a policy is changed by adding the next period."]
    for bad, message in (({"effective_from": "2020-02-30", "stance": "declines"}, "is not a date"),
                         ({"effective_from": "2021-01-01", "stance": "ignores"}, "expected one of declines")):
        response = admin.post(f"/admin/policies/{WAKE}", data={"csrf_token": token, **bad})
        assert response.status_code == 422 and message in response.text
    assert len(entries(fresh_site, "policy.edit")) == 1
    assert admin.get("/admin/policies/xx-nowhere").status_code == 404


def test_a_users_policy_wins_over_one_derived_from_287g_lists(fresh_site, tmp_path):
    import_package(fresh_site.engine, write_package(tmp_path / "gaston", {"jurisdictions.csv": [
        {"jurisdiction_id": "nc-gaston", "name": "Gaston County", "state": "NC", "kind": "county",
         "fips": "37071"}]}))
    ingest(fresh_site.engine, "287g-roster", DATA / "287g-participating-2021-layout.xlsx",
           IngestOptions(as_of=datetime(2021, 6, 1)))
    with fresh_site.engine.connect() as conn:
        derived, = timeline(conn, "nc-gaston")
    assert (derived.origin, derived.stance) == ("287g-roster", "honors")
    admin = signed_in(fresh_site, "admin")
    token = csrf_of(admin.get("/admin/policies/nc-gaston").text)
    day = derived.effective_from.isoformat()  # the same first day as the derived policy: the user's wins
    response = admin.post("/admin/policies/nc-gaston", data={"csrf_token": token, "effective_from": day,
                                                             "stance": "declines", "citation": "Sheriff's memo"})
    assert response.status_code == 200 and "was added to the timeline" in response.text
    with fresh_site.engine.connect() as conn:
        periods = [(p.effective_from, p.effective_to, p.stance, p.origin) for p in timeline(conn, "nc-gaston")]
        derived_left = conn.execute(select(func.count()).select_from(policies).where(
            policies.c.origin == "287g-roster")).scalar_one()
    assert periods == [(derived.effective_from, None, "declines", "package")]
    assert derived_left == 0  # re-derived around the user's policy, which covers the whole span


def test_only_admins_reach_the_admin_pages(fresh_site):
    with fresh_site.engine.connect() as conn:
        policies_before = conn.execute(select(func.count()).select_from(policies)).scalar_one()
    for role in ("viewer", "analyst"):
        client = signed_in(fresh_site, role)
        token = csrf_of(client.get("/login").text)
        for path in ("/admin/users", "/admin/audit", f"/admin/policies/{WAKE}"):
            response = client.get(path)
            assert response.status_code == 403 and "This needs the admin role" in response.text, (role, path)
        posts = [("/admin/users", {"username": "sneaky", "role": "admin", "password": PASSWORD,
                                   "password_again": PASSWORD}),
                 (f"/admin/users/{role}/role", {"role": "admin"}),
                 ("/admin/users/admin/disable", {}), ("/admin/users/admin/enable", {}),
                 ("/admin/users/admin/password", {"password": PASSWORD, "password_again": PASSWORD}),
                 (f"/admin/policies/{WAKE}", {"effective_from": "2021-01-01", "stance": "honors"})]
        for path, data in posts:
            response = client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)
            assert response.status_code == 403, (role, path)
        assert role_now(client) == role
    anonymous = signed_in(fresh_site, None)
    response = anonymous.get("/admin/users", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    admin = signed_in(fresh_site, "admin")
    response = admin.post("/admin/users", data={"username": "nocsrf", "role": "viewer", "password": PASSWORD,
                                                "password_again": PASSWORD})
    assert response.status_code == 403 and "CSRF" in response.text
    with fresh_site.engine.connect() as conn:
        assert {u.username for u in conn.execute(select(users.c.username))} == {"admin", "analyst", "viewer"}
        assert conn.execute(select(func.count()).select_from(policies)).scalar_one() == policies_before
        assert conn.execute(select(audit_log).where(audit_log.c.action.like("user-%"),
                                                    audit_log.c.actor.like("web:%"))).first() is None
