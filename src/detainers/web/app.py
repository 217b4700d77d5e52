"""The web process: pages and the JSON API over the same analytics as the CLI.

`create_app(settings)` builds the ASGI app; `detainers serve` runs it with uvicorn.
"""

from __future__ import annotations

import logging
import secrets
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from detainers import __version__, audit
from detainers.errors import InputError, StoreError
from detainers.privacy import installation_secret
from detainers.store.db import open_store
from detainers.web.deps import CsrfFailed, Forbidden, NotSignedIn, Principal, principal
from detainers.web.security import COOKIE, SECURITY_HEADERS, Signer, is_visitor, session_user, visitor_sid
from detainers.web.settings import WebSettings
from detainers.web.templating import page

log = logging.getLogger("detainers.web")
STATIC = Path(__file__).parent / "static"

API_DESCRIPTION = """\
Detainer records and jurisdiction-cooperation reports, over the same analytics as the
`detainers` command line. Every answer is for the caller's audience: viewers and anonymous
callers get the public audience (no names or dates of birth, pseudonymous person keys, small
counts suppressed in reports); analysts and admins get the restricted audience, and every
response carrying identity fields is written to the audit log. Sign in through `/login`
(the session cookie is sent with API calls). Errors are JSON: `{"error": "...", "status": N}`.
"""


def create_app(settings: WebSettings) -> FastAPI:
    engine = open_store(settings.db_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)
    with engine.begin() as conn:
        secret = installation_secret(conn, "web_session_secret")
        # The person-key secret too, now: public pages read without a write transaction, so one
        # made on first use there would not be kept (docs/architecture.md, "Concurrency").
        installation_secret(conn)
    @asynccontextmanager
    async def lifespan(application: FastAPI):
        yield
        # Stopping: let a running ingest finish its transaction, then close the pool.
        jobs = getattr(application.state, "upload_jobs", None)
        if jobs is not None:
            jobs.shutdown()
        engine.dispose()

    app = FastAPI(title="detainers", version=__version__, description=API_DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.state.engine = engine
    app.state.settings = settings
    app.state.signer = Signer(secret)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def session_and_headers(request: Request, call_next):
        signer: Signer = app.state.signer
        sid = signer.read(request.cookies.get(COOKIE))
        fresh = sid is None
        if fresh:
            sid = visitor_sid()
        # A visitor's id was never signed in: nothing to look up (most of a public dashboard's requests).
        # Else looked up in a worker thread, as the sync routes run: on the event loop, a read that
        # waits (for the pool, the server, the disk) would hold up every request in flight.
        user = None if is_visitor(sid) else await run_in_threadpool(_signed_in, engine, sid)
        address = request.client.host if request.client else "unknown"
        request.state.principal = Principal(user, sid, address)
        request.state.set_sid = None  # a route that signs in or out puts the new id here
        try:
            # Audit entries made while answering (report builders, ingests) name the web user and address.
            with audit.acting_as(request.state.principal.actor, address):
                response = await call_next(request)
        except Exception as exc:  # no stack trace reaches the visitor; the log keeps it
            response = internal_error(request, exc)
        new = request.state.set_sid or (sid if fresh else None)
        if new:
            response.set_cookie(COOKIE, signer.cookie(new), httponly=True, samesite="lax", path="/",
                                secure=settings.secure_cookies or request.url.scheme == "https")
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/api/") or request.state.principal.restricted:
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    _error_handlers(app)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return RedirectResponse("/static/favicon.svg", status_code=301)

    @app.get("/api/docs", include_in_schema=False)
    def api_docs(request: Request, p: Principal = Depends(principal)):
        """Swagger UI, vendored (no CDN), started by a static script."""
        return page(request, "api_docs.html", title="API")

    @app.get("/api/v1/openapi.json", include_in_schema=False)
    def openapi_document(p: Principal = Depends(principal)):
        """The OpenAPI document (behind sign-in too when anonymous access is off)."""
        return JSONResponse(app.openapi())

    from detainers.web import admin, api, auth, pages, reports, upload

    for module in (auth, api, pages, reports, admin, upload):
        app.include_router(module.router)
    return app


def app_from_environment() -> FastAPI:
    """The app as each process of `detainers serve --workers N` builds it: the database from
    DETAINERS_DB, the rest from the variables `web.settings.from_environment` reads (the serve
    command sets them from its flags before it starts the processes)."""
    from detainers.config import database_url
    from detainers.web.settings import from_environment

    return create_app(from_environment(database_url(None)))


def _signed_in(engine, sid: str):
    """The user signed in under session id `sid`, if any (a read of its own)."""
    with engine.connect() as conn:
        return session_user(conn, sid)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _json_error(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": message, "status": status, **extra}, status_code=status)


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn):
        if _wants_json(request):
            return _json_error(401, "Sign in first (POST /login): this needs a signed-in user.")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden):
        if _wants_json(request):
            return _json_error(403, exc.message)
        return page(request, "error.html", status_code=403, title="Not allowed", message=exc.message)

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed):
        message = ("The form had expired or did not come from this site (missing or wrong CSRF token). "
                   "Go back, reload the page and try again.")
        if _wants_json(request):
            return _json_error(403, message)
        return page(request, "error.html", status_code=403, title="Form expired", message=message)

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError):
        if _wants_json(request):
            return _json_error(422, exc.message())
        return page(request, "error.html", status_code=422, title="Cannot do that", message=exc.message())

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError):
        if _wants_json(request):
            return _json_error(503, str(exc))
        return page(request, "error.html", status_code=503, title="Database unavailable", message=str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        problems = []
        for e in exc.errors():
            where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "path", "body"))
            problems.append(f"{where}: {e.get('msg', 'invalid')}" if where else e.get("msg", "invalid"))
        message = "; ".join(problems) or "invalid request"
        if _wants_json(request):
            return _json_error(422, message, problems=problems)
        return page(request, "error.html", status_code=422, title="Cannot read that request", message=message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404 and message == "Not Found":
            message = ("No API operation at this address (see /api/docs)." if _wants_json(request)
                       else "There is no page at this address.")
        if _wants_json(request):
            response = _json_error(exc.status_code, message)
        else:
            response = page(request, "error.html", status_code=exc.status_code,
                            title={404: "Not found", 405: "Not allowed", 413: "Too large",
                                   429: "Too many attempts"}.get(exc.status_code, "Error"), message=message)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response


def internal_error(request: Request, exc: Exception):
    ref = secrets.token_hex(4)
    log.error("internal error %s on %s %s", ref, request.method, request.url.path, exc_info=exc)
    message = f"Something went wrong on our side (reference {ref}). It has been logged."
    if _wants_json(request):
        return _json_error(500, message)
    try:
        return page(request, "error.html", status_code=500, title="Internal error", message=message)
    except Exception:  # the page itself cannot be drawn (say, the database is gone)
        from fastapi.responses import PlainTextResponse

        return PlainTextResponse(message, status_code=500)
