"""Telling people of alerts: a signed JSON webhook and e-mail (SMTP), with retries, every attempt recorded.

Each opened and each resolved alert is one *event*, pending on every configured channel until it is
sent. A delivery pass (:func:`deliver_pending`, after each evaluation) tries each pending event up to
``alerts.notify_attempts`` times (tenacity: exponential back-off, capped) and writes one row of
``alert_notifications`` per attempt; an event still unsent after ``alerts.notify_passes`` passes is
``failed`` and stays in the alert's ``notifications`` for the operator to see (`jnx alerts show ID`).

The webhook's body is JSON; its header ``X-Jnx-Signature-256: sha256=<hex>`` is HMAC-SHA256 over the
exact body bytes with the secret ``alerts.webhook_secret`` names (an environment variable or a secret
store entry — never the secret itself in settings). The body carries ``sent_at`` and the event's id,
so a receiver can refuse replays. docs/operations.md shows how to check it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import smtplib
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

import requests
from sqlalchemy import Engine, or_, select
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from jnx import __version__
from jnx.adapters.config import SecretResolver, resolve_secret
from jnx.adapters.urls import redact_url
from jnx.errors import ConfigError, TransientError
from jnx.ops.alerts import FAILED, PENDING, SENT, alert_row
from jnx.settings import AlertSettings
from jnx.store.db import dumps_json, session_factory, storage_errors
from jnx.store.models import Alert, AlertNotification, utcnow

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Jnx-Signature-256"
RESOLVED_KEPT = dt.timedelta(days=7)  # resolved alerts whose notification may still be pending


class NotifyError(TransientError):
    """A notification that did not get through this time (retried)."""


def signature(secret: str, body: bytes) -> str:
    """The value of :data:`SIGNATURE_HEADER` for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Channel(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def target(self) -> str:
        """Shown and recorded: no secret in it."""
        ...

    def send(self, event: str, alert: dict[str, Any]) -> str:
        """Send one event; the receiver's answer in words. ``NotifyError`` when it did not get through."""
        ...


def message(event: str, alert: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    return {"event": f"alert.{event}", "event_id": f"{alert['id']}:{event}", "sent_at": now, "source": {
        "service": "jnx", "version": __version__, "host": socket.gethostname()}, "alert": alert}


@dataclass
class Webhook:
    url: str
    secret: str
    timeout: float = 10.0
    session: requests.Session | None = None
    clock: Callable[[], dt.datetime] = utcnow
    name: str = "webhook"

    @property
    def target(self) -> str:
        return redact_url(self.url)

    def send(self, event: str, alert: dict[str, Any]) -> str:
        body = dumps_json(message(event, alert, self.clock())).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(self.secret, body),
                   "X-Jnx-Event": f"alert.{event}", "User-Agent": f"jnx/{__version__}"}
        http = self.session or requests
        try:
            answer = http.post(self.url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise NotifyError(f"webhook {self.target} unreachable: {type(exc).__name__}") from exc
        if answer.status_code >= 300:
            raise NotifyError(f"webhook {self.target} answered HTTP {answer.status_code}")
        return f"HTTP {answer.status_code}"


@dataclass
class Email:
    host: str
    port: int
    sender: str
    recipients: Sequence[str]
    starttls: bool = False
    user: str | None = None
    password: str | None = None
    timeout: float = 10.0
    name: str = "email"

    @property
    def target(self) -> str:
        return ", ".join(self.recipients)

    def compose(self, event: str, alert: dict[str, Any]) -> EmailMessage:
        mail = EmailMessage()
        state = "RESOLVED" if event == "resolved" else alert["severity"].upper()
        mail["Subject"] = f"[jnx {state}] {alert['summary']}"[:250]
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.recipients)
        lines = [alert["summary"], "", f"alert #{alert['id']} {alert['kind']} {alert['subject']} ({event})",
                 f"opened {alert['opened_at']}, updated {alert['updated_at']}"
                 + (f", resolved {alert['resolved_at']}" if alert["resolved_at"] else ""), ""]
        lines += [f"{key}: {value}" for key, value in alert["details"].items()]
        lines += ["", f"— jnx {__version__} on {socket.gethostname()}; `jnx alerts show {alert['id']}`"]
        mail.set_content("\n".join(lines))
        return mail

    def send(self, event: str, alert: dict[str, Any]) -> str:
        mail = self.compose(event, alert)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                refused = smtp.send_message(mail)
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifyError(f"SMTP {self.host}:{self.port}: {type(exc).__name__}: {exc}") from exc
        accepted = len(self.recipients) - len(refused)
        if not accepted:
            raise NotifyError(f"SMTP {self.host}:{self.port} refused every recipient")
        return f"accepted for {accepted} of {len(self.recipients)} recipient(s)"


def channels_from(settings: AlertSettings, secrets: SecretResolver, *, session: requests.Session | None = None) -> list[Channel]:
    """The channels the settings configure; a webhook without its secret is a ``ConfigError`` (unsigned
    alerts are not sent)."""
    found: list[Channel] = []
    if settings.webhook_url:
        if settings.webhook_secret is None:
            raise ConfigError("alerts.webhook_url is set but alerts.webhook_secret is not: alerts are only sent signed",
                              hint="set JNX_ALERTS__WEBHOOK_SECRET__ENV=NAME and the secret in the variable NAME")
        found.append(Webhook(settings.webhook_url, resolve_secret(secrets, settings.webhook_secret),
                             timeout=settings.notify_timeout_seconds, session=session))
    if settings.email_to:
        password = resolve_secret(secrets, settings.smtp_password) if settings.smtp_password else None
        found.append(Email(settings.smtp_host, settings.smtp_port, settings.email_from, list(settings.email_to),
                           starttls=settings.smtp_starttls, user=settings.smtp_user, password=password,
                           timeout=settings.notify_timeout_seconds))
    return found


def _send_with_retries(channel: Channel, event: str, alert: dict[str, Any], attempts: int,
                       record: Callable[[int, bool, str], None], wait_max: float) -> bool:
    """Up to ``attempts`` tries; ``record(attempt, ok, answer)`` after each. True when one got through."""
    def after(state: RetryCallState) -> None:
        if state.outcome is not None and state.outcome.failed:
            record(state.attempt_number, False, str(state.outcome.exception()))

    retrying = Retrying(stop=stop_after_attempt(attempts), retry=retry_if_exception_type(NotifyError),
                        wait=wait_exponential(multiplier=0.5, max=wait_max), after=after, reraise=True)
    try:
        for attempt in retrying:
            with attempt:
                answer = channel.send(event, alert)
                record(attempt.retry_state.attempt_number, True, answer)
    except NotifyError:
        return False
    return True


def deliver_pending(engine: Engine, channels: Sequence[Channel], settings: AlertSettings, *,
                    now: dt.datetime | None = None, wait_max: float = 4.0) -> dict[str, int]:
    """Send every pending event of recent alerts on its channel; how many were sent, failed for good, left pending."""
    now = now or utcnow()
    by_name = {c.name: c for c in channels}
    tally = {SENT: 0, FAILED: 0, PENDING: 0}
    with storage_errors(engine.url), session_factory(engine)() as session:
        alerts = list(session.scalars(select(Alert).where(or_(Alert.resolved_at.is_(None), Alert.resolved_at > now - RESOLVED_KEPT))
                                      .order_by(Alert.id)))
    for alert in alerts:
        state = json.loads(json.dumps(alert.notifications or {}))  # a copy to change
        changed = False
        for event in ("opened", "resolved"):
            for name, status in state.get(event, {}).items():
                channel = by_name.get(name)
                if status.get("state") != PENDING or channel is None:
                    continue
                changed = True
                _attempt(engine, alert, channel, event, status, settings, wait_max)
                tally[status["state"]] += 1
        if changed:
            with storage_errors(engine.url), session_factory(engine, immediate=True).begin() as session:
                row = session.get(Alert, alert.id)
                if row is not None:
                    row.notifications = {**(row.notifications or {}), **{e: {**(row.notifications or {}).get(e, {}), **v}
                                                                         for e, v in state.items()}}
    return tally


def _attempt(engine: Engine, alert: Alert, channel: Channel, event: str, status: dict[str, Any], settings: AlertSettings,
             wait_max: float) -> None:
    data = alert_row(alert)
    data.pop("notifications")
    done = int(status.get("attempts", 0))

    def record(attempt: int, ok: bool, answer: str) -> None:
        with storage_errors(engine.url), session_factory(engine, immediate=True).begin() as session:
            session.add(AlertNotification(alert_id=alert.id, event=event, channel=channel.name, target=channel.target,
                                          attempt=done + attempt, ok=ok, answer=answer[:2000], at=utcnow()))
        status["attempts"] = done + attempt
        status["answer"] = answer[:500]
        if not ok:
            log.warning("alert #%s %s: %s attempt %s failed: %s", alert.id, event, channel.name, done + attempt, answer)

    ok = _send_with_retries(channel, event, data, settings.notify_attempts, record, wait_max)
    status["passes"] = int(status.get("passes", 0)) + 1
    if ok:
        status["state"], status["sent_at"] = SENT, utcnow().isoformat()
    elif status["passes"] >= settings.notify_passes:
        status["state"] = FAILED
