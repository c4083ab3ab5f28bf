"""The JOSE profile's own primitives against their definitions (the envelopes built on them are tested in
test_envelope and, against jwcrypto and npm jose, in test_interop)."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from hypothesis import given
from hypothesis import strategies as st

from jnx.security.jose_profile import _EMPTY_PARTIES_INFO, _kek, _other_info


@given(st.binary(min_size=32, max_size=32), st.binary(max_size=40), st.binary(max_size=40))
def test_the_key_encryption_key_is_the_concat_kdf_of_rfc_7518(shared: bytes, apu: bytes, apv: bytes) -> None:
    for other_info in (_other_info(apu, apv), _EMPTY_PARTIES_INFO):
        assert _kek(shared, other_info) == ConcatKDFHash(hashes.SHA256(), 32, other_info).derive(shared)
