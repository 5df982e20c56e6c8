"""Session fixtures: a Theragraph API on 127.0.0.1 with test data and tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from api.settings import ApiSettings
from theragraph.auth import TokenFile
from theragraph.store import GraphWrite

from tests.support.servers import RunningApi, start_api

KASEI = "http://kasei.us/2009/09/sparql/data/"
FOAF_DOC = ox.NamedNode("http://xmlns.com/foaf/0.1/Document")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
DC_TITLE = ox.NamedNode("http://purl.org/dc/terms/title")
TGG = "https://w3id.org/theragraph/graph/"
SITE_A = f"{TGG}site-a/"
SITE_B = f"{TGG}site-b/"
SECRET_B = "secret-of-site-b"
EX = "http://example.org/"


def _kasei_graphs() -> list[GraphWrite]:
    # The W3C protocol tests' data: each dataN.rdf graph describes itself as a foaf:Document.
    writes = []
    for n in range(4):
        iri = f"{KASEI}data{n}.rdf"
        writes.append(
            GraphWrite(
                iri,
                [
                    ox.Triple(ox.NamedNode(iri), RDF_TYPE, FOAF_DOC),
                    ox.Triple(ox.NamedNode(iri), DC_TITLE, ox.Literal(f"data {n}")),
                ],
            )
        )
    return writes


def _site_graphs() -> list[GraphWrite]:
    person = ox.NamedNode("https://w3id.org/theragraph/ontology#Patient")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    return [
        GraphWrite(
            f"{SITE_A}fhir/p1",
            [ox.Triple(ox.NamedNode(f"{EX}a/p1"), RDF_TYPE, person),
             ox.Triple(ox.NamedNode(f"{EX}a/p1"), label, ox.Literal("visible-of-site-a"))],
        ),
        GraphWrite(
            f"{SITE_B}fhir/p2",
            [ox.Triple(ox.NamedNode(f"{EX}b/p2"), RDF_TYPE, person),
             ox.Triple(ox.NamedNode(f"{EX}b/p2"), label, ox.Literal(SECRET_B))],
        ),
    ]


def load_test_data(store) -> None:  # noqa: ANN001 - any Store
    store.replace_graphs(_kasei_graphs() + _site_graphs())


@pytest.fixture(scope="session")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    """The main API server: embedded store with W3C protocol data and two sites."""
    base: Path = tmp_path_factory.mktemp("api")
    store_dir = base / "store"
    settings = ApiSettings(
        store=str(store_dir),
        query_timeout_s=20,
        access_log=base / "access.jsonl",
    )
    running = start_api(settings)
    load_test_data(running.service.store)
    tokens = TokenFile(store_dir / "theragraph-tokens.json")
    running.tokens = {
        "admin": tokens.add("admin", scopes="admin"),
        "reader": tokens.add("reader", scopes="read"),
        "site-a": tokens.add("site-a", scopes="read", datasets=[SITE_A]),
        "ingest": tokens.add("ingest-bot", scopes="ingest"),
    }
    running.access_log = base / "access.jsonl"  # type: ignore[attr-defined]
    yield running
    running.stop()
