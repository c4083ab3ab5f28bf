"""Envelopes written by jnx open with JOSE libraries jnx does not use (jwcrypto; npm ``jose``), and
envelopes they write open in jnx — given only the platform's private key and jnx's public key."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from jwcrypto import jwe as jw_jwe
from jwcrypto import jwk as jw_jwk
from jwcrypto import jws as jw_jws

from jnx.security.envelope import MemoryReplayGuard, open_envelope, seal
from jnx.security.keys import PrivateKey
from tests.security.conftest import NOW, Parties

RECORD = json.dumps({"XK_XDR_MC": "济宁市某某餐饮有限公司", "XK_NR": "食品经营许可"}, ensure_ascii=False).encode()


def _private_jwk(key: PrivateKey) -> dict[str, str]:
    return json.loads(key.secret_jwk_bytes())


def test_jwcrypto_opens_an_envelope_sealed_by_jnx(jose_parties: Parties) -> None:
    token = seal(RECORD, signer=jose_parties.jnx_signing, recipient=jose_parties.platform_decryption.public(), now=NOW)

    platform_key = jw_jwk.JWK(**_private_jwk(jose_parties.platform_decryption))
    jnx_public = jw_jwk.JWK(**jose_parties.jnx_signing.public().to_jwk())
    outer = jw_jwe.JWE()
    outer.deserialize(token, key=platform_key)
    inner = jw_jws.JWS()
    inner.deserialize(outer.payload.decode())
    inner.verify(jnx_public)

    assert inner.payload == RECORD
    header = inner.jose_header
    assert header["kid"] == jose_parties.jnx_signing.kid
    assert {"jti", "iat", "exp"} <= set(header)


def test_jnx_opens_an_envelope_sealed_by_jwcrypto(jose_parties: Parties) -> None:
    signer = jw_jwk.JWK(**_private_jwk(jose_parties.jnx_signing))
    signed = jw_jws.JWS(RECORD)
    protected = {"alg": "ES256", "kid": jose_parties.jnx_signing.kid, "jti": "jwcrypto-1", "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 300}
    signed.add_signature(signer, None, json.dumps(protected))
    compact_jws = signed.serialize(compact=True)
    recipient = jw_jwk.JWK(**jose_parties.platform_decryption.public().to_jwk())
    encrypted = jw_jwe.JWE(
        compact_jws.encode(),
        json.dumps({"alg": "ECDH-ES+A256KW", "enc": "A256GCM", "kid": jose_parties.platform_decryption.kid, "cty": "JOSE"}),
    )
    encrypted.add_recipient(recipient)

    opened = open_envelope(
        encrypted.serialize(compact=True),
        decryption_keys=[jose_parties.platform_decryption],
        trusted_signers=[jose_parties.jnx_signing.public()],
        replay_guard=MemoryReplayGuard(),
        now=NOW,
    )
    assert opened.payload == RECORD
    assert opened.jti == "jwcrypto-1"


_NODE_SCRIPT = """
const jose = require('jose');
const [token, platformJwk, jnxJwk] = process.argv.slice(2).map((a, i) => i === 0 ? a : JSON.parse(a));
(async () => {
  const platformKey = await jose.importJWK(platformJwk, 'ECDH-ES+A256KW');
  const { plaintext } = await jose.compactDecrypt(token, platformKey);
  const jnxKey = await jose.importJWK(jnxJwk, 'ES256');
  const { payload, protectedHeader } = await jose.compactVerify(new TextDecoder().decode(plaintext), jnxKey);
  process.stdout.write(JSON.stringify({ payload: new TextDecoder().decode(payload), kid: protectedHeader.kid }));
})().catch((e) => { console.error(e); process.exit(1); });
"""


@pytest.fixture(scope="module")
def node_jose(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """npm's ``jose`` installed in a scratch folder, or None where node/npm or the registry are missing."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return None
    folder = tmp_path_factory.mktemp("node-jose")
    try:
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent", "jose@6"],
            cwd=folder, capture_output=True, text=True, timeout=180, check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        return None
    (folder / "open.js").write_text(_NODE_SCRIPT, "utf-8")
    return folder


def test_npm_jose_opens_an_envelope_sealed_by_jnx(jose_parties: Parties, node_jose: Path | None) -> None:
    if node_jose is None:
        pytest.skip("node/npm or the npm registry is not available here: the npm jose check is optional")
    now = dt.datetime.fromtimestamp(int(time.time()), dt.UTC)
    token = seal(RECORD, signer=jose_parties.jnx_signing, recipient=jose_parties.platform_decryption.public(), now=now)
    done = subprocess.run(
        ["node", "open.js", token, json.dumps(_private_jwk(jose_parties.platform_decryption)), json.dumps(jose_parties.jnx_signing.public().to_jwk())],
        cwd=node_jose, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result == {"payload": RECORD.decode(), "kid": jose_parties.jnx_signing.kid}


def test_jnx_opens_a_jwcrypto_envelope_whose_key_agreement_names_the_parties(jose_parties: Parties) -> None:
    # apu/apv (RFC 7518 §4.6.1) enter the Concat KDF: a receiver that ignored them could not decrypt
    signer = jw_jwk.JWK(**_private_jwk(jose_parties.jnx_signing))
    signed = jw_jws.JWS(RECORD)
    protected = {"alg": "ES256", "kid": jose_parties.jnx_signing.kid, "jti": "jwcrypto-apu", "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 300}
    signed.add_signature(signer, None, json.dumps(protected))
    encrypted = jw_jwe.JWE(
        signed.serialize(compact=True).encode(),
        json.dumps({"alg": "ECDH-ES+A256KW", "enc": "A256GCM", "kid": jose_parties.platform_decryption.kid, "cty": "JOSE",
                    "apu": "amt4", "apv": "cGxhdGZvcm0"}),
    )
    encrypted.add_recipient(jw_jwk.JWK(**jose_parties.platform_decryption.public().to_jwk()))
    opened = open_envelope(encrypted.serialize(compact=True), decryption_keys=[jose_parties.platform_decryption],
                           trusted_signers=[jose_parties.jnx_signing.public()], replay_guard=None, now=NOW)
    assert opened.payload == RECORD and opened.jti == "jwcrypto-apu"
