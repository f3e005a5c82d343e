"""Service shell: health, OpenAPI, error objects (never a stack trace), body cap, settings, logs."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from issuer.http import JsonFormatter
from issuer.settings import IssuerSettings, load_settings
from shared.errors import MalformedError


def test_healthz(client: TestClient) -> None:
    reply = client.get("/healthz")
    assert reply.status_code == 200
    assert reply.json() == {"status": "ok"}


def test_openapi_lists_the_admin_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/admin/offers" in paths
    assert "/admin/records/{record_id}/{action}" in paths
    assert client.get("/docs").status_code == 200


def test_unknown_route_is_a_json_error(client: TestClient) -> None:
    reply = client.get("/nope")
    assert reply.status_code == 404
    assert reply.json()["error"] == "not_found"
    assert client.delete("/healthz").json()["error"] == "method_not_allowed"


def test_validation_errors_name_the_field(client: TestClient, api_key: Any) -> None:
    reply = client.post("/admin/offers", json={"claims": {}}, headers=api_key("issue"))
    assert reply.status_code == 400
    body = reply.json()
    assert body["error"] == "invalid_request"
    assert any(f["field"] == "type" for f in body["fields"])


def test_malformed_json_is_a_clear_error(client: TestClient, api_key: Any) -> None:
    reply = client.post(
        "/admin/offers", content=b"{not json", headers={**api_key("issue"), "Content-Type": "application/json"}
    )
    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_request"


def test_body_is_size_capped(make_app: Any) -> None:
    app = make_app(max_body_bytes=2048)
    with TestClient(app) as client:
        headers = {"Authorization": "Bearer x"}
        reply = client.post("/admin/offers", content=b"x" * 5000, headers=headers)
        assert reply.status_code == 413
        assert reply.json()["error"] == "too_large"

        def chunks() -> Any:  # no Content-Length: the stream is cut off while read
            for _ in range(10):
                yield b"y" * 1000

        reply = client.post("/admin/offers", content=chunks(), headers=headers)
        assert reply.status_code == 413


def test_unexpected_errors_are_not_leaked(app: Any, clock: Any) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail /etc/passwd")

    with TestClient(app, raise_server_exceptions=False) as client:
        reply = client.get("/boom")
    assert reply.status_code == 500
    assert reply.json() == {"error": "server_error", "error_description": "Internal error."}
    assert "secret" not in reply.text


def test_settings_from_env_toml_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "issuer.toml"
    config.write_text('[issuer]\nport = 9001\nissuer_name = "Registry"\nretain_claims = true\n', encoding="utf-8")
    monkeypatch.setenv("TESSERA_ISSUER_PORT", "9002")
    settings = load_settings(config, host="0.0.0.0")
    assert settings.port == 9002  # env beats the file
    assert settings.issuer_name == "Registry"
    assert settings.retain_claims is True
    assert settings.host == "0.0.0.0"
    assert settings.base_url == "http://0.0.0.0:9002"
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.resolved_database_url.endswith("issuer.db")


def test_public_url_wins_and_loses_its_slash() -> None:
    settings = IssuerSettings(public_url="https://registry.example/", data_dir=Path("/tmp/x"))
    assert settings.base_url == "https://registry.example"


def test_bad_settings_are_one_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "issuer.toml"
    config.write_text("[issuer]\nport = 'many'\n", encoding="utf-8")
    with pytest.raises(MalformedError, match="port"):
        load_settings(config)
    config.write_text("[issuer\n", encoding="utf-8")
    with pytest.raises(MalformedError, match="not valid TOML"):
        load_settings(config)


def test_access_log_is_json_without_personal_data(
    client: TestClient, api_key: Any, claims: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    headers = api_key("issue")
    with caplog.at_level(logging.INFO, logger="tessera.issuer"):
        reply = client.post("/admin/offers", json={"type": "BirthCertificate", "claims": claims}, headers=headers)
        assert reply.status_code == 201
        client.get(f"/offers/{reply.json()['offer_id']}")
    lines = [JsonFormatter().format(r) for r in caplog.records]
    assert any('"route": "/admin/offers"' in line for line in lines)
    assert any('"route": "/offers/{offer_id}"' in line for line in lines)
    text = "\n".join(lines)
    for value in ("Amara", "Okafor", "2026-01-10", reply.json()["offer_id"], reply.json()["tx_code"]):
        assert value not in text
    for line in lines:
        json.loads(line)
