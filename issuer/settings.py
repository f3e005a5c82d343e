"""Issuer settings: ``TESSERA_ISSUER_*`` environment variables over the ``[issuer]`` table of an optional
TOML file (``--config``), over defaults. Command-line options override all of them.

The embedded default database and the key-encryption key file live in the user's data directory
(``platformdirs``), so a first ``tessera issuer serve`` works without any configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings_loader import ServiceSettings, load, read_toml

__all__ = ["DEFAULT_PORT", "IssuerSettings", "default_data_dir", "load_settings", "read_toml"]

DEFAULT_PORT = 8100
# Never quoted in an error message.
SECRET_SETTINGS = frozenset({"key_encryption_key", "database_url"})


def default_data_dir() -> Path:
    return Path(user_data_dir("tessera", appauthor=False)) / "issuer"


class IssuerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TESSERA_ISSUER_", extra="forbid", frozen=True)

    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535)
    data_dir: Path = Field(default_factory=default_data_dir)
    # Default: sqlite under data_dir (resolved by ``resolved_database_url``).
    database_url: str | None = None
    # 32-byte key (base64url) that seals signing-key seeds and pending offer claims at rest. Without
    # one, ``key_encryption_key_file`` (default ``data_dir/key-encryption.key``) is created with mode 0600
    # — fine for one host; replicas must share the key, so set it explicitly there.
    key_encryption_key: str | None = None
    key_encryption_key_file: Path | None = None
    max_body_bytes: int = Field(default=256_000, ge=1024)
    # Threads per process running requests' database work (issuer/app.py says why so few).
    request_threads: int = Field(default=4, ge=1, le=256)
    catalogue: Path | None = None  # default: the packaged issuer/catalogue.toml
    issuer_name: str = "Tessera issuer"
    # Data minimization: claims are kept only while an offer is pending, unless retention is on.
    retain_claims: bool = False
    offer_ttl_seconds: int = Field(default=7 * 86_400, ge=60)
    access_token_ttl_seconds: int = Field(default=300, ge=10, le=86_400)
    nonce_ttl_seconds: int = Field(default=300, ge=10, le=86_400)
    proof_max_age_seconds: int = Field(default=300, ge=10)
    clock_skew_seconds: int = Field(default=60, ge=0, le=600)
    tx_code_length: int = Field(default=6, ge=4, le=12)
    tx_code_max_attempts: int = Field(default=3, ge=1, le=10)
    batch_size: int = Field(default=10, ge=1, le=100)
    status_list_size: int = Field(default=131_072, ge=131_072)
    status_list_ttl_seconds: int = Field(default=300, ge=0)
    # How long a process trusts an API key it has checked: a revoked key stops working within this
    # many seconds everywhere (issuer/access.py); 0 reads the database on every request.
    api_key_cache_seconds: float = Field(default=5.0, ge=0, le=60)
    # POST /credentials/issue (W3C VC API) without an API key: for test-suite runs only.
    vc_api_open: bool = False

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'issuer.db'}"

    @property
    def resolved_key_file(self) -> Path:
        return self.key_encryption_key_file or self.data_dir / "key-encryption.key"


def load_settings(config: Path | None = None, **overrides: Any) -> IssuerSettings:
    """Settings from defaults < the TOML ``[issuer]`` table (``config``, else ``TESSERA_ISSUER_CONFIG``) <
    environment < ``overrides`` (not None). A bad setting or config file is ``invalid_config``, naming the
    setting and never its value (:mod:`shared.settings_loader`)."""
    return load(IssuerSettings, "issuer", config, overrides, secrets=SECRET_SETTINGS)
