"""``tessera issuer …``: run and administer the issuer.

Local commands work on the database directly (``serve``, ``migrate``, ``api-key create``, ``audit
verify``); operator commands are clients of the admin API (``offer create``, ``revoke``, ``suspend``,
``reinstate``, ``records``), so they work against a remote issuer and leave the same audit trail as any
other client. The API key may come from ``TESSERA_ISSUER_API_KEY`` instead of ``--api-key``, which
keeps it out of the process list and shell history.

Exit codes follow :mod:`shared.cli`: 0 success, 1 the server refused, 2 usage or input errors.

Heavy modules (FastAPI, SQLAlchemy, uvicorn) are imported inside the commands that need them: every
``tessera`` invocation imports this module to register its commands.
"""

# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx

from issuer.settings import load_settings
from shared.errors import MalformedError, TesseraError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
Subparsers = argparse._SubParsersAction  # argparse exposes no public name for it


def _settings(args: argparse.Namespace, **extra: Any) -> Any:
    return load_settings(getattr(args, "config", None), database_url=getattr(args, "database_url", None), **extra)


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _error(code: str, message: str) -> int:
    print(f"tessera: error [{code}]: {message}", file=sys.stderr)
    return EXIT_FAILED


# --- local commands ---------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    from issuer.http import configure_logging
    from issuer.serving import serve

    if bool(args.tls_cert) != bool(args.tls_key):
        raise MalformedError("--tls-cert and --tls-key go together")
    if args.workers < 1:
        raise MalformedError("--workers is at least 1")
    settings = _settings(args, host=args.host, port=args.port, tls_cert=args.tls_cert, tls_key=args.tls_key)
    configure_logging()
    return serve(settings, args.workers)


