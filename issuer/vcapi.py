"""The W3C VC API issue endpoint's use-case (``POST /credentials/issue``), for the W3C test suites:
sign a caller-supplied VCDM 2.0 credential with a Data Integrity proof, as this issuer, audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from issuer.http import ApiError
from issuer.service import IssuerService
from shared import data_integrity, vc


def vc_api_issue(service: IssuerService, actor: str, credential: dict[str, Any], options: Any) -> dict[str, Any]:
    """Sign a caller-supplied VCDM 2.0 credential with ``eddsa-rdfc-2022`` (or ``eddsa-jcs-2022`` when
    ``options.cryptosuite`` asks). The issuer must be ours or absent (then it is set to our DID)."""
    key = service.identity.active()
    doc = dict(credential)
    issuer = doc.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if issuer_id is None:
        doc["issuer"] = key.did
    elif issuer_id != key.did:
        raise ApiError("invalid_request", f"this issuer signs as {key.did}, not {str(issuer_id)[:100]}")
    if "proof" in doc:
        raise ApiError("invalid_request", "the credential already carries a proof")
    suite = options.get("cryptosuite", "eddsa-rdfc-2022") if isinstance(options, dict) else "eddsa-rdfc-2022"
    if suite not in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
        raise ApiError("invalid_request", f"unsupported cryptosuite {str(suite)[:64]!r}")
    vc.check_credential(doc)
    moment = datetime.fromtimestamp(int(service.now()), UTC)
    signed = data_integrity.sign(
        doc, signer=key.key, verification_method=key.verification_method, cryptosuite=suite, created=moment
    )
    types = doc.get("type")
    with service.db.tx() as session:
        service.record_audit(session, actor, "vcapi.issue", None, types=types if isinstance(types, list) else [types])
    return signed
