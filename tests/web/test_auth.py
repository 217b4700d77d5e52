"""Signing in and out: cookies, CSRF, fixation, rate limit, roles taking effect, headers, no stack traces."""

from __future__ import annotations

import json

from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from detainers import audit
from detainers.store.schema import audit_log, users, web_sessions
from detainers.web.app import create_app
from detainers.web.security import COOKIE
from detainers.web.settings import WebSettings
from tests.web.conftest import PASSWORD, csrf_of, sign_in, signed_in


def _entries(site, action):
    with site.engine.connect() as conn:
        return [(r.actor, json.loads(r.detail)) for r in
                conn.execute(select(audit_log).where(audit_log.c.action == action).order_by(audit_log.c.entry_id))]


def test_sign_in_sets_a_fresh_http_only_lax_cookie_and_is_audited(fresh_site):
    client = TestClient(fresh_site.app)
    client.get("/login")
    before = client.cookies.get(COOKIE)
    response = sign_in(client, "analyst")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    after = client.cookies.get(COOKIE)
    assert after and after != before  # session fixation: a new id on sign-in
    assert client.get("/api/v1/me").json() == {"username": "analyst", "role": "analyst", "audience": "restricted"}
    # The id a visitor had before signing in does not become a session.
    stale = TestClient(fresh_site.app, cookies={COOKIE: before})
    assert stale.get("/api/v1/me").json()["role"] == "anonymous"
    (actor, detail), = _entries(fresh_site, "sign-in")
    assert actor == "web:analyst" and detail["address"] == "testclient"


def test_secure_cookie_over_https_or_when_forced(fresh_site):
    client = TestClient(fresh_site.app, base_url="https://testserver")
    assert "Secure" in sign_in(client, "viewer").headers["set-cookie"]
    forced = create_app(WebSettings(db_url=fresh_site.url, secure_cookies=True))
    client = TestClient(forced)
    assert "Secure" in client.get("/login").headers["set-cookie"]
    forced.state.engine.dispose()


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(fresh_site):
    client = TestClient(fresh_site.app)
    wrong_password = sign_in(client, "analyst", "not the password at all")
    no_such_user = sign_in(client, "nobody-here", PASSWORD)
    assert wrong_password.status_code == no_such_user.status_code == 401
    message = "That user name and password do not match an account."
    assert message in wrong_password.text and message in no_such_user.text
    assert client.get("/api/v1/me").json()["role"] == "anonymous"
    assert [d["username"] for _, d in _entries(fresh_site, "sign-in-failed")] == ["analyst", "nobody-here"]


def test_forms_without_the_csrf_token_are_refused(fresh_site):
    client = TestClient(fresh_site.app)
    client.get("/login")
    for token in (None, "0" * 64):
        data = {"username": "analyst", "password": PASSWORD}
        if token:
            data["csrf_token"] = token
        response = client.post("/login", data=data, follow_redirects=False)
        assert response.status_code == 403 and "CSRF" in response.text
    assert client.get("/api/v1/me").json()["role"] == "anonymous"
    # A token from another visitor's page does not work either.
    other = TestClient(fresh_site.app)
    foreign = csrf_of(other.get("/login").text)
    response = client.post("/login", data={"username": "analyst", "password": PASSWORD, "csrf_token": foreign})
    assert response.status_code == 403
    signed = signed_in(fresh_site, "analyst")
    assert signed.post("/logout", follow_redirects=False).status_code == 403
    assert signed.get("/api/v1/me").json()["role"] == "analyst"


def test_sign_out_ends_the_session_for_every_copy_of_the_cookie(fresh_site):
    client = signed_in(fresh_site, "admin")
    copied = client.cookies.get(COOKIE)
    token = csrf_of(client.get("/login").text)
    assert client.get("/logout").status_code == 405  # never by a link
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/api/v1/me").json()["role"] == "anonymous"
    replay = TestClient(fresh_site.app, cookies={COOKIE: copied})
    assert replay.get("/api/v1/me").json()["role"] == "anonymous"
    with fresh_site.engine.connect() as conn:
        assert conn.execute(select(web_sessions)).all() == []
    assert _entries(fresh_site, "sign-out")[0][0] == "web:admin"


