import json
import stat

import pytest

from theragraph.auth import Principal, TokenFile, default_token_path
from theragraph.errors import AccessError, ConfigError


def test_add_returns_token_that_verifies_and_is_hashed_at_rest(tmp_path):
    tokens = TokenFile(tmp_path / "t.json")
    token = tokens.add("alice", scopes="read,ingest", datasets=["https://x/g/a/"])
    principal = tokens.verify(token)
    assert principal == Principal("alice", frozenset({"read", "ingest"}), ("https://x/g/a/",))
    text = (tmp_path / "t.json").read_text()
    assert token not in text and token.split("_", 2)[2] not in text
    assert stat.S_IMODE((tmp_path / "t.json").stat().st_mode) == 0o600
    assert json.loads(text)["tokens"][0]["digest"]


@pytest.mark.parametrize("bad", ["", "tg_00000000_xxxxxxxxxxxxxxxxxxxxxxxx", "garbage", "Bearer x"])
def test_bad_tokens_are_refused(tmp_path, bad):
    tokens = TokenFile(tmp_path / "t.json")
    tokens.add("alice", scopes="read")
    with pytest.raises(AccessError) as info:
        tokens.verify(bad)
    assert info.value.code == "access.invalid-token"


def test_tampered_secret_is_refused(tmp_path):
    tokens = TokenFile(tmp_path / "t.json")
    token = tokens.add("alice", scopes="read")
    with pytest.raises(AccessError):
        tokens.verify(token[:-1] + ("A" if token[-1] != "A" else "B"))


def test_revoke_by_name_and_reload_from_another_instance(tmp_path):
    path = tmp_path / "t.json"
    server_view = TokenFile(path)
    token = TokenFile(path).add("bob", scopes="admin")
    assert server_view.verify(token).name == "bob"
    TokenFile(path).revoke("bob")
    with pytest.raises(AccessError):
        server_view.verify(token)


def test_duplicate_names_unknown_scopes_and_bad_names_fail(tmp_path):
    tokens = TokenFile(tmp_path / "t.json")
    tokens.add("alice", scopes="read")
    for kwargs, code in [
        ({"name": "alice", "scopes": "read"}, "access.duplicate-name"),
        ({"name": "carol", "scopes": "root"}, "access.unknown-scope"),
        ({"name": "bad name!", "scopes": "read"}, "access.bad-name"),
    ]:
        with pytest.raises(ConfigError) as info:
            tokens.add(kwargs["name"], scopes=kwargs["scopes"])
        assert info.value.code == code
    with pytest.raises(ConfigError):
        tokens.revoke("nobody")


def test_principal_grants():
    reader = Principal("r", frozenset({"read"}), ("https://x/g/a/",))
    assert reader.is_restricted and reader.may_see("https://x/g/a/1")
    assert not reader.may_see("https://x/g/b/1")
    assert reader.visible(["https://x/g/a/1", "https://x/g/b/1"]) == ["https://x/g/a/1"]
    admin = Principal("a", frozenset({"admin"}), ("https://x/g/a/",))
    assert not admin.is_restricted and admin.has_scope("read") and admin.may_see("https://x/g/b/1")
    with pytest.raises(AccessError) as info:
        reader.require("admin")
    assert info.value.code == "access.scope"


def test_default_token_path_needs_a_directory(tmp_path):
    assert default_token_path(str(tmp_path)) == tmp_path / "theragraph-tokens.json"
    with pytest.raises(ConfigError):
        default_token_path("sparql+http://h/query")


def test_a_remembered_token_does_not_let_a_tampered_one_through(tmp_path):
    tokens = TokenFile(tmp_path / "t.json")
    token = tokens.add("carol", scopes="read")
    assert tokens.verify(token).name == "carol"
    assert tokens.verify(token).name == "carol"  # the second time from the memo
    with pytest.raises(AccessError):
        tokens.verify(token[:-1] + ("A" if token[-1] != "A" else "B"))
