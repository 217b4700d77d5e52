"""Server-rendered pages over the same analytics as the CLI and the API."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from detainers.web.deps import Principal, principal
from detainers.web.templating import page

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, p: Principal = Depends(principal)):
    return page(request, "error.html", title="detainers", message="The map comes here.", nav="map")
