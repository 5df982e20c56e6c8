"""Settings of the HTTP service: the shared :class:`Settings` plus limits and access options."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from theragraph.config import Settings


class ApiSettings(Settings):
    """Service configuration, read from ``THERAGRAPH_*`` environment variables."""

    read_only: bool = Field(
        default=False, description="Open the embedded store read-only (several workers)"
    )
    token_file: Path | None = Field(
        default=None, description="Token file; default: theragraph-tokens.json in the store dir"
    )
    anonymous_scopes: str = Field(
        default="", description="Scopes of requests without a token, e.g. 'read'; empty: refuse"
    )
    anonymous_datasets: str = Field(
        default="", description="Graph IRI prefixes anonymous users may read; empty: all"
    )
    query_timeout_s: float = Field(default=30.0, gt=0, description="Per-query time limit")
    max_result_bytes: int = Field(
        default=256 * 1024 * 1024, gt=0, description="Cap on one serialised query result"
    )
    max_request_bytes: int = Field(
        default=8 * 1024 * 1024, gt=0, description="Cap on request bodies (queries, graphs)"
    )
    max_concurrent_queries: int = Field(default=4, gt=0, description="Query slots")
    queue_wait_s: float = Field(default=2.0, ge=0, description="Wait for a free slot, then 503")
    allow_service: bool = Field(
        default=False, description="Let admins use SERVICE (outbound HTTP); readers never can"
    )
    access_log: Path | None = Field(
        default=None, description="Write the JSON-lines access log here (default: stderr)"
    )
    queries_dir: Path | None = Field(
        default=None, description="Curated queries directory (default: the project's queries/)"
    )
