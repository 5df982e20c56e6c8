"""Bearer tokens: issue, list, revoke and verify, stored hashed at rest in a JSON file.

A token reads ``tg_<id>_<secret>``: ``id`` (8 hex digits) finds the record, ``secret`` (32 random
bytes, URL-safe base64) is checked against its SHA-256 digest with a constant-time comparison. A
fast hash suffices because the secret is 256 bits of randomness, not a password. The file never
holds a usable token; it is written with mode 0600 and replaced atomically.

A *dataset* is a set of named graphs declared by a graph IRI prefix: a grant of
``https://w3id.org/theragraph/graph/fhir/`` lets a reader see every graph whose IRI starts with it.
A principal without dataset grants sees every graph. This module only decides; it never reads
the store (the query layer intersects grants with the store's graphs).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from theragraph.errors import AccessError, ConfigError

#: The scopes a token may carry, from least to most powerful.
SCOPES = ("read", "ingest", "admin")
TOKEN_FILE_NAME = "theragraph-tokens.json"
_TOKEN_RE = re.compile(r"^tg_([0-9a-f]{8})_([A-Za-z0-9_-]{20,})$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
# Compared against when the token id is unknown, so timing does not reveal which ids exist.
_DUMMY_DIGEST = hashlib.sha256(b"theragraph-dummy-token").hexdigest()
#: Verified tokens remembered per token-file version (bounded; one entry per token in use).
_VERIFIED_MAX = 1024


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a name, its scopes, and the graph IRI prefixes it may read.

    Attributes:
        name: the token's name (or ``anonymous``).
        scopes: granted scopes; ``admin`` implies every other scope.
        graphs: graph IRI prefixes granted (the datasets); None means every graph.
    """

    name: str
    scopes: frozenset[str]
    graphs: tuple[str, ...] | None = None

    def has_scope(self, scope: str) -> bool:
        """Return True when the principal holds ``scope`` (admin holds all)."""
        return scope in self.scopes or "admin" in self.scopes

    @property
    def is_restricted(self) -> bool:
        """True when the principal may see only some graphs."""
        return self.graphs is not None and "admin" not in self.scopes

    def may_see(self, graph: str) -> bool:
        """Return True when the named graph ``graph`` is inside one of the granted datasets."""
        if not self.is_restricted:
            return True
        assert self.graphs is not None
        return any(graph.startswith(prefix) for prefix in self.graphs)

    def visible(self, graphs: Iterable[str]) -> list[str]:
        """Return the graphs of ``graphs`` that the principal may see, in order."""
        return [g for g in graphs if self.may_see(g)]

    def require(self, scope: str) -> None:
        """Raise AccessError unless the principal holds ``scope``.

        Raises:
            AccessError: code ``access.scope`` when the scope is missing.
        """
        if not self.has_scope(scope):
            raise AccessError(
                f"this action needs the {scope!r} scope; the token {self.name!r} has "
                f"{sorted(self.scopes) or 'none'}",
                code="access.scope",
            )


