"""A relying party and a wallet talking to an in-process verifier: what the flow tests of every format share."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from fastapi.testclient import TestClient

from shared import jose


class SessionClient:
    """``policy``: the policy sessions are made for; ``query_id``: the DCQL credential query id answered."""

    policy = ""
    query_id = "bc"

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.key = client.app.state.service.create_api_key()  # type: ignore[attr-defined]

    def start(self) -> tuple[str, dict[str, Any]]:
        """A new session: its id and the request object's claims (as a wallet reads them)."""
        headers = {"Authorization": f"Bearer {self.key}"}
        session = self.client.post("/sessions", json={"policy": self.policy}, headers=headers).json()
        token = self.client.get(urlsplit(session["request_uri"]).path).text
        return session["session_id"], jose.decode_unverified(token).payload

    def answer(self, request: dict[str, Any], item: Any, query_id: str | None = None) -> httpx.Response:
        """The wallet's direct_post of one presentation for the query."""
        form = urlencode({"vp_token": json.dumps({query_id or self.query_id: [item]}), "state": request["state"]})
        return self.client.post(
            urlsplit(request["response_uri"]).path,
            content=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def result(self, session_id: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.key}"}
        return dict(self.client.get(f"/sessions/{session_id}", headers=headers).json())

    def run(self, presentation: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
        session_id, request = self.start()
        assert self.answer(request, presentation(request)).status_code == 200
        return self.result(session_id)
