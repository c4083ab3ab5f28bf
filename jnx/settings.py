"""Typed settings, read once at the edge (cli, web) and passed down.

Precedence (highest first): explicit arguments → environment (``JNX_…``, ``__`` for nesting) →
defaults. Library code never reads ``os.environ``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from jnx.adapters.config import SecretRef  # secrets by reference ({env: NAME} or {store: NAME}), as in registrations


class AccountSettings(BaseModel):
    """The identity rules of 等保2.0 level 3 (issue 16); ``JNX_ACCOUNTS__…`` in the environment."""

    password_min_length: int = Field(default=8, ge=8, le=128, description="Fewest characters in a password.")
    password_min_classes: int = Field(
        default=3, ge=1, le=4, description="Of the four classes (lower, upper, digit, other), how many a password needs."
    )
    password_history: int = Field(default=5, ge=0, le=24, description="A new password may not be one of the last N.")
    password_max_age_days: int = Field(default=90, ge=0, description="Days before a password must change; 0: never.")
    change_on_first_login: bool = Field(
        default=True, description="A password set by someone else (add, reset) must be changed at the next login."
    )
    lockout_threshold: int = Field(default=5, ge=1, le=100, description="Wrong passwords in a row that lock an account.")
    lockout_minutes: int = Field(default=15, ge=1, description="How long a lock lasts unless a security administrator unlocks.")
    session_idle_minutes: int = Field(default=30, ge=1, description="A session unused this long ends.")
    session_absolute_hours: int = Field(default=8, ge=1, description="A session ends this long after login, used or not.")
    totp_required_roles: list[str] = Field(
        default_factory=lambda: ["system-admin", "security-admin", "audit-admin"],
        description="Roles whose holders must log in with a TOTP code (two factors).",
    )
    login_limit_per_account: int = Field(
        default=10, ge=1, description="Login attempts one account may see per window (beyond the lockout)."
    )
    login_limit_per_address: int = Field(default=30, ge=1, description="Login attempts one address may make per window.")
    login_limit_window_seconds: int = Field(default=300, ge=1, description="The window of the login rate limits.")
    token_default_days: int = Field(default=90, ge=1, description="How long a new API token lasts unless told.")
    token_max_days: int = Field(default=366, ge=1, description="The longest an API token may last.")
    cookie_secure: bool | None = Field(
        default=None,
        description="Mark the session cookie Secure: true behind TLS; unset: when the request came over https.",
    )
    argon2_time_cost: int = Field(default=3, ge=1, description="Argon2id passes (benchmarks/bench_login.py prints the cost).")
    argon2_memory_kib: int = Field(default=65536, ge=8, description="Argon2id memory in KiB (64 MiB).")
    argon2_parallelism: int = Field(default=1, ge=1, description="Argon2id lanes.")


class _Check(BaseModel):
    enabled: bool = Field(default=True, description="Evaluate this alert.")
    every_minutes: float = Field(default=0.0, ge=0, description="In jnx serve, at most this often (0: every evaluation).")


class AuditBrokenCheck(_Check):
    every_minutes: float = Field(default=60.0, ge=0, description="Verifying reads the whole chain: hourly by default.")


class SystemLateCheck(_Check):
    factor: float = Field(default=3.0, gt=0, description="Late after this many schedule intervals with no successful run.")


class OutboxStaleCheck(_Check):
    minutes: float = Field(default=60.0, gt=0, description="Outbox items waiting longer than this open an alert.")


class DisclosureDueCheck(_Check):
    workdays: int = Field(default=1, ge=0, le=7, description="A deadline within this many working days, not acknowledged.")


class KeyExpiringCheck(_Check):
    days: int = Field(default=30, ge=1, description="Alert this many days before one of jnx's own keys is due for rotation.")
    max_age_days: int = Field(default=365, ge=1, description="An active key of jnx's is due for rotation this long after it was made.")


class LineDownCheck(_Check):
    timeout_seconds: float = Field(default=5.0, gt=0, le=60, description="Probe timeout of a line.")


class AlertSettings(BaseModel):
    """Alerts evaluated by ``jnx serve`` (and ``jnx alerts check``); ``JNX_ALERTS__…`` in the environment."""

    enabled: bool = Field(default=True, description="Evaluate alerts in jnx serve.")
    interval_seconds: float = Field(default=60.0, ge=1, description="Seconds between two evaluations in jnx serve.")
    system_late: SystemLateCheck = Field(default_factory=SystemLateCheck)
    line_down: LineDownCheck = Field(default_factory=LineDownCheck)
    outbox_stale: OutboxStaleCheck = Field(default_factory=OutboxStaleCheck)
    disclosure_due: DisclosureDueCheck = Field(default_factory=DisclosureDueCheck)
    audit_broken: AuditBrokenCheck = Field(default_factory=AuditBrokenCheck)
    key_expiring: KeyExpiringCheck = Field(default_factory=KeyExpiringCheck)
    webhook_url: str | None = Field(default=None, description="POST each opened and resolved alert here (JSON, signed).")
    webhook_secret: SecretRef | None = Field(default=None, description="The HMAC-SHA256 key of the webhook's signature.")
    email_to: list[str] = Field(default_factory=list, description="Send each opened and resolved alert to these addresses.")
    email_from: str = Field(default="jnx@localhost", description="The From address of alert e-mails.")
    smtp_host: str = Field(default="localhost", description="SMTP server of the alert e-mails.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = Field(default=False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_user: str | None = Field(default=None, description="SMTP login user, if the server wants one.")
    smtp_password: SecretRef | None = Field(default=None, description="The SMTP password, by reference.")
    notify_attempts: int = Field(default=3, ge=1, le=10, description="Tries per notification within one evaluation.")
    notify_passes: int = Field(default=10, ge=1, description="Evaluations that retry a notification before it is failed.")
    notify_timeout_seconds: float = Field(default=10.0, gt=0, le=120)


class Settings(BaseSettings):
    """Everything jnx can be configured with."""

    model_config = SettingsConfigDict(env_prefix="JNX_", env_nested_delimiter="__", extra="ignore")

    home: Path = Field(default=Path(".jnx"), description="Data folder: SQLite database, keys, logs.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; PostgreSQL for many workers. Default: SQLite under home.",
    )
    key_passphrase_env: str = Field(
        default="JNX_KEY_PASSPHRASE",
        description="Name of the environment variable holding the passphrase of the key store.",
    )
    log_level: str = "INFO"
    log_format: str = Field(
        default="text",
        description="text: lines for people; json: one JSON object per line on stderr, with run, system, disclosure "
        "and request ids (docs/operations.md).",
    )
    metrics_token: str | None = Field(
        default=None,
        description="A bearer token that opens /metrics of `jnx web` to Prometheus from anywhere; unset: /metrics of "
        "`jnx web` answers loopback clients only (docs/operations.md).",
    )
    envelope_max_lifetime_hours: float = Field(
        default=168.0,
        gt=0,
        le=24 * 366,
        description="The longest exp − iat an envelope may have to be opened (jnx receiver serve); default 7 days.",
    )
    map_processes: int = Field(
        default=1,
        ge=0,
        le=16,
        description="Helper processes that map and check the next pages of a run while it stores the current one; "
        "0 maps in the run's own process.",
    )
    seal_processes: int = Field(
        default=2,
        ge=0,
        le=16,
        description="Helper processes that seal the outbox's envelopes and check its signed receipts, a batch at "
        "a time (batches of 20 or more); 0 does it in the pushing process.",
    )

    accounts: AccountSettings = Field(default_factory=AccountSettings, description="Passwords, lockout, sessions, TOTP.")
    alerts: AlertSettings = Field(default_factory=AlertSettings, description="Alerts: which, thresholds, webhook and e-mail.")
    run_lease_seconds: float = Field(
        default=300.0, ge=1, le=86_400,
        description="How long a worker's lease on a run lasts without a heartbeat; a crashed worker's run is taken over after it.",
    )
    department_run_cap: int = Field(
        default=2, ge=1, le=64, description="Runs of one department in flight at once across all workers (fair claiming).",
    )
    worker_heartbeat_seconds: float = Field(default=15.0, ge=1, le=3600, description="How often jnx serve writes its heartbeat.")
    idle_poll_seconds: float = Field(
        default=2.0, gt=0, le=3600,
        description="How often an idle worker looks for due work (on PostgreSQL it is woken by NOTIFY, and polls this rarely × 15).",
    )

    @property
    def effective_database_url(self) -> str:
        """The database URL in force: ``database_url`` or SQLite at ``home/jnx.db``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'jnx.db').resolve()}"

    def ensure_home(self) -> Path:
        """Create the data folder (mode 0700) if missing and return it."""
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.home
