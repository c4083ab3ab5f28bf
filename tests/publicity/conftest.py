"""Fixtures of the 双公示 tests: the same as the exchange's (one set of fixtures, two folders)."""

from tests.exchange.conftest import *  # noqa: F403
