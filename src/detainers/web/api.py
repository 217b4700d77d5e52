"""The JSON API under /api/v1/: the same analytics as the CLI, for the caller's audience."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from detainers.web.deps import Principal, principal

router = APIRouter(prefix="/api/v1", tags=["api"])


class Me(BaseModel):
    username: str | None
    role: str
    audience: str


@router.get("/me", response_model=Me, summary="Who the caller is, and which audience they get")
def me(p: Principal = Depends(principal)) -> Me:
    return Me(username=p.user.username if p.user else None, role=p.role, audience=p.audience)
