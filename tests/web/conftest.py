"""Web fixtures: the demo data behind a real app, on every backend, with one account per role.

`site` is shared by the tests of a session and must not be changed by them (it is
read-only by convention: tests that sign up, upload or edit use `fresh_site`).
`signed_in(site, role)` returns a TestClient that has signed in through the real form.
"""

from __future__ import annotations

import re
import shutil
import uuid
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text

from detainers import accounts
from detainers.datapackage.importer import import_package
from detainers.demo import write_demo_package
from detainers.store.db import open_store
from detainers.store.schema import person_identities
from detainers.web.app import create_app
from detainers.web.settings import WebSettings
from tests.conftest import BACKENDS, PG_ADMIN_URL

PASSWORD = "correct horse battery staple"
ROLES = ("admin", "analyst", "viewer")


@dataclass
class Site:
    url: str
    app: object
    engine: object
    backend: str

    def identities(self) -> list[tuple[str, str | None]]:
        """Every name and date of birth in the database (what must never reach the public)."""
        with self.engine.connect() as conn:
            return [(r.name, r.date_of_birth.isoformat() if r.date_of_birth else None)
                    for r in conn.execute(select(person_identities.c.name, person_identities.c.date_of_birth))]


class IdentityFinder:
    """Finds any seeded name or date of birth (or, given them, raw person, booking and detainer ids)
    in a text, in time linear in the text."""

    WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
    DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
    US_DAY = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")

    TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")

    def __init__(self, identities, raw_ids=()) -> None:
        self.names = {" ".join(n.split()) for n, _ in identities if n}
        self.days = {d for _, d in identities if d}
        self.ids = set(raw_ids)
        self.widest = max(len(n.split()) for n in self.names)

    def __call__(self, text: str) -> set[str]:
        words = self.WORD.findall(text)
        found = {d for d in self.DAY.findall(text) if d in self.days}
        found |= {f"{y}-{int(m):02d}-{int(d):02d}" for m, d, y in self.US_DAY.findall(text)} & self.days
        found |= set(self.TOKEN.findall(text)) & self.ids
        for width in range(2, self.widest + 1):
            found |= {" ".join(words[i:i + width]) for i in range(len(words) - width + 1)} & self.names
        return found


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                       "next": "/"}, follow_redirects=False)


def signed_in(site: Site, role: str | None) -> TestClient:
    """A client for a role (None: anonymous). Each role's account is called by its role's name."""
    client = TestClient(site.app, raise_server_exceptions=False)
    if role is not None:
        response = sign_in(client, role)
        assert response.status_code == 303, response.text
    return client


def _populate(url: str, tmp_path) -> None:
    engine = open_store(url)
    write_demo_package(tmp_path / "demo")
    import_package(engine, tmp_path / "demo")
    with engine.begin() as conn:
        for role in ROLES:
            accounts.add(conn, role, PASSWORD, role, actor="test")
    engine.dispose()


def _pg_database(template: str | None = None):
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"detainers_web_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    return admin, name, PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop(admin, name) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def populated(tmp_path_factory):
    """One populated database per backend, made once; sites are copies of it."""
    made: dict[str, tuple] = {}

    def get(backend: str):
        if backend not in made:
            where = tmp_path_factory.mktemp(f"web-template-{backend}")
            if backend == "sqlite":
                path = where / "template.db"
                _populate(f"sqlite:///{path}", where)
                made[backend] = (path, None)
            else:
                admin, name, url = _pg_database()
                _populate(url, where)
                made[backend] = (name, admin)
        return made[backend]

    yield get
    for backend, (name, admin) in made.items():
        if admin is not None:
            _drop(admin, name)


def make_site(backend: str, tmp_path, populated, settings: dict | None = None):
    template, _ = populated(backend)
    admin = name = None
    if backend == "sqlite":
        path = tmp_path / "web.db"
        shutil.copy(template, path)
        url = f"sqlite:///{path}"
    else:
        admin, name, url = _pg_database(template)
    app = create_app(WebSettings(db_url=url, **(settings or {})))
    site = Site(url, app, app.state.engine, backend)

    def close():
        jobs = getattr(app.state, "upload_jobs", None)
        if jobs is not None:  # as the app's lifespan does when the server stops
            jobs.shutdown()
        site.engine.dispose()
        if admin is not None:
            _drop(admin, name)
    return site, close


@pytest.fixture(scope="session", params=BACKENDS)
def site(request, tmp_path_factory, populated):
    """The demo data and three accounts, shared read-only by the session's web tests."""
    built, close = make_site(request.param, tmp_path_factory.mktemp(f"web-{request.param}"), populated)
    yield built
    close()


@pytest.fixture(params=BACKENDS)
def fresh_site(request, tmp_path, populated):
    """Like `site`, but the test's own: it may sign in wrongly, upload, change roles."""
    built, close = make_site(request.param, tmp_path, populated)
    yield built
    close()