def test_sign_in_is_rate_limited_per_user_name(fresh_site):
    client = TestClient(fresh_site.app)
    for _ in range(5):
        assert sign_in(client, "viewer", "wrong password here").status_code == 401
    blocked = sign_in(client, "viewer", PASSWORD)  # even the right password, for now
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in blocked.text
    # Another account is not locked by someone guessing at this one.
    assert sign_in(TestClient(fresh_site.app), "analyst").status_code == 303
    # The window passes: age the failures and the right password works again.
    with fresh_site.engine.begin() as conn:
        conn.execute(text("UPDATE login_failures SET at = at - INTERVAL '1 hour'") if fresh_site.backend ==
                     "postgresql" else text("UPDATE login_failures SET at = datetime(at, '-1 hour')"))
    assert sign_in(client, "viewer", PASSWORD).status_code == 303
    # Refusals are not audited one by one (a flood must not flood the chain); the five failures are.
    assert _entries(fresh_site, "sign-in-refused") == []
    assert len(_entries(fresh_site, "sign-in-failed")) == 5


def test_guesses_sent_at_once_are_counted_while_they_are_checked(fresh_site):
    from concurrent.futures import ThreadPoolExecutor

    def guess(i):
        client = TestClient(fresh_site.app)
        return sign_in(client, "viewer", f"wrong guess number {i}").status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(guess, range(16)))
    # At most a few over the limit of 5 get through while others are being counted; the rest are refused.
    assert statuses.count(401) <= 8 and statuses.count(429) >= 8, statuses
    assert sign_in(TestClient(fresh_site.app), "viewer").status_code == 429


def test_role_changes_and_disabling_take_effect_on_the_next_request(fresh_site):
    from detainers import accounts

    client = signed_in(fresh_site, "analyst")
    with fresh_site.engine.begin() as conn:
        accounts.set_role(conn, "analyst", "viewer", actor="test")
    assert client.get("/api/v1/me").json()["audience"] == "public"
    with fresh_site.engine.begin() as conn:
        accounts.set_disabled(conn, "analyst", actor="test")
    assert client.get("/api/v1/me").json()["role"] == "anonymous"
    assert sign_in(TestClient(fresh_site.app), "analyst").status_code == 401


def test_the_session_is_looked_up_off_the_event_loop(fresh_site, monkeypatch):
    """A request with a session cookie reads the session in a worker thread: a read that waits holds up
    that request, not the event loop and every request in flight."""
    import asyncio

    from detainers.web import app as web_app

    lookups = []
    real = web_app.session_user

    def spy(conn, sid):
        try:
            asyncio.get_running_loop()
            lookups.append("event loop")
        except RuntimeError:  # no loop runs in this thread
            lookups.append("worker thread")
        return real(conn, sid)

    monkeypatch.setattr(web_app, "session_user", spy)
    client = signed_in(fresh_site, "analyst")
    assert client.get("/api/v1/me").json()["role"] == "analyst"
    assert lookups and set(lookups) == {"worker thread"}


def test_a_visitor_who_never_signed_in_costs_no_session_lookup(fresh_site, monkeypatch):
    """Most of a public dashboard's requests come from visitors: their session id says it was never
    signed in, so no request of theirs reads the sessions table. Signing in gives an id that is looked
    up; signing out gives a visitor's id again."""
    from detainers.web import app as web_app

    lookups = []
    real = web_app.session_user
    monkeypatch.setattr(web_app, "session_user", lambda conn, sid: lookups.append(sid) or real(conn, sid))
    client = signed_in(fresh_site, None)
    for _ in range(3):
        assert client.get("/api/v1/me").json()["role"] == "anonymous"
    assert client.cookies.get(COOKIE) and lookups == []
    assert sign_in(client, "analyst").status_code == 303
    assert client.get("/api/v1/me").json()["role"] == "analyst"
    assert len(lookups) == 1 and not lookups[0].startswith("v.")
    token = csrf_of(client.get("/login").text)
    assert len(lookups) == 2
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert client.get("/api/v1/me").json()["role"] == "anonymous"
    assert len(lookups) == 3  # the sign-out request itself, and none after it
    # A visitor's id cannot name a stored session: ids made at sign-in never begin like one.
    from detainers.web.security import VISITOR, new_sid

    assert all(not new_sid().startswith(VISITOR) for _ in range(1000))


