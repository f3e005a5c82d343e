"""The demo verifier's config is the shipped example's policies, trusting the demo issuer (no services)."""

from __future__ import annotations

import json
import ssl
import tomllib
from pathlib import Path

import pytest

from wallet.demo.config import ConfigError, demo_config, make_tls, to_toml, write_verifier_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = tomllib.loads((ROOT / "verifier" / "examples" / "verifier.toml").read_text(encoding="utf-8"))
DID, URL, VCT = (
    "did:web:127.0.0.1%3A8443",
    "https://127.0.0.1:8443",
    "https://w3id.org/tessera/vct/birth-certificate/v1",
)


def test_the_shipped_policies_trust_the_demo_issuer(tmp_path: Path) -> None:
    written = write_verifier_config(tmp_path / "verifier.toml", issuer_did=DID, issuer_url=URL, vct=VCT)
    assert tomllib.loads((tmp_path / "verifier.toml").read_text(encoding="utf-8")) == written
    assert set(written["policies"]) == set(EXAMPLE["policies"]) == {"age-over-18", "school-enrolment", "parental-link"}
    assert [i["did"] for i in written["trust"]["issuers"]] == [DID, URL]
    assert "verifier" not in written  # deployment settings come from TESSERA_VERIFIER_* in the demo
    for name, table in written["policies"].items():
        shipped = EXAMPLE["policies"][name]
        query = json.loads(table["dcql_json"])
        original = json.loads(shipped["dcql_json"]) if "dcql_json" in shipped else shipped["dcql"]
        for asked, meant in zip(query["credentials"], original["credentials"], strict=True):
            assert asked["meta"]["vct_values"] == [VCT]  # the vct the issuer actually issues
            assert asked["claims"] == meant["claims"] and asked["format"] == meant["format"] == "dc+sd-jwt"
        assert {k: v for k, v in table.items() if k != "dcql_json"} == {
            k: v for k, v in shipped.items() if k not in ("dcql", "dcql_json")
        }


def test_the_toml_writer_escapes_what_toml_needs() -> None:
    config = demo_config(EXAMPLE, issuer_did=DID, issuer_url=URL, vct=VCT)
    config["policies"]["odd"] = {"purpose": {"en": 'quote " back\\slash \x7f tab\t é'}, "dcql_json": "{}"}
    assert tomllib.loads(to_toml(config)) == config
    config["policies"]["odd"]["when"] = 1.5
    with pytest.raises(ConfigError):
        to_toml(config)


def test_the_demo_ca_signs_a_certificate_for_loopback(tmp_path: Path) -> None:
    tls = make_tls(tmp_path)
    context = ssl.create_default_context(cafile=str(tls.ca_file))
    context.load_cert_chain(tls.cert_file, tls.key_file)  # the key matches the certificate
    assert oct(tls.key_file.stat().st_mode & 0o777) == "0o600"
