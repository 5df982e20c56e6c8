"""``/``: the YASGUI query page (assets served from ``api/static``, no CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"

router = APIRouter(tags=["ui"])


@router.get("/", operation_id="ui_index", include_in_schema=False)
def index() -> FileResponse:
    """Serve the query page."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")
