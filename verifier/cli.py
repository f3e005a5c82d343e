"""``tessera verifier …``: run the service, create API keys, and a small client for scripts.

- ``serve [--host] [--port] [--database-url] [--tls-cert --tls-key] [--config FILE]``
- ``api-key create [--database-url URL] [--config FILE] [--json]`` → the key, shown once
- ``session create --url URL --api-key KEY --policy NAME [--redirect-uri] [--json]``
- ``session show ID --url URL --api-key KEY [--json]``

Exit codes as for every ``tessera`` command: 0 success, 1 a session whose verdict is not verified,
2 usage, input, network or server errors (one line on standard error).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from shared.crypto import random_bytes
from shared.errors import TesseraError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser("verifier", help="the verifier service (OpenID4VP)")
    commands = group.add_subparsers(dest="verifier_command", metavar="ACTION")
    commands.required = True

    serve = commands.add_parser("serve", help="run the verifier service")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8200)")
    serve.add_argument("--database-url", help="sqlite:///FILE (default) or postgresql://…")
    serve.add_argument("--tls-cert", type=Path, help="TLS certificate (PEM) to serve https")
    serve.add_argument("--tls-key", type=Path, help="TLS private key (PEM)")
    serve.add_argument("--config", type=Path, help="TOML file with settings, policies and the trust registry")
    serve.set_defaults(handler=_serve)

    keys = commands.add_parser("api-key", help="manage API keys")
    key_commands = keys.add_subparsers(dest="api_key_command", metavar="ACTION")
    key_commands.required = True
    create_key = key_commands.add_parser("create", help="create an API key (shown once; stored hashed)")
    create_key.add_argument("--database-url", help="the verifier's database")
    create_key.add_argument("--config", type=Path, help="TOML settings file")
    create_key.add_argument("--json", action="store_true", help='print {"api_key": …}')
    create_key.set_defaults(handler=_create_key)

    session = commands.add_parser("session", help="create and read presentation sessions (client)")
    session_commands = session.add_subparsers(dest="session_command", metavar="ACTION")
    session_commands.required = True
    create = session_commands.add_parser("create", help="start a session for a policy")
    show = session_commands.add_parser("show", help="show a session's status and verdict")
    show.add_argument("session_id", metavar="ID")
    for parser in (create, show):
        parser.add_argument("--url", required=True, help="the verifier's base URL")
        parser.add_argument("--api-key", required=True, help="an API key from 'api-key create'")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
    create.add_argument("--policy", required=True, help="policy name from the verifier's config")
    create.add_argument("--redirect-uri", action="store_true", help="use the unsigned redirect_uri: client id")
    create.set_defaults(handler=_create_session)
    show.set_defaults(handler=_show_session)


def _settings(args: argparse.Namespace) -> Any:
    from verifier.settings import load_settings  # noqa: PLC0415 - keeps 'tessera --help' light

    return load_settings(
        args.config,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        database_url=args.database_url,
        tls_cert=getattr(args, "tls_cert", None),
        tls_key=getattr(args, "tls_key", None),
    )


def _serve(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415

    from verifier.app import create_app  # noqa: PLC0415
    from verifier.serving import HTTP_PROTOCOL  # noqa: PLC0415

    settings = _settings(args)
    if (settings.tls_cert is None) != (settings.tls_key is None):
        print("tessera: error [usage]: --tls-cert and --tls-key go together", file=sys.stderr)
        return EXIT_USAGE
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
        log_level="info",
        # no access log: its lines cost CPU on every request, and session paths carry session ids,
        # which are capabilities (the counter page needs no API key); errors are still logged
        access_log=False,
        http=HTTP_PROTOCOL,  # httptools when installed; TCP_NODELAY on every connection (verifier.serving)
    )
    return EXIT_OK


def _create_key(args: argparse.Namespace) -> int:
    from verifier.service import create_api_key  # noqa: PLC0415
    from verifier.store import Store, make_engine, migrate  # noqa: PLC0415

    settings = _settings(args)
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        key = create_api_key(Store(engine), random_bytes, int(time.time()))
    finally:
        engine.dispose()
    print(json.dumps({"api_key": key}) if args.json else key)
    return EXIT_OK


def _call(method: str, url: str, key: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = httpx.request(method, url, headers={"Authorization": f"Bearer {key}"}, timeout=30, **kwargs)
    except httpx.HTTPError as exc:
        raise TesseraError(f"cannot reach {url}: {exc}", code="malformed") from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code >= 400:
        code = body.get("reason") if isinstance(body, dict) else None
        message = body.get("error_description") if isinstance(body, dict) else None
        print(f"tessera: error [{code or response.status_code}]: {message or response.text[:200]}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)
    if not isinstance(body, dict):
        raise TesseraError("the verifier sent something other than a JSON object", code="malformed")
    return body


def _create_session(args: argparse.Namespace) -> int:
    payload: dict[str, Any] = {"policy": args.policy}
    if args.redirect_uri:
        payload["client_id_prefix"] = "redirect_uri"
    body = _call("POST", args.url.rstrip("/") + "/sessions", args.api_key, json=payload)
    if args.json:
        print(json.dumps({"session_id": body["session_id"], "link": body["link"], "status_url": body["status_url"]}))
    else:
        from shared import qr  # noqa: PLC0415

        print(qr.to_text(body["link"]))
        print(f"session:  {body['session_id']}\nlink:     {body['link']}\nstatus:   {body['status_url']}")
        print(f"page:     {body['view_url']}")
    return EXIT_OK


def _show_session(args: argparse.Namespace) -> int:
    body = _call("GET", f"{args.url.rstrip('/')}/sessions/{args.session_id}", args.api_key)
    if args.json:
        print(json.dumps(body))
    else:
        print(f"status: {body.get('status')}")
        verdict = body.get("verdict") or {}
        for check in verdict.get("checks", []):
            print(f"  {check['outcome']:<7} {check['check']:<17} {check['code']}: {check['message']}")
        for query_id, claims in (body.get("claims") or {}).items():
            print(f"{query_id}: {json.dumps(claims, ensure_ascii=False)}")
    return EXIT_FAILED if body.get("status") in ("rejected", "declined", "expired") else EXIT_OK