def test_a_tampered_cookie_is_an_anonymous_visitor(site):
    client = TestClient(site.app, cookies={COOKIE: "forged.value"})
    response = client.get("/api/v1/me")
    assert response.json()["role"] == "anonymous"
    assert response.cookies.get(COOKIE) != "forged.value"


def test_next_only_leads_to_this_site(fresh_site):
    client = TestClient(fresh_site.app)
    for target, expected in (("//evil.example/x", "/"), ("https://evil.example/", "/"), ("/\\evil", "/"),
                             ("/sources?x=1", "/sources?x=1")):
        token = csrf_of(client.get("/login").text)
        response = client.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf_token": token,
                                               "next": target}, follow_redirects=False)
        assert response.headers["location"] == expected, target


def test_security_headers_on_pages_api_errors_and_static_files(site):
    client = TestClient(site.app)
    for path in ("/login", "/api/v1/me", "/no-such-page", "/api/v1/no-such", "/static/style.css"):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
    assert client.get("/api/v1/no-such").json() == {"error": "No API operation at this address (see /api/docs).",
                                                 "status": 404}
    assert "There is no page at this address." in client.get("/no-such-page").text
    assert "no-store" in client.get("/api/v1/me").headers["cache-control"]


def test_pages_never_carry_inline_scripts(site):
    import re

    for role in (None, "viewer", "analyst", "admin"):
        html = signed_in(site, role).get("/login").text
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, tag
        assert not re.search(r"\son[a-z]+=", html)


def test_anonymous_access_can_be_switched_off(fresh_site):
    closed = create_app(WebSettings(db_url=fresh_site.url, anonymous="off"))
    client = TestClient(closed)
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").json()["error"].startswith("Sign in first")
    assert client.get("/login").status_code == 200
    assert sign_in(client, "viewer").status_code == 303
    assert client.get("/api/v1/me").json()["role"] == "viewer"
    closed.state.engine.dispose()


def test_a_bug_shows_a_reference_not_a_stack_trace(fresh_site):
    router = APIRouter()

    @router.get("/api/v1/boom-for-test")
    def boom():
        raise RuntimeError("secret internals /etc/passwd")

    @router.get("/boom-for-test")
    def boom_page():
        raise RuntimeError("secret internals /etc/passwd")

    fresh_site.app.include_router(router)
    client = TestClient(fresh_site.app, raise_server_exceptions=False)
    for path in ("/api/v1/boom-for-test", "/boom-for-test"):
        response = client.get(path)
        assert response.status_code == 500
        assert "secret internals" not in response.text and "Traceback" not in response.text
        assert "reference" in response.text
        assert response.headers["x-content-type-options"] == "nosniff"


def test_the_audit_chain_holds_over_web_activity_and_shows_tampering(fresh_site):
    client = signed_in(fresh_site, "analyst")
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/login").text)})
    sign_in(TestClient(fresh_site.app), "viewer", "wrong password here")
    with fresh_site.engine.connect() as conn:
        assert audit.verify(conn) == []
        first_sign_in = conn.execute(select(audit_log.c.entry_id).where(audit_log.c.action == "sign-in")).scalar()
    with fresh_site.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.entry_id == first_sign_in).values(actor="web:someone-else"))
    with fresh_site.engine.connect() as conn:
        problems = audit.verify(conn)
    assert problems and f"entry {first_sign_in}" in problems[0]


def test_passwords_are_stored_as_argon2_hashes(site):
    with site.engine.connect() as conn:
        hashes = conn.execute(select(users.c.password_hash)).scalars().all()
    assert hashes and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)
