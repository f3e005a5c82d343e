"""Verifier settings: ``TESSERA_VERIFIER_*`` environment variables over the ``[verifier]`` table of the
TOML file given by ``--config`` or ``TESSERA_VERIFIER_CONFIG``, over defaults. Command-line options override both.

The same TOML file holds the presentation policies and the trust registry (see :mod:`verifier.policy`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings_loader import ServiceSettings, load, read_toml

__all__ = ["VerifierSettings", "load_settings", "read_toml"]

# Never quoted in an error message.
SECRET_SETTINGS = frozenset({"key_secret", "database_url"})


class VerifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TESSERA_VERIFIER_", extra="forbid", frozen=True)

    port: int = Field(default=8200, ge=1, le=65535)
    database_url: str = "sqlite:///tessera-verifier.db"
    # Secret that encrypts the verifier's signing key at rest (base64url, 32 bytes). Without one, a
    # key file beside the database is created (mode 0600) — fine for local runs, not for replicas.
    key_secret: str | None = None
    key_secret_file: Path | None = None
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    session_ttl_seconds: int = Field(default=300, ge=10, le=86_400)
    kb_jwt_max_age_seconds: int = Field(default=300, ge=10)  # how old a KB-JWT's iat may be
    clock_skew_seconds: int = Field(default=60, ge=0, le=600)
    status_cache_seconds: int = Field(default=300, ge=0)
    fetch_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    fetch_max_bytes: int = Field(default=2_000_000, ge=1024)
    # Lift the SSRF guards on outbound fetches (status lists, did:web): tests and local demos only.
    allow_private_fetch: bool = False
    # POST /credentials/verify and /presentations/verify (W3C VC API) without an API key: for test-suite
    # runs only — an open VC API lets anyone make the verifier fetch status lists and DID documents.
    vc_api_open: bool = False


def load_settings(config: Path | None = None, **overrides: Any) -> VerifierSettings:
    """Settings from defaults < the TOML ``[verifier]`` table < environment < ``overrides`` (not None).

    The TOML file is ``config`` (``--config``), else the one ``TESSERA_VERIFIER_CONFIG`` names: either way
    its ``[verifier]`` table is applied, and its policies and trust registry are loaded by the app. A bad
    setting or config file is ``invalid_config``, naming the setting, never its value."""
    return load(VerifierSettings, "verifier", config, overrides, secrets=SECRET_SETTINGS)
