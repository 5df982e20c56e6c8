"""Response models of the HTTP API (never internal objects as they are)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """Every error response."""

    detail: str
    code: str = Field(description="Stable error code, e.g. query.syntax")


class QueryParamDoc(BaseModel):
    """One parameter of a curated query."""

    name: str
    type: str
    optional: bool
    description: str


class CuratedQueryDoc(BaseModel):
    """A curated query with its documentation."""

    name: str
    title: str
    description: str
    form: str = Field(description="SELECT, ASK, CONSTRUCT or DESCRIBE")
    params: list[QueryParamDoc]
    sparql: str
    results_url: str


class CuratedQueryList(BaseModel):
    """All curated queries."""

    data: list[CuratedQueryDoc]
    count: int


class Health(BaseModel):
    """Liveness and store reachability."""

    status: str
    store: str


class Version(BaseModel):
    """Service version."""

    name: str = "theragraph"
    version: str
    sparql_endpoint: str = "/sparql"
    update_endpoint: str = "/update"
