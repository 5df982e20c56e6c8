"""Standard clients against a real server: SPARQLWrapper, rdflib's SPARQLStore, and the README's
curl examples run as written."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, TURTLE, SPARQLWrapper

from tests.support.servers import RunningApi

from .conftest import KASEI

pytestmark = pytest.mark.integration
README = Path(__file__).resolve().parents[3] / "README.md"


def test_sparqlwrapper_select_ask_construct(api_server: RunningApi) -> None:
    sparql = SPARQLWrapper(f"{api_server.url}/sparql")
    sparql.addCustomHttpHeader("Authorization", f"Bearer {api_server.tokens['reader']}")
    sparql.setQuery(f"SELECT ?t WHERE {{ <{KASEI}data1.rdf> <http://purl.org/dc/terms/title> ?t }}")
    sparql.setReturnFormat(JSON)
    rows = sparql.queryAndConvert()["results"]["bindings"]
    assert [r["t"]["value"] for r in rows] == ["data 1"]
    sparql.setMethod("POST")
    sparql.setQuery("ASK { ?s ?p ?o }")
    assert sparql.queryAndConvert()["boolean"] is True
    sparql.setQuery("CONSTRUCT WHERE { ?s <http://purl.org/dc/terms/title> ?t }")
    sparql.setReturnFormat(TURTLE)
    graph = rdflib.Graph().parse(data=sparql.queryAndConvert(), format="turtle")
    assert len(graph) == 4


def test_rdflib_sparqlstore(api_server: RunningApi) -> None:
    store = SPARQLStore(f"{api_server.url}/sparql", headers=api_server.headers("reader"),
                        returnFormat="json")
    graph = rdflib.Graph(store=store)
    rows = list(graph.query(
        "SELECT ?s WHERE { ?s a <http://xmlns.com/foaf/0.1/Document> } ORDER BY ?s"))
    assert [str(r[0]) for r in rows] == [f"{KASEI}data{n}.rdf" for n in range(4)]
    assert (rdflib.URIRef(f"{KASEI}data2.rdf"), None, None) in graph


def readme_curl_commands() -> list[str]:
    text = README.read_text()
    section = text.split("## SPARQL service", 1)[1]
    return [line for line in section.splitlines() if line.startswith("curl ")]


def test_readme_curl_examples_work_as_written(api_server: RunningApi) -> None:
    commands = readme_curl_commands()
    assert len(commands) >= 6
    env = {**os.environ, "TOKEN": api_server.tokens["admin"]}
    for command in commands:
        command = command.replace("http://127.0.0.1:8000", api_server.url)
        done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, (command, done.stderr)
        if "DELETE" not in command and "update=" not in command:
            assert done.stdout.strip(), command
    assert not re.search(r"urn:example:notes", "".join(api_server.service.store.named_graphs()))
