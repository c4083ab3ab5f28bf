"""Typed settings, read once at the edge (cli, web) and passed down.

Precedence (highest first): explicit arguments → environment (``JNX_…``, ``__`` for nesting) →
defaults. Library code never reads ``os.environ``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    map_processes: int = Field(
        default=1,
        ge=0,
        le=16,
        description="Helper processes that map and check the next pages of a run while it stores the current one; "
        "0 maps in the run's own process.",
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
