"""Settings for the entry points (CLI, API, pipeline); lower layers take explicit arguments."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from theragraph.errors import ConfigError

_PLACEHOLDERS = {"", "changethis", "changeme", "secret"}


class Settings(BaseSettings):
    """Deployment configuration, read from ``THERAGRAPH_*`` environment variables or ``.env``."""

    model_config = SettingsConfigDict(
        env_prefix="THERAGRAPH_", env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    store: str = Field(
        default=".theragraph/store",
        description="Store location: a directory (embedded pyoxigraph) or sparql+http(s)://... URL",
    )
    secret: SecretStr | None = Field(default=None, description="Pseudonymisation secret")
    secret_file: Path | None = Field(default=None, description="File holding the secret")
    issuer_map: dict[str, str] = Field(
        default_factory=dict,
        description="DICOM IssuerOfPatientID -> FHIR Patient.identifier.system",
    )
    default_issuer: str = Field(
        default="urn:theragraph:default-issuer",
        description="Identifier system assumed when DICOM has no IssuerOfPatientID",
    )

    @field_validator("secret")
    @classmethod
    def _reject_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip().lower() in _PLACEHOLDERS:
            raise ValueError(
                "THERAGRAPH_SECRET is a placeholder; set it to a long random value, e.g. "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`"
            )
        return value

    def secret_bytes(self) -> bytes:
        """Return the deployment secret.

        Raises:
            ConfigError: when neither THERAGRAPH_SECRET nor THERAGRAPH_SECRET_FILE gives one.
        """
        if self.secret is not None:
            return self.secret.get_secret_value().encode()
        if self.secret_file is not None:
            try:
                text = self.secret_file.read_text().strip()
            except OSError as exc:
                raise ConfigError(
                    f"cannot read THERAGRAPH_SECRET_FILE {self.secret_file}: {exc.strerror}",
                    code="config.missing-secret",
                ) from exc
            if text.lower() in _PLACEHOLDERS:
                raise ConfigError(
                    f"THERAGRAPH_SECRET_FILE {self.secret_file} is empty or a placeholder",
                    code="config.missing-secret",
                )
            return text.encode()
        raise ConfigError(
            "no pseudonymisation secret: set THERAGRAPH_SECRET or THERAGRAPH_SECRET_FILE "
            "(e.g. `export THERAGRAPH_SECRET=$(python -c 'import secrets; "
            "print(secrets.token_hex(32))')`). Keep it stable: it decides every pseudonym.",
            code="config.missing-secret",
        )


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return Settings()
