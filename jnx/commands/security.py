"""Keys, envelopes, audit chain and the receiving side: ``jnx keys``, ``jnx envelope``,
``jnx audit``, ``jnx receiver``. The key store passphrase comes from the environment variable named
by ``JNX_KEY_PASSPHRASE_ENV`` (default ``JNX_KEY_PASSPHRASE``), never from an argument.

``jnx keys generate|rotate|retire|import-peer`` are admin actions: each appends one entry to the
audit chain of the configured database (kids, suites, uses, states and public-key thumbprints; never
a private key or the passphrase). The database is opened before the key store changes, so a database
that is not ready refuses the action instead of leaving it unaudited."""

from __future__ import annotations

import base64
import datetime as dt
import enum
import hashlib
import json
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from jnx.commands._output import JsonOption, emit
from jnx.errors import ConfigError
from jnx.settings import Settings

T = TypeVar("T")

keys_app = typer.Typer(help="jnx's own keys and its peers' public keys (by kid).", no_args_is_help=True)
envelope_app = typer.Typer(help="Seal and open envelopes by hand, to debug an integration.", no_args_is_help=True)
audit_app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)
receiver_app = typer.Typer(help="The receiving side for credit-platform operators.", no_args_is_help=True)


class SuiteChoice(str, enum.Enum):
    jose = "jose"
    sm = "sm"


class UseChoice(str, enum.Enum):
    sig = "sig"
    enc = "enc"


class KeyFormat(str, enum.Enum):
    jwk = "jwk"
    pem = "pem"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _store(need_passphrase: bool = True):  # type: ignore[no-untyped-def]
    from jnx.security.operator import key_store

    settings = Settings()
    passphrase = os.environ.get(settings.key_passphrase_env)
    if need_passphrase and not passphrase:
        raise ConfigError(
            f"the key store passphrase is not set: environment variable {settings.key_passphrase_env} is empty",
            hint=f"export {settings.key_passphrase_env}=… (never pass it as an argument)",
        )
    settings.ensure_home()
    return key_store(settings.home, passphrase)


def _record_row(record) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from jnx.services.keys import key_row

    return key_row(record).model_dump(mode="json")


AuditNote = Callable[[str, str, dict[str, object]], None]


@contextmanager
def _audit_chain() -> Iterator[AuditNote]:
    """``note(action, subject, details)`` appending to the audit chain of the configured database,
    opened (and checked at the current schema) before the caller changes any key."""
    from jnx.commands._context import audit, open_engine

    with open_engine(Settings()) as engine:
        yield lambda action, subject, details: audit(engine, action, subject, details)


def _thumbprint(jwk: dict[str, object]) -> str:
    """RFC 7638 SHA-256 thumbprint of a public EC key (its crv, kty, x, y): which key, not the key."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    digest = hashlib.sha256(json.dumps(members, sort_keys=True, separators=(",", ":")).encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _audited_key(store, record) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """What the audit chain keeps of a key: public facts only."""
    return {"kid": record.kid, "owner": record.owner.value, "suite": record.suite.value, "use": record.use.value,
            "alg": record.alg, "thumbprint": _thumbprint(dict(store.public_key(record.kid).jwk))}


def _now_in_grace(store, before: set[str]) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """The keys that were active in ``before`` and are now in their grace period."""
    return [{"kid": r.kid, "grace_until": r.grace_until.isoformat() if r.grace_until else None}
            for r in store.records() if r.kid in before and r.state.value == "grace"]


def _active(store) -> set[str]:  # type: ignore[no-untyped-def]
    return {r.kid for r in store.records() if r.state.value == "active"}


def _print_rows(rows: list[dict[str, object]]) -> None:
    for row in rows:
        grace = f" until {row['grace_until']}" if row["state"] == "grace" else ""
        name = f"  {row['name']}" if row["name"] else ""
        typer.echo(f"{row['kid']:<40} {row['owner']:<5} {row['suite']:<5} {row['use']:<4} {row['alg']:<15} {row['state']}{grace}{name}")


@keys_app.command("generate")
def keys_generate(
    suite: Annotated[SuiteChoice, typer.Option(help="jose (ES256, ECDH-ES+A256KW) or sm (jnx-sm: SM2, SM4-GCM).")] = SuiteChoice.jose,
    use: Annotated[UseChoice | None, typer.Option(help="sig or enc; both when omitted.")] = None,
    name: Annotated[str | None, typer.Option(help="A label shown by `jnx keys list`.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create jnx's own key(s); a new key replaces the active one of its suite and use (grace 7 days)."""
    from jnx.security.keys import KeyUse, Suite

    store = _store()
    uses = [KeyUse(use.value)] if use else list(KeyUse)
    with _audit_chain() as note:
        before = _active(store)
        records = [store.generate(Suite(suite.value), u, now=_now(), name=name) for u in uses]
        note("keys.generated", ",".join(r.kid for r in records),
             {"keys": [_audited_key(store, r) for r in records], "name": name, "grace": _now_in_grace(store, before)})
    emit({"keys": [_record_row(r) for r in records]}, as_json, lambda d: _print_rows(d["keys"]))


