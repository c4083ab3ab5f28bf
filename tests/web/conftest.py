"""Fixtures the web tests share with the command-line and exchange tests."""

from tests.commands.conftest import jnx  # noqa: F401
from tests.exchange.test_conflicts import cases, run  # noqa: F401
