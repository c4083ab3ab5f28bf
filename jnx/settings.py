"""Typed settings, read once at the edge (cli, web) and passed down.

Precedence (highest first): explicit arguments → environment (``JNX_…``, ``__`` for nesting) →
defaults. Library code never reads ``os.environ``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