@keys_app.command("list")
def keys_list(as_json: JsonOption = False) -> None:
    """All keys: kid, owner (jnx or peer), suite, use, algorithm, state (the document of GET /api/v1/keys)."""
    from jnx.commands._context import cli_actor
    from jnx.services.context import Actor, ServiceContext
    from jnx.services.keys import list_keys

    settings = Settings()
    settings.ensure_home()
    found = list_keys(ServiceContext(session=None, settings=settings, actor=Actor.os_user(cli_actor())))  # type: ignore[arg-type]
    emit(found.model_dump(mode="json"), as_json, lambda d: _print_rows(d["keys"]) if d["keys"] else typer.echo("no keys yet: jnx keys generate"))


@keys_app.command("export-public")
def keys_export_public(
    kid: Annotated[str, typer.Argument(help="The key id.")],
    format: Annotated[KeyFormat, typer.Option("--format", help="jwk (RFC 7517) or pem.")] = KeyFormat.jwk,  # noqa: A002
    as_json: JsonOption = False,
) -> None:
    """Print a public key (never a private one) to give to a peer; --json: the document of GET /api/v1/keys/KID."""
    from jnx.commands._context import cli_actor
    from jnx.commands._output import dumps
    from jnx.services.context import Actor, ServiceContext
    from jnx.services.keys import export_public

    settings = Settings()
    found = export_public(ServiceContext(session=None, settings=settings, actor=Actor.os_user(cli_actor())),  # type: ignore[arg-type]
                          kid, "jwk" if format is KeyFormat.jwk else "pem")
    if as_json:
        emit(found.model_dump(mode="json"), True, lambda d: None)
        return
    typer.echo(dumps(found.jwk) if found.jwk is not None else (found.pem or "").rstrip("\n"))


