"""Decide the RDF dataset a query runs against: protocol graphs, FROM clauses and grants.

SPARQL 1.1 Protocol §2.1.4: ``default-graph-uri`` / ``named-graph-uri`` replace any ``FROM`` /
``FROM NAMED`` of the query; when either is given the dataset is exactly those graphs. Without
any, the default graph is the union of all named graphs. A restricted principal's dataset is
always passed explicitly and intersected with its grants, so ``GRAPH``, ``FROM`` and
``FROM NAMED`` can only narrow what it sees, never widen it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from theragraph.auth import Principal


@dataclass(frozen=True, slots=True)
class QueryDataset:
    """Graphs to pass to ``Store.query``; None means the store's default behaviour."""

    default_graph: list[str] | None = None
    named_graphs: list[str] | None = None


def resolve_dataset(
    principal: Principal,
    *,
    protocol_default: Sequence[str] = (),
    protocol_named: Sequence[str] = (),
    from_graphs: Sequence[str] = (),
    from_named: Sequence[str] = (),
    all_graphs: Callable[[], list[str]],
) -> QueryDataset:
    """Return the dataset for one query.

    Args:
        principal: who runs the query.
        protocol_default: ``default-graph-uri`` values of the request.
        protocol_named: ``named-graph-uri`` values of the request.
        from_graphs: ``FROM`` IRIs of the query text.
        from_named: ``FROM NAMED`` IRIs of the query text.
        all_graphs: returns every named graph of the store (called only when needed).
    """
    requested_default: list[str] | None = None
    requested_named: list[str] | None = None
    if protocol_default or protocol_named:
        requested_default, requested_named = list(protocol_default), list(protocol_named)
    elif from_graphs or from_named:
        requested_default, requested_named = list(from_graphs), list(from_named)
    if not principal.is_restricted:
        return QueryDataset(requested_default, requested_named)
    visible: list[str] | None = None
    if requested_default is None or requested_named is None:
        visible = principal.visible(all_graphs())
    default = (
        [g for g in requested_default if principal.may_see(g)]
        if requested_default is not None
        else visible
    )
    named = (
        [g for g in requested_named if principal.may_see(g)]
        if requested_named is not None
        else visible
    )
    return QueryDataset(default, named)
