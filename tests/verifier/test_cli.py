"""``tessera verifier`` commands: api-key create against a database, session create/show against a live
server on 127.0.0.1 (uvicorn in a thread)."""

from __future__ import annotations

import argparse
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from shared.cli import main
from shared.encoding import b64url_encode
from verifier import cli
from verifier.app import create_app
from verifier.policy import parse_config
from verifier.settings import VerifierSettings, load_settings, read_toml

from .conftest import EXAMPLE_CONFIG
from .test_shell import fake_sign, fake_verify


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tessera")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except SystemExit as exc:
        return int(exc.code or 0)


@pytest.fixture
def live(make_settings: Callable[..., VerifierSettings]) -> Iterator[tuple[str, str]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = make_settings(host="127.0.0.1", port=port, public_url=None)
    app = create_app(settings, verify_response=fake_verify, sign_request=fake_sign)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", settings.database_url
    finally:
        server.should_exit = True
        thread.join(5)


def test_api_key_then_session_create_and_show(live: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    url, database_url = live
    assert run(["verifier", "api-key", "create", "--database-url", database_url, "--json"]) == 0
    key = json.loads(capsys.readouterr().out)["api_key"]
    assert key.startswith("tsv_")
    code = run(["verifier", "session", "create", "--url", url, "--api-key", key, "--policy", "age-over-18", "--json"])
    assert code == 0
    created: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert set(created) == {"session_id", "link", "status_url"} and created["link"].startswith("openid4vp://")
    assert run(["verifier", "session", "show", created["session_id"], "--url", url, "--api-key", key, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "pending" and shown["policy"] == "age-over-18"
    assert run(["verifier", "session", "create", "--url", url, "--api-key", key, "--policy", "age-over-18"]) == 0
    text = capsys.readouterr().out
    assert "session:" in text and "█" in text


def test_client_errors_are_one_line(live: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = live
    assert run(["verifier", "session", "show", "nope", "--url", url, "--api-key", "bad", "--json"]) == 2
    assert capsys.readouterr().err.strip() == "tessera: error [unauthorized]: A valid API key is required."


# --- settings through the command line ------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("TESSERA_VERIFIER_"):
            monkeypatch.delenv(name)
    return monkeypatch


def _config_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert "\n" not in err and "Traceback" not in err, captured.err
    assert err.startswith("tessera: error [invalid_config]: "), err
    return err


@pytest.mark.parametrize(
    "case",
    [
        ("TESSERA_VERIFIER_PORT", "abc", "valid integer"),
        ("TESSERA_VERIFIER_STATUS_CACHE_SECONDS", "-1", "greater than or equal to 0"),
        ("TESSERA_VERIFIER_FETCH_TIMEOUT_SECONDS", "0", "greater than 0"),
        ("TESSERA_VERIFIER_VC_API_OPEN", "maybe", "valid boolean"),
    ],
)
def test_bad_environment_setting_is_one_line(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, case: tuple[str, str, str]
) -> None:
    name, value, problem = case
    clean_env.setenv(name, value)
    database = ["--database-url", f"sqlite:///{tmp_path / 'v.db'}"]
    for argv in (["verifier", "serve", *database], ["verifier", "api-key", "create", *database]):
        err = _config_error(argv, capsys)
        assert f"invalid setting {name}: " in err and problem in err
    assert not (tmp_path / "v.db").exists()


def test_bad_config_file_is_one_line(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "verifier.toml"
    config.write_text("[verifier]\nsession_ttl_seconds = 1\nkey_secret = 8765432187654321\n", encoding="utf-8")
    err = _config_error(["verifier", "serve", "--config", str(config)], capsys)
    assert f"session_ttl_seconds in [verifier] of {config}: " in err and "greater than or equal to 10" in err
    assert f"key_secret in [verifier] of {config}" in err and "8765432187654321" not in err  # secrets never shown
    config.write_text("[verifier]\nprot = 1\n", encoding="utf-8")
    assert f"prot in [verifier] of {config} is not a known setting" in _config_error(
        ["verifier", "serve", "--config", str(config)], capsys
    )
    config.write_text("[verifier]\nport = \n", encoding="utf-8")
    assert "is not valid TOML" in _config_error(["verifier", "serve", "--config", str(config)], capsys)
    missing = tmp_path / "missing.toml"
    assert f"cannot read the config file {missing}" in _config_error(
        ["verifier", "serve", "--config", str(missing)], capsys
    )
    clean_env.setenv("TESSERA_VERIFIER_CONFIG", str(missing))
    assert f"cannot read the config file {missing}" in _config_error(["verifier", "serve"], capsys)
    clean_env.delenv("TESSERA_VERIFIER_CONFIG")
    assert "invalid setting --port: " in _config_error(["verifier", "serve", "--port", "0"], capsys)


def _serve_settings(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> VerifierSettings:
    """Run ``tessera verifier serve`` up to the point where uvicorn would start; the settings it would use."""
    import uvicorn

    seen: dict[str, Any] = {}

    def fake_run(app: Any, **kwargs: Any) -> None:
        seen.update(kwargs, settings=app.state.service.settings, policies=set(app.state.service.config.policies))
        app.state.engine.dispose()

    monkeypatch.setattr(uvicorn, "run", fake_run)
    assert main(argv) == 0
    settings: VerifierSettings = seen["settings"]
    assert (seen["host"], seen["port"]) == (settings.host, settings.port)
    assert settings.config is not None  # and its policies were loaded:
    assert seen["policies"] == set(parse_config(read_toml(settings.config)).policies)
    return settings


def _config_with_verifier_table(tmp_path: Path) -> Path:
    config = tmp_path / "verifier.toml"
    table = (
        f'[verifier]\nport = 9123\nsession_ttl_seconds = 120\ndatabase_url = "sqlite:///{tmp_path / "v.db"}"\n'
        f'key_secret = "{b64url_encode(b"s" * 32)}"\n'
    )
    example = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    start, end = example.index("[verifier]\n"), example.index("[client]\n")  # the example's own table, replaced
    config.write_text(example[:start] + table + example[end:], encoding="utf-8")
    return config


@pytest.mark.parametrize("how", ["option", "environment"])
def test_config_file_named_by_the_environment_applies_in_full(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, how: str
) -> None:
    config = _config_with_verifier_table(tmp_path)
    if how == "option":
        argv = ["verifier", "serve", "--config", str(config)]
    else:
        clean_env.setenv("TESSERA_VERIFIER_CONFIG", str(config))
        argv = ["verifier", "serve"]
    settings = _serve_settings(clean_env, argv)
    assert settings.config == config
    assert (settings.port, settings.session_ttl_seconds) == (9123, 120)  # the [verifier] table
    assert settings.database_url == f"sqlite:///{tmp_path / 'v.db'}"
    clean_env.setenv("TESSERA_VERIFIER_PORT", "9124")  # the environment still beats the file
    assert _serve_settings(clean_env, argv).port == 9124
    assert _serve_settings(clean_env, [*argv, "--port", "9125"]).port == 9125  # and options beat both


def test_tls_without_public_url_advertises_https(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = _config_with_verifier_table(tmp_path)
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    argv = ["verifier", "serve", "--config", str(config), "--tls-cert", str(cert), "--tls-key", str(key)]
    settings = _serve_settings(clean_env, argv)
    assert settings.base_url == "https://127.0.0.1:9123"
    assert load_settings(config).base_url == "http://127.0.0.1:9123"
    assert VerifierSettings(host="h", port=1, tls_cert=cert, tls_key=key).base_url == "https://h:1"
    public = VerifierSettings(host="h", port=1, tls_cert=cert, tls_key=key, public_url="https://v.example/")
    assert public.base_url == "https://v.example"  # a public URL wins, as for the issuer


def test_session_ids_never_look_like_an_option() -> None:
    """``tessera verifier session show ID``: an id starting with '-' would be read by argparse as an option."""
    from types import SimpleNamespace

    from verifier.service import VerifierService

    assert VerifierService._identifier(SimpleNamespace(_token=lambda: "-bcd")) == "_bcd"  # type: ignore[arg-type]
    assert VerifierService._identifier(SimpleNamespace(_token=lambda: "abcd")) == "abcd"  # type: ignore[arg-type]
