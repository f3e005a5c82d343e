"""Keys: Ed25519 and P-256 signing, JWK, Multikey, thumbprints, key files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from shared.crypto import Ed25519PrivateKey, Ed25519PublicKey, P256PrivateKey, P256PublicKey
from shared.errors import MalformedError, VerificationError
from shared.keys import (
    jwk_thumbprint,
    key_from_jwk,
    multikey_decode,
    multikey_encode,
    private_jwk,
    private_key_from_jwk,
    public_jwk,
    read_key_file,
    read_public_key_file,
    write_key_file,
)

# RFC 8037 Appendix A.1/A.2: an Ed25519 key and its signature of the A.4 signing input.
RFC8037_D = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_SIG = "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"


def test_ed25519_matches_rfc8037() -> None:
    key = Ed25519PrivateKey(RFC8037_D)
    assert public_jwk(key) == {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}
    signing_input = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    from shared.encoding import b64url_decode, b64url_encode

    assert b64url_encode(key.sign(signing_input)) == RFC8037_SIG
    key.public_key.verify(signing_input, b64url_decode(RFC8037_SIG))
    # RFC 8037 A.3: the thumbprint of that key.
    assert jwk_thumbprint(key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


@pytest.mark.parametrize("make", [Ed25519PrivateKey.generate, P256PrivateKey.generate])
def test_sign_verify_and_tamper(make) -> None:  # type: ignore[no-untyped-def]
    key = make()
    sig = key.sign(b"message")
    key.public_key.verify(b"message", sig)
    with pytest.raises(VerificationError) as err:
        key.public_key.verify(b"messagE", sig)
    assert err.value.code == "invalid_signature"
    with pytest.raises(VerificationError):
        make().public_key.verify(b"message", sig)
    with pytest.raises(VerificationError):
        key.public_key.verify(b"message", sig[:-1])


def test_thumbprint_ignores_members_outside_rfc7638() -> None:
    key = Ed25519PrivateKey(RFC8037_D)
    assert jwk_thumbprint({**public_jwk(key), "kid": "x", "use": "sig"}) == jwk_thumbprint(key)


def test_p256_jwk_and_multikey_round_trip() -> None:
    key = P256PrivateKey.generate()
    jwk = public_jwk(key)
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-256"
    assert key_from_jwk(jwk) == key.public_key
    mk = multikey_encode(key)
    assert mk.startswith("zDn")
    assert multikey_decode(mk) == key.public_key
    assert private_key_from_jwk(private_jwk(key)).public_key == key.public_key


def test_ed25519_multikey_prefix() -> None:
    key = Ed25519PrivateKey.generate()
    mk = multikey_encode(key)
    assert mk.startswith("z6Mk")
    assert multikey_decode(mk) == key.public_key
    assert isinstance(multikey_decode(mk), Ed25519PublicKey)


@pytest.mark.parametrize(
    "jwk",
    [
        None,
        [],
        {"kty": "OKP", "crv": "X25519", "x": RFC8037_X},
        {"kty": "OKP", "crv": "Ed25519"},
        {"kty": "OKP", "crv": "Ed25519", "x": 5},
        {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"},
        {"kty": "EC", "crv": "P-256", "x": RFC8037_X, "y": RFC8037_X},
        {"kty": "oct", "k": "AAAA"},
    ],
)
def test_bad_jwks_are_refused_with_invalid_key(jwk: object) -> None:
    with pytest.raises(MalformedError) as err:
        key_from_jwk(jwk)
    assert err.value.code == "invalid_key"


def test_private_jwk_with_mismatched_public_part_is_refused() -> None:
    jwk = private_jwk(Ed25519PrivateKey.generate())
    jwk["x"] = public_jwk(Ed25519PrivateKey.generate())["x"]
    with pytest.raises(MalformedError):
        private_key_from_jwk(jwk)


@pytest.mark.parametrize("bad", ["", "abc", "z", "z111", "uAAAA", 7])
def test_bad_multikeys_are_refused(bad: object) -> None:
    with pytest.raises(MalformedError):
        multikey_decode(bad)  # type: ignore[arg-type]


def test_key_file_is_private_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "issuer.jwk"
    key = Ed25519PrivateKey.generate()
    write_key_file(path, key)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_key_file(path).public_key == key.public_key
    assert read_public_key_file(path) == key.public_key
    assert not list(tmp_path.glob("*.tmp"))


def test_missing_or_garbage_key_file(tmp_path: Path) -> None:
    with pytest.raises(MalformedError):
        read_key_file(tmp_path / "nope")
    (tmp_path / "bad").write_text("{not json")
    with pytest.raises(MalformedError):
        read_key_file(tmp_path / "bad")


def test_p256_point_must_be_on_curve() -> None:
    with pytest.raises(MalformedError):
        P256PublicKey(b"\x04" + b"\x01" * 64)
