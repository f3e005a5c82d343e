"""Selective Disclosure for JWTs — SD-JWT (RFC 9901): issue, present, and the holder's view.

One engine for both credential profiles of :mod:`shared.sd_jwt_vc`. Reading and verifying (Disclosure
parsing, §7.1 processing, the KB-JWT checks, :func:`verify`) live in :mod:`shared.sd_jwt_verify`; every
public name there is re-exported here, so ``sd_jwt.verify`` is the one entry point. Choices, with the
sections they come from:

- Claims are named by *paths*, tuples of object member names (``str``) and array indices (``int``),
  like DCQL claims paths (OpenID4VP §7): ``("address", "street_address")``, ``("nationalities", 0)``;
  a bare string is a top-level claim, and ``None`` in a path means "every element of this array".
  In ``issue(disclosable=...)`` each path becomes one Disclosure; naming a path *and* paths under it
  gives recursive disclosures (§6.3). In ``present(reveal=...)`` a path reveals everything at and
  under it plus the Disclosures its ancestors need to be reachable (§7.2 "nested claims").
- Disclosures (§4.2.1) are ``[salt, name, value]`` / ``[salt, value]`` in JSON with ``", "``
  separators and non-ASCII escaped as ``\\uXXXX`` — Python's ``json.dumps`` defaults, the form of the
  RFC's own examples, so the vectors reproduce byte for byte. Salts are 128 bits (§9.3) from the
  injected ``random_bytes`` (one call per issuance, in Disclosure creation order: inner claims first).
- Digest order is hidden by sorting the ``_sd`` arrays (§4.2.4.1 allows sorting); decoy digests
  (§4.2.5) are SHA-256 over 128 random bits, up to ``decoys`` per object with disclosable members
  (the count drawn at random too). Array element order cannot be hidden and is kept.
- ``_sd_alg`` is always written (§4.1.1).
- A presentation lists its Disclosures in processing order (§7.1: the payload's members first, then
  each ``_sd`` array in its sorted order, a Disclosure before the ones inside it), which says nothing
  about the order of issuance. :func:`present` on a *text* follows only the chosen paths when they are
  member names (:mod:`shared.sd_jwt_select`, which also makes the KB-JWT); the issuer JWT and every
  Disclosure are still read strictly.
- The JSON serialization (§8) is read by :func:`from_json_serialization`, which gives the equivalent
  compact form (first signature); the KB-JWT's ``sd_hash`` is over that form (§8.1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Final, TypeAlias

from shared import jose, sd_jwt_build, sd_jwt_select
from shared.crypto import Ed25519PublicKey, P256PublicKey, PublicKey, RandomBytes, Signer
from shared.errors import MalformedError
from shared.keys import public_jwk
from shared.sd_jwt_build import make_disclosure as make_disclosure  # noqa: PLC0414  (explicit re-export)
from shared.sd_jwt_select import *  # noqa: F403  (re-exported)
from shared.sd_jwt_select import check_holder, choose, key_binding_jwt, normalize_path, select
from shared.sd_jwt_verify import *  # noqa: F403  (re-exported: sd_jwt is the engine's one public face)
from shared.sd_jwt_verify import (
    MAX_BYTES,
    MAX_DISCLOSURES,
    SD_ALG,
    Disclosure,
    Path,
    Placed,
    epoch,
    parse_disclosure,
    process,
    split,
)

DEFAULT_TYP: Final = "dc+sd-jwt"
_SD_ALG_JSON: Final = f'"_sd_alg":"{SD_ALG}"'
# holder key bytes → (its JWK, the JSON payload member "cnf"), bounded like shared.sd_jwt_build's memos
_JWKS: dict[bytes, tuple[dict[str, str], str]] = {}
PathLike: TypeAlias = sd_jwt_select.PathLike


# --- the SD-JWT -------------------------------------------------------------------------------


@dataclass(frozen=True, init=False)
class SdJwt:
    """An SD-JWT (or SD-JWT+KB) as the holder keeps it. ``str()`` gives the compact form (§4)."""

    issuer_jwt: str
    disclosures: tuple[Disclosure, ...]
    header: dict[str, Any] = field(repr=False)
    payload: dict[str, Any] = field(repr=False)
    kb_jwt: str | None = None

    def __init__(
        self,
        issuer_jwt: str,
        disclosures: tuple[Disclosure, ...],
        header: dict[str, Any],
        payload: dict[str, Any],
        kb_jwt: str | None = None,
    ) -> None:
        # The generated frozen __init__ sets each field through object.__setattr__; writing the instance
        # dict does the same for 40% fewer instructions (issuing makes one SdJwt per credential).
        fields = self.__dict__
        fields["issuer_jwt"] = issuer_jwt
        fields["disclosures"] = disclosures
        fields["header"] = header
        fields["payload"] = payload
        fields["kb_jwt"] = kb_jwt

    def __str__(self) -> str:
        return "~".join([self.issuer_jwt, *(d.text for d in self.disclosures), self.kb_jwt or ""])

    @cached_property
    def _processed(self) -> tuple[dict[str, Any], tuple[Placed, ...]]:
        return process(self.payload, self.disclosures)

    @cached_property
    def _under(self) -> dict[Path, list[int]]:
        """Each path prefix → the placed Disclosures at or under it, in processing order."""
        index: dict[Path, list[int]] = {}
        for i, placed in enumerate(self._processed[1]):
            path = placed.path
            for n in range(1, len(path) + 1):
                index.setdefault(path[:n], []).append(i)
        return index

    @property
    def claims(self) -> dict[str, Any]:
        """All claims, every Disclosure applied (the holder's view)."""
        return self._processed[0]

    @property
    def placed(self) -> tuple[Placed, ...]:
        return self._processed[1]

    @property
    def disclosable(self) -> tuple[Path, ...]:
        """The paths the holder may choose to reveal or withhold."""
        return tuple(p.path for p in self._processed[1])


def parse(text: str, *, max_bytes: int = MAX_BYTES, max_disclosures: int = MAX_DISCLOSURES) -> SdJwt:
    """Read a compact SD-JWT without verifying it (a holder re-reading what it already verified)."""
    parts = split(text, max_bytes=max_bytes, max_disclosures=max_disclosures)
    decoded = jose.decode_unverified(parts[0], max_bytes=max_bytes)
    disclosures = tuple([parse_disclosure(p) for p in parts[1:-1]])
    return SdJwt(parts[0], disclosures, decoded.header, decoded.payload, parts[-1] or None)


def from_json_serialization(obj: Any) -> str:
    """The compact form of a flattened or general JWS JSON SD-JWT (§8); first signature for general."""
    if isinstance(obj, str):
        obj = jose.parse_json(obj.encode(), "SD-JWT JSON serialization")
    if not isinstance(obj, dict) or not isinstance(obj.get("payload"), str):
        raise MalformedError("an SD-JWT JSON serialization is an object with a payload")
    sigs = obj.get("signatures")
    sig: Any = obj if sigs is None else (sigs[0] if isinstance(sigs, list) and sigs else None)
    if (
        not isinstance(sig, dict)
        or not isinstance(sig.get("protected"), str)
        or not isinstance(sig.get("signature"), str)
    ):
        raise MalformedError("the JWS JSON serialization has no protected header and signature")
    unprotected = sig.get("header", {})
    disclosures = unprotected.get("disclosures", []) if isinstance(unprotected, dict) else None
    kb = unprotected.get("kb_jwt", "") if isinstance(unprotected, dict) else None
    if not isinstance(disclosures, list) or not all(isinstance(d, str) and d for d in disclosures):
        raise MalformedError("disclosures is an array of strings")
    if not isinstance(kb, str):
        raise MalformedError("kb_jwt is a string")
    return "~".join([f"{sig['protected']}.{obj['payload']}.{sig['signature']}", *disclosures, kb])


# --- issuance (§4, §5): the work is done in shared.sd_jwt_build -----------------------------------


def _holder_jwk(key: PublicKey) -> tuple[dict[str, str], str]:
    """``key``'s public JWK (a fresh dict) and the JSON payload member ``"cnf":{"jwk":...}``, memoized:
    keys are immutable values."""
    if type(key) is not Ed25519PublicKey and type(key) is not P256PublicKey:
        jwk = public_jwk(key)  # refuses what it does not know
        return jwk, f'"cnf":{{"jwk":{jose.dumps(jwk)}}}'
    # keyed by the key's bytes (32 for Ed25519, 65 for P-256, so never the same): hashing the key
    # object runs the dataclass's Python-level __hash__
    memo = key.raw if isinstance(key, Ed25519PublicKey) else key.point
    found = _JWKS.get(memo)
    if found is None:
        jwk = public_jwk(key)
        found = (jwk, f'"cnf":{{"jwk":{jose.dumps(jwk)}}}')
        if len(_JWKS) >= sd_jwt_build.MEMO_MAX:
            _JWKS.clear()
        _JWKS[memo] = found
    return dict(found[0]), found[1]


def issue(
    claims: dict[str, Any],
    *,
    disclosable: Iterable[PathLike],
    signer: Signer,
    holder_key: PublicKey | None = None,
    now: datetime,
    random_bytes: RandomBytes,
    typ: str = DEFAULT_TYP,
    kid: str | None = None,
    decoys: int = 0,
    extra_header: dict[str, Any] | None = None,
    never_disclosable: frozenset[str] = frozenset(),
) -> SdJwt:
    """Issue an SD-JWT over ``claims`` with each ``disclosable`` path selectively disclosable.

    Adds ``iat`` (from ``now``) unless given, ``cnf.jwk`` for ``holder_key`` and ``_sd_alg``.
    A path at or under a top-level claim in ``never_disclosable`` (a profile's always-visible claims)
    is refused. The payload shares the claims' unchanged sub-objects: do not mutate ``claims`` afterwards.
    """
    if type(claims) is not dict:
        raise MalformedError("claims are a JSON object")
    if type(decoys) is not int or not 0 <= decoys <= 255:
        raise MalformedError("decoys is a count from 0 to 255")
    payload, made, members = sd_jwt_build.build(claims, disclosable, random_bytes, decoys, never_disclosable)
    iat = epoch(now)
    if "iat" not in payload:
        payload["iat"] = iat
        if members is not None:
            members.append(f'"iat":{iat}')
    if holder_key is not None:
        if "cnf" in claims:
            raise MalformedError("claims carry cnf and a holder key is given too")
        jwk, cnf_json = _holder_jwk(holder_key)
        payload["cnf"] = {"jwk": jwk}
        if members is not None:
            members.append(cnf_json)
    payload["_sd_alg"] = SD_ALG
    if members is not None:
        members.append(_SD_ALG_JSON)
    jwt, header = sd_jwt_build.sign(payload, members, signer, typ=typ, kid=kid, extra_header=extra_header)
    return SdJwt(jwt, tuple(made), header, payload)


# --- presentation (§4.3, §7.2) ----------------------------------------------------------------


def present(
    sd_jwt: SdJwt | str,
    *,
    reveal: Iterable[PathLike],
    holder_signer: Signer | None = None,
    audience: str | None = None,
    nonce: str | None = None,
    now: datetime | None = None,
) -> str:
    """The SD-JWT revealing exactly ``reveal`` (with what nested claims depend on), plus a KB-JWT
    when ``holder_signer`` is given (then ``audience``, ``nonce`` and ``now`` are required)."""
    if holder_signer is not None and (audience is None or nonce is None or now is None):
        raise MalformedError("a KB-JWT needs audience, nonce and now")
    paths = [normalize_path(p) for p in reveal]
    selected = select(sd_jwt, paths) if isinstance(sd_jwt, str) else None
    if selected is not None:
        issuer_jwt, payload, texts = selected
    else:
        sdj = parse(sd_jwt) if isinstance(sd_jwt, str) else sd_jwt
        placed = sdj.placed
        issuer_jwt, payload = sdj.issuer_jwt, sdj.payload
        texts = [placed[i].disclosure.text for i in choose(sdj.claims, placed, sdj._under, paths)]
    body = "~".join([issuer_jwt, *texts, ""])
    if holder_signer is None:
        return body
    check_holder(payload, holder_signer)
    return body + key_binding_jwt(body, holder_signer=holder_signer, audience=audience, nonce=nonce, now=now)  # type: ignore[arg-type]