@dataclass(slots=True)
class TokenRecord:
    """One issued token as stored at rest (no usable secret)."""

    id: str
    name: str
    scopes: list[str]
    datasets: list[str] | None
    created_at: str
    digest: str = field(repr=False)

    def to_principal(self) -> Principal:
        """Return the principal this token stands for."""
        graphs = tuple(self.datasets) if self.datasets else None
        return Principal(self.name, frozenset(self.scopes), graphs)

    def public(self) -> dict[str, object]:
        """Return the record without its digest (for listings)."""
        return {
            "id": self.id,
            "name": self.name,
            "scopes": list(self.scopes),
            "datasets": list(self.datasets) if self.datasets else None,
            "created_at": self.created_at,
        }


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(text: str | Sequence[str]) -> list[str]:
    """Parse ``read,ingest`` into a checked list of scopes.

    Raises:
        ConfigError: code ``access.unknown-scope`` for a scope not in :data:`SCOPES`.
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    scopes = [s.strip() for s in items if s.strip()]
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise ConfigError(
            f"unknown or missing scope(s) {unknown or '(none)'}; use a comma list of {SCOPES}",
            code="access.unknown-scope",
        )
    return sorted(set(scopes), key=SCOPES.index)


def default_token_path(store_location: str) -> Path:
    """Return where tokens live for an embedded store: a file inside its directory.

    Raises:
        ConfigError: for a remote store, which needs an explicit token file.
    """
    if "://" in store_location or store_location == ":memory:":
        raise ConfigError(
            "a remote or in-memory store has no directory for tokens: set "
            "THERAGRAPH_TOKEN_FILE (or --token-file) to a file path",
            code="config.token-file",
        )
    return Path(store_location) / TOKEN_FILE_NAME


class TokenFile:
    """The token records of one deployment, kept in a JSON file (read on every change)."""

    def __init__(self, path: Path | str) -> None:
        """Bind to ``path`` (created on the first :meth:`add`)."""
        self.path = Path(path)
        self._path = str(self.path)
        self._records: dict[str, TokenRecord] = {}
        self._mtime: tuple[int, int] | None = None
        # SHA-256 of a presented token -> its principal, for tokens verified against the
        # current records; emptied whenever the records change (a revocation included).
        self._verified: dict[bytes, Principal] = {}
        self.reload()

    def reload(self) -> None:
        """Re-read the file when it changed on disk (tokens added or revoked by the CLI)."""
        try:
            stat = os.stat(self._path)
            mtime = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            self._records, self._mtime = {}, None
            self._verified = {}
            return
        if mtime == self._mtime:
            return
        self._verified = {}
        try:
            data = json.loads(self.path.read_text())
            records = {r["id"]: TokenRecord(**r) for r in data.get("tokens", [])}
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise ConfigError(
                f"token file {self.path} is unreadable or malformed: {exc}",
                code="config.token-file",
            ) from exc
        self._records, self._mtime = records, mtime
        self._verified = {}

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": "theragraph-tokens",
            "format_version": "1.0",
            "tokens": [
                {**r.public(), "digest": r.digest} for r in self._records.values()
            ],
        }
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(payload, handle, indent=2)
        os.replace(tmp, self.path)
        stat = self.path.stat()
        self._mtime = (stat.st_mtime_ns, stat.st_size)
        self._verified = {}

    def records(self) -> list[TokenRecord]:
        """Return all token records, oldest first."""
        self.reload()
        return sorted(self._records.values(), key=lambda r: r.created_at)

    def add(
        self, name: str, *, scopes: Sequence[str] | str, datasets: Sequence[str] | None = None
    ) -> str:
        """Issue a new token and return it (the only time it is ever visible).

        Args:
            name: a unique human name for the token's holder.
            scopes: scopes to grant (see :data:`SCOPES`).
            datasets: graph IRI prefixes the holder may read; None or empty for all graphs.

        Raises:
            ConfigError: for a bad name, a duplicate name or an unknown scope.
        """
        self.reload()
        if not _NAME_RE.match(name):
            raise ConfigError(
                f"token name {name!r} must be 1-64 letters, digits, '.', '_', '@' or '-'",
                code="access.bad-name",
            )
        if any(r.name == name for r in self._records.values()):
            raise ConfigError(
                f"a token named {name!r} exists; revoke it first or choose another name",
                code="access.duplicate-name",
            )
        checked = parse_scopes(scopes)
        grants = [d.strip() for d in datasets or [] if d.strip()] or None
        token_id = secrets.token_hex(4)
        while token_id in self._records:
            token_id = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        self._records[token_id] = TokenRecord(
            id=token_id,
            name=name,
            scopes=checked,
            datasets=grants,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            digest=_digest(secret),
        )
        self._save()
        return f"tg_{token_id}_{secret}"

    def revoke(self, name_or_id: str) -> TokenRecord:
        """Remove a token by its name or id and return its record.

        Raises:
            ConfigError: code ``access.unknown-token`` when none matches.
        """
        self.reload()
        for token_id, record in list(self._records.items()):
            if name_or_id in (record.name, token_id):
                del self._records[token_id]
                self._save()
                return record
        raise ConfigError(f"no token named {name_or_id!r}", code="access.unknown-token")

    def verify(self, token: str) -> Principal:
        """Return the principal of a presented bearer token (see :func:`verify`).

        The file is checked for changes (one ``stat``) on every call, so a token revoked by
        ``theragraph token revoke`` fails from the next request on. A token that verified
        against the current records is remembered by its SHA-256 digest until they change:
        the next request with it skips the parsing and comparison. Failures are not cached.
        """
        self.reload()
        verified = self._verified
        key = hashlib.sha256(token.encode()).digest()
        principal = verified.get(key)
        if principal is None:
            principal = verify(token, self._records)
            if len(verified) < _VERIFIED_MAX:
                verified[key] = principal
        return principal


def verify(token: str, records: dict[str, TokenRecord]) -> Principal:
    """Check a presented token against stored records in constant time.

    Args:
        token: the bearer token as presented.
        records: stored records keyed by token id.

    Raises:
        AccessError: code ``access.invalid-token`` for a malformed, unknown or revoked token.
    """
    match = _TOKEN_RE.match(token.strip())
    token_id, secret = (match.group(1), match.group(2)) if match else ("", token)
    record = records.get(token_id)
    expected = record.digest if record is not None else _DUMMY_DIGEST
    ok = hmac.compare_digest(_digest(secret), expected)
    if not ok or record is None or match is None:
        raise AccessError("invalid or revoked token", code="access.invalid-token")
    return record.to_principal()