def cmd_migrate(args: argparse.Namespace) -> int:
    from issuer.store import make_engine, migrate

    engine = make_engine(_settings(args).resolved_database_url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    print("tessera issuer: the database schema is up to date", file=sys.stderr)
    return EXIT_OK


def cmd_api_key_create(args: argparse.Namespace) -> int:
    from issuer.app import build_service

    scopes = sorted({s.strip() for item in args.scope for s in item.split(",") if s.strip()})
    service = build_service(_settings(args))
    try:
        key = service.create_api_key(scopes, args.label, actor="cli")
    finally:
        service.db.dispose()
    if args.json:
        _print_json({"api_key": key})
    else:
        print(key)
        print(f"(scopes: {' '.join(scopes)}; this key is shown only once)", file=sys.stderr)
    return EXIT_OK


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from issuer.app import build_service

    service = build_service(_settings(args))
    try:
        report = service.audit_verify()
    finally:
        service.db.dispose()
    if args.json:
        _print_json(
            {
                "ok": report.ok,
                "entries": report.entries,
                "first_bad_seq": report.first_bad_seq,
                "problem": report.problem,
                "head": report.head,
            }
        )
    elif report.ok:
        print(f"audit log intact: {report.entries} entries, head {report.head}")
    else:
        print(f"audit log BROKEN at entry {report.first_bad_seq}: {report.problem}")
    return EXIT_OK if report.ok else EXIT_FAILED


# --- admin API client ---------------------------------------------------------------------------------


def _api_key(args: argparse.Namespace) -> str:
    key = args.api_key or os.environ.get("TESSERA_ISSUER_API_KEY")
    if not key:
        raise MalformedError("an API key is needed: --api-key KEY or TESSERA_ISSUER_API_KEY")
    return str(key)


def _call(args: argparse.Namespace, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    url = args.url.rstrip("/") + path
    headers = {"Authorization": f"Bearer {_api_key(args)}"}
    try:
        with httpx.Client(timeout=30, verify=not args.insecure) as client:
            reply = client.request(method, url, json=body, headers=headers)
    except httpx.HTTPError as exc:
        raise TesseraError(f"{args.url}: {exc}", code="network_error") from exc
    try:
        data = reply.json()
    except ValueError:
        data = {"error": "server_error", "error_description": reply.text[:200]}
    return reply.status_code, data


def _refused(data: Any) -> int:
    if isinstance(data, dict):
        code = str(data.get("error", "server_error"))
        return _error(code, str(data.get("error_description", "the server refused the request")))
    return _error("server_error", "the server refused the request")


def cmd_offer_create(args: argparse.Namespace) -> int:
    try:
        claims = json.loads(Path(args.claims).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise MalformedError(f"{args.claims} is not JSON: {exc}") from exc
    body: dict[str, Any] = {"type": args.type, "claims": claims, "tx_code": not args.no_tx_code}
    if args.format:
        body["formats"] = args.format
    status, data = _call(args, "POST", "/admin/offers", body)
    if status != 201:
        if isinstance(data, dict):
            for problem in data.get("fields", []) or []:
                print(f"  {problem.get('field')}: {problem.get('message')}", file=sys.stderr)
        return _refused(data)
    if args.json:
        _print_json({k: data.get(k) for k in ("offer_link", "offer_uri", "tx_code", "record_id")})
        return EXIT_OK
    print(f"Offer link:       {data['offer_link']}")
    print(f"Offer URI:        {data['offer_uri']}")
    if data.get("tx_code"):
        print(f"Transaction code: {data['tx_code']}   (give it to the holder separately; it is shown only once)")
    print(f"Record:           {data['record_id']}")
    if args.qr:
        from shared import qr

        print(qr.to_text(data["offer_link"]))
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    status, data = _call(args, "POST", f"/admin/records/{args.record_id}/{args.action}")
    if status != 200:
        return _refused(data)
    if args.json:
        _print_json(data)
    else:
        print(f"{data['id']}: {data['previous']} -> {data['status']}")
    return EXIT_OK


def cmd_records(args: argparse.Namespace) -> int:
    query = "&".join(f"{k}={v}" for k, v in (("type", args.type), ("status", args.status)) if v)
    status, data = _call(args, "GET", f"/admin/records?limit={args.limit}" + (f"&{query}" if query else ""))
    if status != 200:
        return _refused(data)
    _print_json(data)
    return EXIT_OK


# --- registration ---------------------------------------------------------------------------------------


def _db_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", help="sqlite:///PATH or postgresql://… (default: the user's data directory)")
    parser.add_argument("--config", type=Path, help="TOML file with an [issuer] table")


def _client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", required=True, help="the issuer's base URL, e.g. http://127.0.0.1:8100")
    parser.add_argument("--api-key", help="an API key (or set TESSERA_ISSUER_API_KEY)")
    parser.add_argument("--insecure", action="store_true", help="accept a self-signed TLS certificate")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def register(subparsers: Subparsers[argparse.ArgumentParser]) -> None:
    issuer = subparsers.add_parser("issuer", help="run and administer the credential issuer")
    sub = issuer.add_subparsers(dest="issuer_command", metavar="COMMAND")
    sub.required = True

    serve = sub.add_parser("serve", help="run the issuer (HTTP, or HTTPS with --tls-cert/--tls-key)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8100)")
    serve.add_argument("--tls-cert", type=Path, help="PEM certificate chain for HTTPS")
    serve.add_argument("--tls-key", type=Path, help="PEM private key for HTTPS")
    serve.add_argument("--workers", type=int, default=1, help="worker processes, e.g. one per core (default 1)")
    _db_options(serve)
    serve.set_defaults(handler=cmd_serve)

    mig = sub.add_parser("migrate", help="create or upgrade the database schema")
    _db_options(mig)
    mig.set_defaults(handler=cmd_migrate)

    key = sub.add_parser("api-key", help="API keys of the admin API")
    key_sub = key.add_subparsers(dest="api_key_command", metavar="COMMAND")
    key_sub.required = True
    create = key_sub.add_parser("create", help="create an API key and print it once")
    create.add_argument(
        "--scope", action="append", required=True, help="issue, revoke or admin (repeat or comma-separate)"
    )
    create.add_argument("--label", help="who or what the key is for")
    create.add_argument("--json", action="store_true", help='print {"api_key": …}')
    _db_options(create)
    create.set_defaults(handler=cmd_api_key_create)

    aud = sub.add_parser("audit", help="the audit log")
    aud_sub = aud.add_subparsers(dest="audit_command", metavar="COMMAND")
    aud_sub.required = True
    verify = aud_sub.add_parser("verify", help="check the audit log's hash chain (exit 1 if broken)")
    verify.add_argument("--json", action="store_true")
    _db_options(verify)
    verify.set_defaults(handler=cmd_audit_verify)

    offer = sub.add_parser("offer", help="credential offers")
    offer_sub = offer.add_subparsers(dest="offer_command", metavar="COMMAND")
    offer_sub.required = True
    ocreate = offer_sub.add_parser("create", help="create an offer for a subject's claims")
    _client_options(ocreate)
    ocreate.add_argument("--type", required=True, help="credential type, e.g. BirthCertificate")
    ocreate.add_argument("--claims", required=True, type=Path, help="JSON file with the subject's claims")
    ocreate.add_argument("--format", action="append", choices=["dc+sd-jwt", "ldp_vc", "vc+sd-jwt"])
    ocreate.add_argument("--no-tx-code", action="store_true", help="no transaction code (not recommended)")
    ocreate.add_argument("--qr", action="store_true", help="also print the offer as a QR code in the terminal")
    ocreate.set_defaults(handler=cmd_offer_create)

    for action, text in (
        ("revoke", "revoke (permanent)"),
        ("suspend", "suspend"),
        ("reinstate", "reinstate (lift a suspension of)"),
    ):
        p = sub.add_parser(action, help=f"{text} the credentials of an issuance record")
        p.add_argument("record_id")
        _client_options(p)
        p.set_defaults(handler=cmd_status, action=action)

    rec = sub.add_parser("records", help="list issuance records")
    _client_options(rec)
    rec.add_argument("--type")
    rec.add_argument("--status", choices=["offered", "issued", "revoked", "suspended"])
    rec.add_argument("--limit", type=int, default=50)
    rec.set_defaults(handler=cmd_records)
