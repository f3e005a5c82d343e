"""``tessera verifier`` commands: api-key create against a database, session create/show against a live
server on 127.0.0.1 (uvicorn in a thread)."""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn

from verifier import cli
from verifier.app import create_app
from verifier.settings import VerifierSettings

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
