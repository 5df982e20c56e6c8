"""The pure parts of RemoteStore: query form detection, FROM removal and Virtuoso's write splitting."""

import pyoxigraph as ox
import pytest

from theragraph.errors import QueryError
from theragraph.store.base import GraphWrite
from theragraph.store.remote import (
    VIRTUOSO_DATA_CHUNK,
    VIRTUOSO_TEMPLATE_CHUNK,
    RemoteStore,
    query_form,
    without_dataset_clauses,
)

EX = "http://example.org/"


@pytest.mark.parametrize(("text", "form"), [
    ("SELECT * WHERE {}", "SELECT"),
    ("PREFIX ex: <http://x.org/a#b> # a comment with SELECT\n ask {}", "ASK"),
    ("BASE <a#> PREFIX : <b> construct where {}", "CONSTRUCT"),
    ('DEFINE input:inference "r" DEFINE sql:log-enable 10 describe <a>', "DESCRIBE"),
    ("prefix x:<http://a>select*{}", "SELECT"),
    ("# SELECT\nINSERT DATA {}", None),
    ("", None),
])
def test_query_form_skips_the_prologue(text: str, form: str | None) -> None:
    assert query_form(text) == form


def _node(i: int) -> ox.NamedNode:
    return ox.NamedNode(f"{EX}n{i}")


def test_virtuoso_inserts_split_plain_triples_and_keep_blank_components_whole() -> None:
    p = ox.NamedNode(f"{EX}p")
    plain = [ox.Triple(_node(i), p, ox.Literal(str(i))) for i in range(VIRTUOSO_DATA_CHUNK + 1)]
    chains = []
    for i in range(VIRTUOSO_TEMPLATE_CHUNK):  # 2 triples per component: 2 templates in all
        a, b = ox.BlankNode(), ox.BlankNode()
        chains += [ox.Triple(_node(i), p, a), ox.Triple(a, p, b)]
    ops = RemoteStore._virtuoso_inserts([GraphWrite(f"{EX}g", plain + chains)])
    data = [op for op in ops if op.startswith("INSERT DATA")]
    templates = [op for op in ops if op.endswith("WHERE {}")]
    assert len(data) == 2 and len(templates) == 2 and "_:" not in "".join(data)
    homes: dict[str, set[int]] = {}
    for index, template in enumerate(templates):
        for label in (t for t in template.split() if t.startswith("_:")):
            homes.setdefault(label, set()).add(index)
    assert len(homes) == 2 * VIRTUOSO_TEMPLATE_CHUNK
    assert all(len(home) == 1 for home in homes.values())  # a label never spans templates


@pytest.mark.parametrize(("text", "kept"), [
    ("SELECT * FROM <http://a/b> WHERE { ?s ?p ?o }", "SELECT *  WHERE { ?s ?p ?o }"),
    ("PREFIX ex: <http://e/> SELECT ?from FROM NAMED ex:g from ex:h WHERE { ?s ex:from ?from }",
     "PREFIX ex: <http://e/> SELECT ?from   WHERE { ?s ex:from ?from }"),
    ("SELECT * # FROM <c>\nFROM\n NAMED\n<http://x> WHERE {}", "SELECT * # FROM <c>\n WHERE {}"),
    ("SELECT * WHERE { ?s ?p '''a\nFROM <y> ''' . ?s ?p \"b\\\" FROM <z>\" FILTER(?a < ?b) }",
     "SELECT * WHERE { ?s ?p '''a\nFROM <y> ''' . ?s ?p \"b\\\" FROM <z>\" FILTER(?a < ?b) }"),
])
def test_dataset_clauses_are_removed_outside_strings_and_comments(text: str, kept: str) -> None:
    assert without_dataset_clauses(text) == kept


def test_a_from_that_cannot_be_removed_fails_closed() -> None:
    with pytest.raises(QueryError):
        without_dataset_clauses("SELECT * FROM:g WHERE {}")
