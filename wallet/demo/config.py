"""What the demo's services are configured with: TLS material for the issuer, and the verifier's TOML.

**TLS.** Why the demo runs its issuer on https at all: an SD-JWT VC (``dc+sd-jwt``) names its issuer by
URL, and both the wallet and the verifier fetch that issuer's keys (JWT VC Issuer Metadata) over https
only — never plain http, not even to loopback, because a key is trusted for everything it signs. So the
demo does what a deployment does, at small scale: :func:`make_tls` makes a CA, signs a certificate for
the address the issuer listens on, and the two clients are told to trust that CA (the wallet through its
httpx client, the verifier process through ``SSL_CERT_FILE``). The CA's key is never written to disk, so
the CA signs nothing else; everything lives for one day in the demo's temporary directory.

**The verifier's TOML** is the shipped ``verifier/examples/verifier.toml``, pointed at the demo issuer.
The policies a newcomer reads about (``age-over-18``, ``school-enrolment``, ``parental-link``) are the ones
the demo runs, so the example file is read as it ships and changed in three ways only:

- the trust registry lists the demo issuer instead of the example's ``did:web:registry.example.org``:
  once by its DID (what ``ldp_vc`` and ``vc+sd-jwt`` credentials name) and once by its https URL (what an
  SD-JWT VC puts in ``iss``), both learned from the running issuer;
- every ``dc+sd-jwt`` query asks for the ``vct`` the demo issuer advertises in its metadata (today the
  same ``…/vct/birth-certificate/v1`` as the example), so a catalogue edited locally still runs the story;
- the ``[verifier]`` table is dropped (the demo sets those through ``TESSERA_VERIFIER_*``), and the verifier
  is given a name that says it is the demo's.

The result is written as TOML by a small writer (the standard library reads TOML but cannot write it) and
read back with :mod:`tomllib` before use, so a value the writer got wrong stops the demo with a message
instead of starting a verifier with a different policy.
"""

from __future__ import annotations

import copy
import importlib.util
import ipaddress
import json
import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from shared.errors import TesseraError

VERIFIER_NAME = {"en": "Tessera demo verifier", "fr": "Vérificateur de démonstration Tessera"}
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class ConfigError(TesseraError):
    default_code = "malformed"


def example_path(package: str, *parts: str) -> Path:
    """A file shipped beside a part's package, found without importing that package (the demo talks to the
    services over HTTP only; importing them here would also load FastAPI for nothing)."""
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise ConfigError(f"the {package} package is not installed, so the demo cannot find its examples")
    path = Path(locations[0]).joinpath(*parts)
    if not path.is_file():
        raise ConfigError(f"{path} is missing: the demo uses the shipped examples")
    return path


# --- TLS for the issuer ------------------------------------------------------------------------------

LIFETIME = timedelta(days=1)
# a little slack backwards, so a clock that differs slightly between processes never sees "not yet valid"
BACKDATE = timedelta(minutes=5)


@dataclass(frozen=True)
class DemoTls:
    ca_file: Path  # PEM: what clients trust
    cert_file: Path  # PEM: the server's certificate
    key_file: Path  # PEM: the server's private key (mode 0600)


def _usage(*, server: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not server,
        crl_sign=not server,
        encipher_only=False,
        decipher_only=False,
    )


def make_tls(directory: Path, host: str = "127.0.0.1") -> DemoTls:
    """A CA and a certificate for ``host`` (an IP address, as a subjectAltName) under ``directory``.

    The extensions are the ones strict verifiers require (Python 3.13 turns on X509_STRICT): a CA with
    basicConstraints and keyCertSign, a leaf with serverAuth, SKI/AKI linking the two."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tessera demo CA (throwaway)")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(server=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + LIFETIME)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(server=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    tls = DemoTls(directory / "demo-ca.pem", directory / "issuer-cert.pem", directory / "issuer-key.pem")
    tls.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tls.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.key_file.touch(mode=0o600)
    tls.key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return tls


# --- the verifier's TOML ----------------------------------------------------------------------------


def _retarget(table: dict[str, Any], vct: str) -> dict[str, Any]:
    """A policy table with every dc+sd-jwt query asking for ``vct``, its query as ``dcql_json``."""
    table = copy.deepcopy(table)
    query = json.loads(table.pop("dcql_json")) if "dcql_json" in table else table.pop("dcql")
    for credential in query.get("credentials", []):
        if credential.get("format") == "dc+sd-jwt":
            credential.setdefault("meta", {})["vct_values"] = [vct]
    table["dcql_json"] = json.dumps(query, ensure_ascii=False)
    return table


def demo_config(example: dict[str, Any], *, issuer_did: str, issuer_url: str, vct: str) -> dict[str, Any]:
    """The example's policies, trusting the demo issuer (see the module docstring)."""
    policies = example.get("policies")
    if not isinstance(policies, dict) or not policies:
        raise ConfigError("the example verifier config has no [policies]")
    name = "Demo civil registry"
    return {
        "client": {"name": dict(VERIFIER_NAME)},
        "trust": {
            "issuers": [
                {"did": issuer_did, "name": name, "types": [vct, "BirthCertificate"]},
                {"did": issuer_url, "name": name, "types": [vct]},
            ]
        },
        "policies": {policy: _retarget(table, vct) for policy, table in policies.items()},
    }


# --- a TOML writer for exactly the shapes above ------------------------------------------------------


def _key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else _string(name)


def _string(text: str) -> str:
    # A JSON string is a TOML basic string, except that TOML wants DEL escaped too.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise ConfigError(f"the demo cannot write {type(value).__name__} values to TOML")


def to_toml(config: dict[str, Any]) -> str:
    lines = ["# Generated by `tessera demo` from verifier/examples/verifier.toml (see wallet/demo/config.py).", ""]
    lines += ["[client]", f"name = {_value(config['client']['name'])}", ""]
    for entry in config["trust"]["issuers"]:
        lines += ["[[trust.issuers]]", *(f"{_key(k)} = {_value(v)}" for k, v in entry.items()), ""]
    for policy, table in config["policies"].items():
        lines += [f"[policies.{_key(policy)}]", *(f"{_key(k)} = {_value(v)}" for k, v in table.items()), ""]
    return "\n".join(lines)


def write_verifier_config(path: Path, *, issuer_did: str, issuer_url: str, vct: str) -> dict[str, Any]:
    """Write the demo verifier's TOML to ``path`` and return what it holds (as :mod:`tomllib` reads it)."""
    source = example_path("verifier", "examples", "verifier.toml")
    try:
        example = tomllib.loads(source.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}") from exc
    config = demo_config(example, issuer_did=issuer_did, issuer_url=issuer_url, vct=vct)
    text = to_toml(config)
    if tomllib.loads(text) != config:  # the writer's own check: what the verifier reads is what was meant
        raise ConfigError("the demo wrote a verifier config that does not read back the same")
    path.write_text(text, encoding="utf-8")
    return config
