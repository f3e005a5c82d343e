"""Loading a service's settings (issuer, verifier) from defaults < a TOML table < environment < overrides.

One loader for both services, so ``TESSERA_<PART>_CONFIG`` and ``--config`` mean the same thing, and so a bad
setting is reported the same way: a :class:`ConfigError` (a ``TesseraError``, code ``invalid_config``) whose
message names the setting as the operator wrote it (``TESSERA_ISSUER_PORT``, ``port in [issuer] of FILE``,
``--port``) and what is wrong with it — never the value, which may be a secret (key-encryption keys, database
passwords). The command line prints it as one line; nothing here prints.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsError

from shared.errors import MalformedError

S = TypeVar("S", bound=BaseSettings)

# Error types whose message may quote the offending value (a custom validator's text): not shown for secrets.
_FREE_TEXT = ("value_error", "assertion_error")


class ServiceSettings(BaseSettings):
    """What the issuer's and the verifier's settings share: where they listen, the URL wallets reach them at
    (default ``http://HOST:PORT``, ``https://`` with a TLS certificate), TLS, and the config file. An https
    public URL makes the service's identifier a did:web of it; otherwise it is a did:key (local runs, tests).
    Each service sets its own ``env_prefix`` and port default."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str | None = None
    config: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls_cert else "http"
        return self.public_url or f"{scheme}://{self.host}:{self.port}"


class ConfigError(MalformedError):
    """A setting (environment, config file, option) or the config file itself is not valid."""

    default_code = "invalid_config"


def config_error(message: str) -> ConfigError:
    return ConfigError(message)


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed TOML file; a missing, unreadable or invalid file is ``invalid_config``."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise config_error(f"cannot read the config file {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:  # its message gives line and column, not the text
        raise config_error(f"the config file {path} is not valid TOML: {exc}") from exc


def env_name(cls: type[BaseSettings], field: str) -> str:
    return f"{cls.model_config.get('env_prefix', '')}{field}".upper()


def describe(
    exc: ValidationError, origin: Mapping[str, str], *, secrets: frozenset[str] = frozenset(), limit: int = 5
) -> ConfigError:
    """``invalid_config`` naming each bad setting by ``origin`` (field -> how the operator wrote it)."""
    problems: list[str] = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = error.get("loc") or ("?",)
        field = str(loc[0])
        where = origin.get(field, field)
        if error["type"] == "extra_forbidden":
            problems.append(f"{where} is not a known setting")
        elif field in secrets and error["type"] in _FREE_TEXT:
            problems.append(f"{where}: the value is not valid (not shown: it is secret)")
        else:
            problems.append(f"{where}: {error['msg']}")
    more = len(problems) - limit
    text = "; ".join(problems[:limit]) + (f"; and {more} more" if more > 0 else "")
    return config_error(f"invalid setting {text}" if len(problems) == 1 else f"invalid settings: {text}")


def load(
    cls: type[S],
    table: str,
    config: Path | None,
    overrides: Mapping[str, Any],
    *,
    secrets: frozenset[str] = frozenset(),
) -> S:
    """Settings of ``cls`` from defaults < the ``[table]`` of the TOML file ``config`` (or, without one, the
    file named by the ``config`` setting in the environment — applied in full either way) < environment <
    ``overrides`` that are not None (command-line options). Every failure is ``invalid_config``."""
    env_origin = {name: env_name(cls, name) for name in cls.model_fields}
    try:
        from_env = cls()
    except ValidationError as exc:  # only the environment is read here: defaults are valid
        raise describe(exc, env_origin, secrets=secrets) from exc
    except SettingsError as exc:
        raise config_error(f"cannot read the {env_name(cls, '')}* environment variables: {exc}") from exc
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    config = config or getattr(from_env, "config", None)
    if config is not None:
        data = read_toml(config).get(table, {})
        if not isinstance(data, dict):
            raise config_error(f"[{table}] in the config file {config} must be a table")
        values.update(data)
        origin.update({str(key): f"{key} in [{table}] of {config}" for key in data})
    values.update({name: getattr(from_env, name) for name in from_env.model_fields_set})
    origin.update({name: env_origin[name] for name in from_env.model_fields_set})
    if config is not None:
        values["config"] = config
    given = {key: value for key, value in overrides.items() if value is not None}
    values.update(given)
    origin.update({key: "--" + key.replace("_", "-") for key in given})
    try:
        return cls(**values)
    except ValidationError as exc:
        raise describe(exc, origin, secrets=secrets) from exc
