"""JNX_LOG_FORMAT=json: everything a run writes to stderr — narration, progress, warnings, errors — is
one JSON object per line with the ids that tie it to its run, system, disclosure and request, and no
line holds a secret or a full ID number."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from jnx.ops.logs import JsonFormatter, JsonLines, json_objects, log_context, remember_secrets, scrub
from jnx.sandbox.runner import Credentials
from jnx.security.masking import is_valid_id_number
from jnx.security.trace import correlation

JNX = str(Path(sys.executable).with_name("jnx"))
CANDIDATE = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9])")


def _id_numbers(text_: str) -> set[str]:
    return {m for m in CANDIDATE.findall(text_) if is_valid_id_number(m)}


def test_the_demo_in_json_writes_only_json_objects_with_ids_and_no_secret_or_id_number(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JNX_")}
    env.update(JNX_HOME=str(tmp_path / "home"), JNX_LOG_FORMAT="json")
    done = subprocess.run([JNX, "demo", "--records", "120"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = json_objects(done.stderr.splitlines())  # ValueError on the first line that is not an object
    assert len(lines) >= 10
    for line in lines:
        assert {"ts", "level", "logger", "message", "request_id"} <= line.keys(), line
    assert len({line["request_id"] for line in lines}) == 1  # one command, one correlation id
    ran = [line for line in lines if line["message"].startswith("ran ")]
    assert len(ran) == 8 and all(isinstance(line["run_id"], int) and line["system"] in line["message"] for line in ran)
    assert all(line.get("system") == "jn-credit" for line in lines if line["message"].startswith("pushed disclosures"))

    secrets = [v for v in dataclasses.asdict(Credentials()).values() if "pass" in v or "secret" in v or "token" in v]
    assert len(secrets) >= 4
    for secret in secrets:
        assert secret not in done.stderr
    with create_engine(f"sqlite:///{tmp_path / 'home' / 'demo' / 'jnx.db'}").connect() as connection:
        stored = " ".join(str(row[0]) for row in connection.execute(text("SELECT payload FROM raw_records")))
    people = _id_numbers(stored)
    assert len(people) > 20  # the demo's sources do carry ID numbers …
    assert not _id_numbers(done.stderr)  # … and none reaches its stderr
    assert not [p for p in people if p in done.stderr]


def test_errors_and_hints_are_json_lines_too(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JNX_")}
    env.update(JNX_HOME=str(tmp_path / "home"), JNX_LOG_FORMAT="json")
    done = subprocess.run([JNX, "runs", "list"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3
    lines = json_objects(done.stderr.splitlines())
    assert [line["level"] for line in lines] == ["ERROR", "WARNING"]
    assert lines[0]["message"].startswith("error: ") and lines[1]["message"].startswith("hint: ") and "jnx init" in lines[1]["message"]
    env["JNX_LOG_FORMAT"] = "yaml"
    refused = subprocess.run([JNX, "runs", "list"], env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 3 and "JNX_LOG_FORMAT='yaml' is not a log format" in refused.stderr


def test_lines_carry_their_context_and_lose_secrets_and_id_numbers() -> None:
    out = io.StringIO()
    stream = JsonLines(out)
    remember_secrets({"JNX_SANDBOX_CREDIT_TOKEN": "tok-3f9a8c7e", "JNX_KEY_PASSPHRASE_ENV": "JNX_KEY_PASSPHRASE",
                      "HOME": "/root"})
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("jnx.test.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with correlation("req-12345678"), log_context(run_id=7, system="jn-case-handling"):
            stream.write("ran jn-case-handling: party 370811199002150027 with tok-3f9a8c7e\npartial ")
            logger.warning("disclosure %d rejected", 42, extra={"disclosure_id": 42})
            stream.write("line\r\x1b[2Kredrawn\n")
            try:
                raise RuntimeError("at postgresql://jnx:hunter2secret@db/jnx")
            except RuntimeError:
                logger.exception("failed")
        stream.write('{"already": "json"}\n')
        stream.flush()
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    first, disclosure, redrawn, failed, passed = lines
    assert first["message"] == "ran jn-case-handling: party 370811********0027 with ***"
    assert (first["run_id"], first["system"], first["request_id"]) == (7, "jn-case-handling", "req-12345678")
    assert disclosure["disclosure_id"] == 42 and disclosure["run_id"] == 7 and disclosure["level"] == "WARNING"
    assert redrawn["message"] == "redrawn"  # the carriage-return redraw keeps the last state only
    assert "hunter2secret" not in json.dumps(failed) and "RuntimeError" in failed["exception"]
    assert passed == {"already": "json"}
    assert scrub("export JNX_KEY_PASSPHRASE=…") == "export JNX_KEY_PASSPHRASE=…"  # a variable's name is no secret