@keys_app.command("import-peer")
def keys_import_peer(
    file: Annotated[Path, typer.Argument(help="The peer's public key: JWK (JSON) or PEM.")],
    kid: Annotated[str | None, typer.Option(help="Key id (required for PEM; overrides the JWK's).")] = None,
    use: Annotated[UseChoice | None, typer.Option(help="sig or enc (required for PEM).")] = None,
    name: Annotated[str | None, typer.Option(help="The peer's name, e.g. 信用山东.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a peer's public key (signature key to trust, or encryption key to seal to)."""
    from jnx.security.keys import KeyUse
    from jnx.security.operator import import_peer_file

    store = _store(need_passphrase=False)
    with _audit_chain() as note:
        record = import_peer_file(store, file, kid=kid, use=KeyUse(use.value) if use else None, name=name, now=_now())
        note("keys.peer_imported", record.kid, {**_audited_key(store, record), "name": name, "file": file.name})
    emit({"keys": [_record_row(record)]}, as_json, lambda d: _print_rows(d["keys"]))


@keys_app.command("rotate")
def keys_rotate(
    suite: Annotated[SuiteChoice, typer.Option(help="Which suite's keys to rotate.")] = SuiteChoice.jose,
    grace_days: Annotated[float, typer.Option(min=0, max=3650, help="How long the old keys still decrypt and verify.")] = 7.0,
    as_json: JsonOption = False,
) -> None:
    """New signing and encryption keys; the old ones stay usable for the grace period."""
    from jnx.security.keys import Suite

    store = _store()
    with _audit_chain() as note:
        before = _active(store)
        records = store.rotate(Suite(suite.value), now=_now(), grace=dt.timedelta(days=grace_days))
        note("keys.rotated", ",".join(r.kid for r in records),
             {"suite": suite.value, "grace_days": grace_days, "keys": [_audited_key(store, r) for r in records],
              "grace": _now_in_grace(store, before)})
    emit({"keys": [_record_row(r) for r in records]}, as_json, lambda d: _print_rows(d["keys"]))


@keys_app.command("retire")
def keys_retire(kid: Annotated[str, typer.Argument(help="The key id.")], as_json: JsonOption = False) -> None:
    """Stop using a key for good; jnx's private key file is deleted, the record kept."""
    store = _store(need_passphrase=False)
    with _audit_chain() as note:
        record = store.retire(kid, now=_now())
        note("keys.retired", record.kid, {**_audited_key(store, record), "private_key_deleted": record.owner.value == "jnx"})
    emit({"keys": [_record_row(record)]}, as_json, lambda d: _print_rows(d["keys"]))


@envelope_app.command("seal")
def envelope_seal(
    file: Annotated[Path, typer.Argument(help="The payload to send.")],
    to: Annotated[str, typer.Option("--to", help="The peer's encryption key id.")],
    content_type: Annotated[str, typer.Option(help="Media type of the payload.")] = "application/json",
    ttl_minutes: Annotated[float, typer.Option(min=0.1, max=10_080, help="Minutes until the envelope expires.")] = 10.0,
) -> None:
    """Sign FILE with jnx's current key and encrypt it to peer KID; print the compact envelope."""
    from jnx.security.operator import read_file, seal_to

    token = seal_to(_store(), to, read_file(file), now=_now(), ttl=dt.timedelta(minutes=ttl_minutes), content_type=content_type)
    typer.echo(token)


@envelope_app.command("open")
def envelope_open(
    file: Annotated[Path, typer.Argument(help="A file holding the compact envelope.")],
    key: Annotated[Path, typer.Option("--key", help="The recipient's private key: JWK, or PKCS#8 PEM (P-256).")],
    as_json: JsonOption = False,
) -> None:
    """Decrypt FILE, verify it against the known peers, print the payload and the checks passed."""
    from jnx.security.operator import open_with_key, read_file, read_private_key_file

    store = _store(need_passphrase=False)
    passphrase = os.environ.get(Settings().key_passphrase_env)
    opened = open_with_key(store, read_file(file), read_private_key_file(key, passphrase=passphrase), now=_now())
    data = {
        "payload": opened.payload.decode("utf-8", errors="replace"), "signer_kid": opened.signer_kid,
        "recipient_kid": opened.recipient_kid, "jti": opened.jti, "issued_at": opened.issued_at,
        "expires_at": opened.expires_at, "content_type": opened.content_type, "checks": list(opened.checks),
    }

    def render(d: dict[str, object]) -> None:
        for check in d["checks"]:  # type: ignore[attr-defined]
            typer.echo(f"ok  {check}", err=True)
        typer.echo(d["payload"])

    emit(data, as_json, render)


@audit_app.command("verify")
def audit_verify(
    head: Annotated[str | None, typer.Option(help="The head hash recorded elsewhere, to catch cut-off entries.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Walk the audit chain; exit 5 and name the seq of the first changed, removed or reordered entry."""
    from jnx.commands._context import open_engine
    from jnx.security.audit import verify_chain
    from jnx.security.audit_anchor import ANCHOR_FILE, AnchorLog, anchored_heads
    from jnx.security.audit_sql import SqlAuditStore
    from jnx.security.keys import KeyUse
    from jnx.security.keystore import KeyOwner
    from jnx.security.operator import key_store
    from jnx.store.db import SQLITE_BEGIN

    settings = Settings()
    store = key_store(settings.home, None)
    own = [store.public_key(r.kid) for r in store.records() if r.owner is KeyOwner.JNX and r.use is KeyUse.SIG]
    anchors = anchored_heads(AnchorLog(settings.home / ANCHOR_FILE).checkpoints(), own)
    # open_engine: a database not initialised says `jnx init` (exit 3), one not reachable says so (exit 4)
    with open_engine(settings) as engine:
        report = verify_chain(SqlAuditStore(engine, writer_options={SQLITE_BEGIN: "IMMEDIATE"}).entries(), expected_head=head,
                              anchors=anchors.heads)
    data = {"ok": True, "entries": report.entries, "head": report.head,
            "checkpoints": {"file": str(settings.home / ANCHOR_FILE), "signed": anchors.signed, "unsigned": anchors.unsigned}}

    def render(d: dict[str, object]) -> None:
        typer.echo(f"audit chain ok: {d['entries']} entries, head {d['head']}; "
                   f"{anchors.signed + anchors.unsigned} checkpoint(s) outside the database agree "
                   f"({anchors.signed} signed, {anchors.unsigned} unsigned)")
        if report.entries and not anchors.heads:
            typer.echo(f"warning: no checkpoint in {settings.home / ANCHOR_FILE}: entries cut off the end would go "
                       "unnoticed (give --head, or run audited commands from this home)", err=True)

    emit(data, as_json, render)


@receiver_app.command("serve")
def receiver_serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65_535, help="Port to listen on.")] = 8443,
    processes: Annotated[int, typer.Option(
        min=1, max=64, help="Server processes sharing the port (Linux SO_REUSEPORT) and receiver.db; one that ends stops all (exit 5).",
    )] = 1,
) -> None:
    """Run the reference receiving endpoint: POST /envelopes and /envelopes/batch → signed receipts
    (Ctrl-C or SIGTERM stops it)."""
    from jnx.security.operator import HomeReceiver, build_receiver
    from jnx.security.receiver_http import (
        ReceiverProcesses,
        make_server,
        serve_processes,
    )

    store = _store()
    settings = Settings()
    lifetime = dt.timedelta(hours=settings.envelope_max_lifetime_hours)  # JNX_ENVELOPE_MAX_LIFETIME_HOURS
    receiver = build_receiver(store, settings.home / "receiver.db", now=_now(), max_lifetime=lifetime)
    if processes > 1:
        receiver.store.close()  # type: ignore[attr-defined]  # the keys are usable; each process opens its own
        pool = ReceiverProcesses(HomeReceiver(settings.home, os.environ.get(settings.key_passphrase_env), lifetime),
                                 processes=processes, host=host, port=port)
        bound = pool.start()
        typer.echo(f"jnx receiver on http://{host}:{bound}/envelopes ({processes} processes, pids "
                   f"{', '.join(map(str, pool.pids))})", err=True)
        serve_processes(pool)
        return
    server = _bind(lambda: make_server(receiver, host, port), host, port)
    typer.echo(f"jnx receiver on http://{host}:{server.server_address[1]}/envelopes", err=True)
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)  # SIGTERM stops it as Ctrl-C does: exit 0
    try:
        server.serve_forever()
    except (KeyboardInterrupt, _Stopped):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()


class _Stopped(Exception):
    """SIGTERM arrived: leave ``serve_forever`` as Ctrl-C would."""


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise _Stopped


def _bind(make: Callable[[], T], host: str, port: int) -> T:
    """``make()`` a listening server; an address that cannot be bound is a ConfigError, not a traceback."""
    try:
        return make()
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                          hint="another program may use this port: stop it or choose another --port (or check --host)") from exc


def register(root: typer.Typer) -> None:
    """Add this module's commands and groups to the root app."""
    root.add_typer(keys_app, name="keys")
    root.add_typer(envelope_app, name="envelope")
    root.add_typer(audit_app, name="audit")
    root.add_typer(receiver_app, name="receiver")
