"""``tessera issuer …``: local commands on the database, client commands over real sockets."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import text

from issuer.app import create_app
from issuer.settings import IssuerSettings
from issuer.store import make_engine
from shared.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "issuer" / "examples" / "birth-certificate.json"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live(make_settings: Any) -> Iterator[tuple[str, IssuerSettings]]:
    """The issuer on a real socket on 127.0.0.1, in a thread."""
    port = _free_port()
    settings = make_settings(port=port, public_url=None)
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:  # pragma: no cover
            raise RuntimeError("the issuer did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", settings
    finally:
        server.should_exit = True
        thread.join(10)
        app.state.service.db.dispose()


def _db_args(settings: IssuerSettings) -> list[str]:
    return ["--database-url", settings.resolved_database_url]


def test_migrate_and_api_key_create(make_settings: Any, capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> None:
    settings = make_settings()
    monkeypatch.setenv("TESSERA_ISSUER_KEY_ENCRYPTION_KEY", settings.key_encryption_key)
    monkeypatch.setenv("TESSERA_ISSUER_DATA_DIR", str(settings.data_dir))
    assert main(["issuer", "migrate", *_db_args(settings)]) == 0
    assert main(["issuer", "api-key", "create", "--scope", "issue,revoke", "--json", *_db_args(settings)]) == 0
    key = json.loads(capsys.readouterr().out)["api_key"]
    assert key.startswith("tsi_")
    assert main(["issuer", "api-key", "create", "--scope", "admin", *_db_args(settings)]) == 0
    out = capsys.readouterr()
    assert out.out.strip().startswith("tsi_") and "shown only once" in out.err
    assert not (settings.data_dir / "key-encryption.key").exists()  # nothing sealed, no key file made
    assert main(["issuer", "audit", "verify", *_db_args(settings)]) == 0
    assert "2 entries" in capsys.readouterr().out


def test_api_key_create_refuses_unknown_scopes(make_settings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    settings = make_settings()
    assert main(["issuer", "api-key", "create", "--scope", "root", *_db_args(settings)]) == 2
    assert "scopes" in capsys.readouterr().err


def test_audit_verify_fails_on_tampering(make_settings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    settings = make_settings()
    for _ in range(3):
        assert main(["issuer", "api-key", "create", "--scope", "issue", *_db_args(settings)]) == 0
    engine = make_engine(settings.resolved_database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE issuer_audit_log SET actor = 'someone-else' WHERE seq = 2"))
    engine.dispose()
    capsys.readouterr()
    assert main(["issuer", "audit", "verify", "--json", *_db_args(settings)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["first_bad_seq"] == 2


def test_offer_and_status_commands_over_http(
    live: tuple[str, IssuerSettings], capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    url, settings = live
    assert main(["issuer", "api-key", "create", "--scope", "admin", "--json", *_db_args(settings)]) == 0
    key = json.loads(capsys.readouterr().out)["api_key"]
    args = ["--url", url, "--api-key", key]
    assert (
        main(["issuer", "offer", "create", *args, "--type", "BirthCertificate", "--claims", str(EXAMPLE), "--json"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"offer_link", "offer_uri", "tx_code", "record_id"}
    assert out["offer_link"].startswith("openid-credential-offer://?credential_offer_uri=")
    assert out["offer_uri"].startswith(url + "/offers/")

    monkeypatch.setenv("TESSERA_ISSUER_API_KEY", key)  # the key may come from the environment
    assert (
        main(["issuer", "offer", "create", "--url", url, "--type", "BirthCertificate", "--claims", str(EXAMPLE)]) == 0
    )
    text_out = capsys.readouterr().out
    assert "Transaction code:" in text_out and "Offer link:" in text_out

    assert main(["issuer", "suspend", out["record_id"], *args]) == 1  # nothing issued yet
    assert "conflict" in capsys.readouterr().err
    assert main(["issuer", "revoke", out["record_id"], *args]) == 0
    assert "offered -> revoked" in capsys.readouterr().out
    assert main(["issuer", "reinstate", out["record_id"], *args]) == 1
    assert main(["issuer", "revoke", "nope", *args]) == 1
    assert "not_found" in capsys.readouterr().err


def test_offer_create_reports_bad_claims_per_field(
    live: tuple[str, IssuerSettings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, settings = live
    assert main(["issuer", "api-key", "create", "--scope", "issue", "--json", *_db_args(settings)]) == 0
    key = json.loads(capsys.readouterr().out)["api_key"]
    claims = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    claims["birthDate"] = "10/01/2026"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(claims), encoding="utf-8")
    code = main(
        [
            "issuer",
            "offer",
            "create",
            "--url",
            url,
            "--api-key",
            key,
            "--type",
            "BirthCertificate",
            "--claims",
            str(bad),
        ]
    )
    assert code == 1
    assert "birthDate: must be a date written YYYY-MM-DD" in capsys.readouterr().err
    assert main(["issuer", "revoke", "x", "--url", url, "--api-key", "tsi_wrong"]) == 1
    assert "invalid_token" in capsys.readouterr().err


# --- bad settings: one line, code invalid_config, exit 2, never a traceback or a secret -------------------


def _config_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert "\n" not in err and "Traceback" not in err, captured.err
    assert err.startswith("tessera: error [invalid_config]: "), err
    return err


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("TESSERA_ISSUER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TESSERA_ISSUER_DATA_DIR", str(tmp_path / "data"))
    return monkeypatch


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("TESSERA_ISSUER_PORT", "abc", "valid integer"),
        ("TESSERA_ISSUER_PORT", "70000", "less than or equal to 65535"),
        ("TESSERA_ISSUER_OFFER_TTL_SECONDS", "5", "greater than or equal to 60"),
        ("TESSERA_ISSUER_VC_API_OPEN", "maybe", "valid boolean"),
    ],
)
def test_bad_environment_setting_is_one_line(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, value: str, problem: str
) -> None:
    clean_env.setenv(name, value)
    for argv in (["issuer", "serve"], ["issuer", "migrate"], ["issuer", "audit", "verify"]):
        err = _config_error(argv, capsys)
        assert f"invalid setting {name}: " in err and problem in err


def test_bad_config_file_is_one_line(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "issuer.toml"
    config.write_text('[issuer]\nport = "many"\n', encoding="utf-8")
    err = _config_error(["issuer", "serve", "--config", str(config)], capsys)
    assert f"invalid setting port in [issuer] of {config}: " in err
    config.write_text("[issuer]\ncolour = 'blue'\n", encoding="utf-8")
    assert f"colour in [issuer] of {config} is not a known setting" in _config_error(
        ["issuer", "migrate", "--config", str(config)], capsys
    )
    config.write_text("[issuer\n", encoding="utf-8")
    assert "is not valid TOML" in _config_error(["issuer", "serve", "--config", str(config)], capsys)
    config.write_text('issuer = "no table"\n', encoding="utf-8")
    assert "[issuer] in the config file" in _config_error(["issuer", "serve", "--config", str(config)], capsys)
    missing = tmp_path / "nope.toml"
    assert f"cannot read the config file {missing}" in _config_error(
        ["issuer", "serve", "--config", str(missing)], capsys
    )
    clean_env.setenv("TESSERA_ISSUER_CONFIG", str(missing))  # the same file named by the environment
    assert f"cannot read the config file {missing}" in _config_error(["issuer", "serve"], capsys)


def test_bad_option_names_the_option(clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    err = _config_error(["issuer", "serve", "--port", "70000"], capsys)
    assert "invalid setting --port: " in err


def test_secret_settings_are_never_echoed(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "issuer.toml"
    config.write_text(
        "[issuer]\nkey_encryption_key = 918273645546372819\ndatabase_url = 4242424242\nport = 0\n", encoding="utf-8"
    )
    err = _config_error(["issuer", "serve", "--config", str(config)], capsys)
    assert "invalid settings: " in err and "key_encryption_key in [issuer]" in err and "port in [issuer]" in err
    assert "918273645546372819" not in err and "4242424242" not in err


def test_bad_setting_through_the_installed_command(tmp_path: Path) -> None:
    """The real entry point, in a process of its own: one line on standard error, exit 2."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_ISSUER_")}
    env.update(TESSERA_ISSUER_PORT="abc", TESSERA_ISSUER_DATA_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "shared.cli", "issuer", "serve"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "tessera: error [invalid_config]: invalid setting TESSERA_ISSUER_PORT: "
        "Input should be a valid integer, unable to parse string as an integer"
    ]


def test_record_ids_never_look_like_an_option() -> None:
    """``tessera issuer revoke RECORD_ID``: an id starting with '-' would be read by argparse as an option."""
    from types import SimpleNamespace

    from issuer.service import IssuerService

    assert IssuerService.identifier(SimpleNamespace(token=lambda n: "-bcd")) == "_bcd"  # type: ignore[arg-type]
    assert IssuerService.identifier(SimpleNamespace(token=lambda n: "abcd")) == "abcd"  # type: ignore[arg-type]
