"""Jinja2 pages: every page gets the visitor, a CSRF token and the SYNTHETIC banner when it applies."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import exists, select

from detainers import __version__
from detainers.analytics.provenance import SYNTHETIC_LABEL
from detainers.store.schema import sources

env = Environment(loader=PackageLoader("detainers.web", "templates"), autoescape=select_autoescape(default=True),
                  trim_blocks=True, lstrip_blocks=True)


def _thousands(value) -> str:
    return f"{value:,}" if isinstance(value, int) else ("—" if value is None else str(value))


env.filters["n"] = _thousands


def synthetic_loaded(conn) -> bool:
    return bool(conn.execute(select(exists().where(sources.c.synthetic.is_(True)))).scalar())


def page(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    """Render a page template with the shared context."""
    p = request.state.principal
    synthetic = context.pop("synthetic", None)
    if synthetic is None:
        with request.app.state.engine.connect() as conn:
            synthetic = synthetic_loaded(conn)
    html = env.get_template(template).render(
        request=request, principal=p, csrf_token=request.app.state.signer.csrf(p.sid),
        synthetic=synthetic, synthetic_label=SYNTHETIC_LABEL, version=__version__,
        anonymous_allowed=request.app.state.settings.anonymous != "off", **context)
    return HTMLResponse(html, status_code=status_code)
