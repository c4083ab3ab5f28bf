"""The sandbox credit platform's receive step when pushes arrive sealed (JWS in JWE).

Every record of a push — each item of a batch, or the one record of a single push — travels as
``{"jnx_envelope": "<compact JWE>"}``; the platform opens each with its own decryption key and the
sender's trusted signing key (``jnx.security.envelope.open_envelope``, the receiving library a
platform operator uses), then validates the opened records as it does plain JSON ones.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any

from jnx.errors import SecurityError
from jnx.sandbox.credit import Unwrap, UnwrapError, plain_json
from jnx.security.envelope import open_envelope
from jnx.security.keys import PrivateKey, PublicKey

ENVELOPE_FIELD = "jnx_envelope"


def envelope_unwrap(decryption_keys: list[PrivateKey], trusted_signers: list[PublicKey],
                    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> Unwrap:
    """An unwrap that opens every sealed record and refuses anything sent in clear."""

    def open_one(record: Any) -> Any:
        if not isinstance(record, Mapping) or ENVELOPE_FIELD not in record:
            raise UnwrapError("每条记录都须为加密信封 (jnx_envelope)")
        try:
            opened = open_envelope(record[ENVELOPE_FIELD], decryption_keys=decryption_keys,
                                   trusted_signers=trusted_signers, replay_guard=None, now=clock())
        except SecurityError as exc:
            raise UnwrapError(f"信封无法打开: {exc}") from exc
        return json.loads(opened.payload)

    def unwrap(body: bytes, headers: Mapping[str, str]) -> Any:
        document = plain_json(body, headers)
        if isinstance(document, Mapping) and isinstance(document.get("records"), list):
            return {**document, "records": [open_one(r) for r in document["records"]]}
        return open_one(document)

    return unwrap
