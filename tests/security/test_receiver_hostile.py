"""The reference receiver against hostile requests: lengths that lie, chunked bodies, hostile
envelopes alone or inside a batch. Every one gets an HTTP answer (a JNX-ENV code for envelopes);
the valid items of a batch are still answered."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jnx.security.encoding import b64url
from jnx.security.receiver_http import make_server
from tests.security.test_receiver_http import _envelope, _factory


@pytest.fixture(scope="module")
def receiver_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    server = make_server(_factory(tmp_path_factory.mktemp("receiver"))(), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.1", server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join()


def _raw(address: tuple[str, int], request: bytes, *, then: bytes = b"") -> tuple[int, dict[str, Any]]:
    """Send ``request`` (and ``then``) on one connection; the status and JSON body of the answer."""
    with socket.create_connection(address, timeout=30) as connection:
        connection.sendall(request)
        if then:
            try:
                connection.sendall(then)
            except OSError:
                pass
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lengths = [int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")]
        while lengths and len(body) < lengths[0]:
            body += connection.recv(65536)
    status = int(head.split(b" ")[1])
    try:
        return status, json.loads(body)
    except ValueError:  # the server stack's own answer to framing it cannot parse (uvicorn: 400, text)
        return status, {"code": None, "text": body.decode("utf-8", "replace")}


@pytest.mark.parametrize("headers", [
    b"Content-Length: -1\r\n", b"Content-Length: +5\r\n", b"Content-Length: 5\r\nContent-Length: 7\r\n",
    b"Transfer-Encoding: chunked\r\n", b"Content-Length: 99999999999999999999\r\n", b"",
])
def test_a_length_header_cannot_bypass_the_body_limit(receiver_url: tuple[str, int], headers: bytes) -> None:
    request = b"POST /envelopes HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"
    status, body = _raw(receiver_url, request, then=b"a" * 100_000)
    # answered without reading on to the end of the stream: refused by jnx (411/413 with a code) or by
    # uvicorn's HTTP parser (400); without any length the body is empty (HTTP/1.1), a malformed envelope
    assert (status in (411, 413) and body["code"] in ("LENGTH-REQUIRED", "TOO-LARGE")) or (status == 400 and body["code"] is None) \
        or (not headers and status == 400 and body["code"] == "JNX-ENV-MALFORMED"), (status, body)


def test_a_chunked_body_is_cut_off_at_the_limit_whatever_it_claims(receiver_url: tuple[str, int]) -> None:
    from jnx.security.receiver_http import MAX_BODY

    chunk = b"a" * (1024 * 1024)
    request = b"POST /envelopes HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(MAX_BODY // len(chunk) + 2))
    status, answer = _raw(receiver_url, request, then=body)
    assert status == 413 and answer["code"] == "TOO-LARGE"


def _hostile_tokens() -> list[str]:
    deep = "[" * 100_000 + "]" * 100_000
    return [
        ".".join([b64url(json.dumps({"alg": "ECDH-ES+A256KW", "kid": ["x"]}).encode()), "a", "b", "c", "d"]),
        ".".join([b64url(json.dumps({"alg": {"a": 1}, "kid": "platform-enc"}).encode()), "a", "b", "c", "d"]),
        ".".join([b64url(f'{{"alg":"ECDH-ES+A256KW","kid":{deep}}}'.encode()), "a", "b", "c", "d"]),
        "....",
    ]


def test_hostile_envelopes_alone_get_a_coded_answer(receiver_url: tuple[str, int]) -> None:
    for token in _hostile_tokens():
        body = token.encode()
        status, answer = _raw(receiver_url, b"POST /envelopes HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        assert status == 400 and answer["code"] == "JNX-ENV-MALFORMED", answer


def test_one_hostile_item_does_not_sink_the_batch(receiver_url: tuple[str, int]) -> None:
    good = _envelope("k-hostile-batch")
    records = [{"jnx_envelope": t} for t in _hostile_tokens()] + [{"jnx_envelope": good}]
    body = json.dumps({"records": records}).encode()
    status, answer = _raw(receiver_url, b"POST /envelopes/batch HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert status == 200
    assert [r.get("code") for r in answer["results"]] == ["JNX-ENV-MALFORMED"] * 4 + [None]
    assert answer["results"][-1]["status"] == "accepted"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(st.one_of(st.text(max_size=40), st.binary(max_size=30).map(b64url),
                                st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3)), max_size=5))
def test_any_batch_gets_one_coded_answer_per_item(receiver_url: tuple[str, int], items: list[Any]) -> None:
    records = [{"jnx_envelope": ".".join([b64url(json.dumps(i).encode()), "a", "b", "c", "d"]) if isinstance(i, dict) else i}
               for i in items]
    body = json.dumps({"records": records}).encode()
    status, answer = _raw(receiver_url, b"POST /envelopes/batch HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert status == 200 and len(answer["results"]) == len(items)
    assert all(r["code"].startswith("JNX-ENV-") for r in answer["results"])
