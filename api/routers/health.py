"""``/health`` and ``/version``: public, no token needed."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ServiceDep
from api.schemas import Health, Version
from theragraph import __version__

router = APIRouter(tags=["health"])


@router.get("/health", operation_id="health", response_model=Health,
            responses={503: {"model": Health}})
async def health(service: ServiceDep) -> JSONResponse:
    """Report whether the service can reach its store."""
    try:
        await asyncio.wait_for(asyncio.to_thread(lambda: bool(service.store.query("ASK {}"))), 5)
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        return JSONResponse(Health(status="unavailable", store="unreachable").model_dump(), 503)
    return JSONResponse(Health(status="ok", store="reachable").model_dump())


@router.get("/version", operation_id="version", response_model=Version)
def version() -> Version:
    """Return the service version and endpoint paths."""
    return Version(version=__version__)
