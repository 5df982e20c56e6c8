from theragraph.query.text import add_using, scan


def test_from_clauses_and_prefixes():
    facts = scan("PREFIX g: <http://g/> SELECT * FROM <http://a> FROM g:b FROM NAMED <http://c> "
                 "FROM NAMED g:d WHERE { ?s ?p ?o }")
    assert facts.kind == "query" and facts.form == "SELECT"
    assert facts.from_graphs == ["http://a", "http://g/b"]
    assert facts.from_named == ["http://c", "http://g/d"]


def test_words_inside_strings_comments_and_iris_do_not_count():
    facts = scan('SELECT ?x WHERE { BIND("SERVICE FROM <http://x>" AS ?x) } # SERVICE <http://y>')
    assert not facts.has_service and facts.from_graphs == []
    facts = scan("SELECT * WHERE { <http://e/SERVICE> ?p ?service }")
    assert not facts.has_service
    assert scan("SELECT * WHERE { service <http://e/sparql> { ?s ?p ?o } }").has_service


def test_updates_are_recognised():
    assert scan("PREFIX a: <http://a/> INSERT DATA { <a> <b> <c> }").kind == "update"
    assert scan("CLEAR ALL").kind == "update"
    assert scan("# comment\nASK {}").kind == "query"


def test_relative_iris_are_flagged():
    assert scan("INSERT DATA { <s> <http://p> <o> }").has_relative_iri
    assert not scan("ASK { <http://s> ?p ?o }").has_relative_iri


def test_add_using_inserts_before_modify_where_only():
    update = ("DROP ALL ; INSERT DATA { GRAPH <http://g> { <http://a> <http://b> <http://c> } } ; "
              "INSERT { GRAPH <http://t> { ?s a <http://x> } } WHERE { ?s ?p ?o } ; "
              "DELETE WHERE { ?s <http://q> ?o }")
    out = add_using(update, scan(update), ["http://d"], ["http://n"])
    assert out.count("USING <http://d> USING NAMED <http://n> WHERE { ?s ?p ?o }") == 1
    assert "DELETE WHERE" in out and out.count("USING") == 2
