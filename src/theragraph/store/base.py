"""The Store protocol: everything above the store speaks SPARQL and named-graph writes only.

Semantics follow pyoxigraph: one ``replace_graphs`` call is one transaction, so a crash leaves
every named graph either as it was or fully replaced.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Protocol, runtime_checkable

from pyoxigraph import RdfFormat, Triple, parse


@dataclass(slots=True)
class GraphWrite:
    """The full new content of one named graph (the unit of identity: one source record).

    The content is ``triples`` plus ``ntriples``: triples already serialised as N-Triples (a
    graph mapped in a worker process arrives so; a store that writes text uses the bytes as they
    are, instead of parsing them into Python terms and serialising them again). ``ntriples`` must
    come from pyoxigraph's serialiser or from checked terms: it is read without IRI checks.
    """

    graph: str
    triples: list[Triple] = field(default_factory=list)
    ntriples: bytes = b""

    def size(self) -> int:
        """Return the number of triples (one N-Triples statement per line)."""
        return len(self.triples) + self.ntriples.count(b"\n")

    def expanded(self) -> GraphWrite:
        """Return the write with all its content as ``triples``."""
        if not self.ntriples:
            return self
        parsed = [q.triple for q in parse(self.ntriples, format=RdfFormat.N_TRIPLES, lenient=True)]
        return GraphWrite(self.graph, self.triples + parsed)


@runtime_checkable
class Store(Protocol):
    """A quad store that Theragraph reads and writes.

    A store may also say, as ``concurrent_writes`` (an int), how many :meth:`replace_graphs`
    calls on disjoint graphs it runs usefully side by side; the ingest writes with that many
    threads (one where it says nothing).
    """

    def replace_graphs(self, writes: Sequence[GraphWrite]) -> int:
        """Replace each named graph by its new triples, all in one transaction.

        Returns:
            The number of quads written.
        """
        ...

    def delete_graphs(self, graphs: Iterable[str]) -> None:
        """Delete named graphs (missing ones are ignored), in one transaction."""
        ...

    def query(
        self,
        sparql: str,
        *,
        default_graph: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        substitutions: dict[str, Any] | None = None,
        union_default_graph: bool = True,
    ) -> Any:
        """Run a SPARQL query; results are pyoxigraph QuerySolutions, QueryBoolean or QueryTriples.

        By default the default graph is the union of all named graphs (every source record), which
        is what a researcher expects; ``default_graph`` restricts it to the listed graphs.
        """
        ...

    def update(self, sparql: str) -> None:
        """Run a SPARQL 1.1 Update in one transaction."""
        ...

    def named_graphs(self) -> list[str]:
        """Return the IRIs of all named graphs."""
        ...

    def graph_exists(self, graph: str) -> bool:
        """Return True when the named graph holds at least one quad."""
        ...

    def existing_graphs(self, graphs: Iterable[str]) -> set[str]:
        """Return those of ``graphs`` that hold at least one quad (a store may return a superset)."""
        ...

    def count_quads(self) -> int:
        """Return the number of quads in the store."""
        ...

    def dump(self, output: IO[bytes], *, format: str = "nq") -> None:
        """Write every quad to ``output`` as N-Quads (``nq``) or TriG (``trig``)."""
        ...

    def quads(self, graph: str | None = None) -> Iterator[Any]:
        """Iterate over quads, optionally of one named graph only."""
        ...

    def close(self) -> None:
        """Flush and release the store."""
        ...
