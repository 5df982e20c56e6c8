"""Access control: bearer tokens with scopes and per-dataset grants (layer 6, no store access)."""

from theragraph.auth.tokens import (
    SCOPES,
    Principal,
    TokenFile,
    TokenRecord,
    default_token_path,
    verify,
)

__all__ = ["SCOPES", "Principal", "TokenFile", "TokenRecord", "default_token_path", "verify"]
