"""Who is asking, and what they may see: the dependencies every route uses.

A route never decides the audience itself: it asks for a `Principal`, whose
`audience` is `public` for viewers and anonymous visitors and `restricted` only
for analysts and admins. Analytics and report builders take that audience, so
identity fields are left out by the queries, not hidden by the templates.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request

from detainers.accounts import User
from detainers.web.security import CSRF_FIELD, CSRF_HEADER


@dataclass(frozen=True)
class Principal:
    user: User | None
    sid: str
    address: str

    @property
    def role(self) -> str:
        return self.user.role if self.user else "anonymous"

    @property
    def audience(self) -> str:
        return self.user.audience if self.user else "public"

    @property
    def restricted(self) -> bool:
        return self.audience == "restricted"

    @property
    def actor(self) -> str:
        return f"web:{self.user.username}" if self.user else "web:anonymous"

    def may(self, *roles: str) -> bool:
        return self.user is not None and self.user.role in roles


class NotSignedIn(Exception):
    """The route needs a signed-in user (pages redirect to the sign-in form; the API answers 401)."""


class Forbidden(Exception):
    """The signed-in user's role may not do this (403)."""

    def __init__(self, message: str = "Your role may not do this.") -> None:
        super().__init__(message)
        self.message = message


class CsrfFailed(Exception):
    """A state-changing request without the form's token (403)."""


def principal(request: Request) -> Principal:
    """The visitor; anonymous ones only where the installation allows them."""
    p: Principal = request.state.principal
    if p.user is None and request.app.state.settings.anonymous == "off":
        raise NotSignedIn()
    return p


def require(*roles: str):
    """A dependency: the visitor, who must be signed in with one of `roles`."""
    def dependency(p: Principal = Depends(principal)) -> Principal:
        if p.user is None:
            raise NotSignedIn()
        if p.user.role not in roles:
            raise Forbidden(f"This needs the {' or '.join(roles)} role; you are signed in as {p.user.role}.")
        return p
    return dependency


async def csrf_checked(request: Request) -> None:
    """A dependency for every state-changing route: the token from the form field or the header."""
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            # Starlette's own limits (1 MB a field, 1,000 fields): forms here are small; uploads
            # parse their own stream with the upload limit and check the token there.
            form = await request.form()
            value = form.get(CSRF_FIELD)
            token = value if isinstance(value, str) else None
    if not request.app.state.signer.csrf_ok(request.state.principal.sid, token):
        raise CsrfFailed()


def engine(request: Request):
    return request.app.state.engine
