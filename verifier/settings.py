"""Verifier settings: ``TESSERA_VERIFIER_*`` environment variables over the ``[verifier]`` table of the
TOML file given by ``--config``, over defaults. Command-line options override both.

The same TOML file holds the presentation policies and the trust registry (see :mod:`verifier.policy`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.errors import MalformedError


class VerifierSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TESSERA_VERIFIER_", extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8200, ge=1, le=65535)
    # The base URL wallets and browsers reach; default http://HOST:PORT. An https URL makes the
    # verifier's identifier a did:web of it; otherwise it is a did:key (local runs, tests).
    public_url: str | None = None
    database_url: str = "sqlite:///tessera-verifier.db"
    config: Path | None = None  # TOML with policies and trust registry
    # Secret that encrypts the verifier's signing key at rest (base64url, 32 bytes). Without one, a
    # key file beside the database is created (mode 0600) — fine for local runs, not for replicas.
    key_secret: str | None = None
    key_secret_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    session_ttl_seconds: int = Field(default=300, ge=10, le=86_400)
    kb_jwt_max_age_seconds: int = Field(default=300, ge=10)  # how old a KB-JWT's iat may be
    clock_skew_seconds: int = Field(default=60, ge=0, le=600)
    status_cache_seconds: int = Field(default=300, ge=0)
    fetch_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    fetch_max_bytes: int = Field(default=2_000_000, ge=1024)
    # Lift the SSRF guards on outbound fetches (status lists, did:web): tests and local demos only.
    allow_private_fetch: bool = False

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise MalformedError(f"cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise MalformedError(f"{path} is not valid TOML: {exc}") from exc


def load_settings(config: Path | None = None, **overrides: Any) -> VerifierSettings:
    """Settings from defaults < the TOML ``[verifier]`` table < environment < ``overrides`` (not None)."""
    from_env = VerifierSettings()
    values: dict[str, Any] = {}
    if config is not None:
        table = read_toml(config).get("verifier", {})
        if not isinstance(table, dict):
            raise MalformedError("[verifier] in the config file must be a table")
        values.update(table)
    values.update({name: getattr(from_env, name) for name in from_env.model_fields_set})
    if config is not None:
        values["config"] = config
    values.update({k: v for k, v in overrides.items() if v is not None})
    return VerifierSettings(**values)
