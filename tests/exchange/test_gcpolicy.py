"""While a run moves records the cyclic garbage collector runs rarely, and its setting comes back after."""

from __future__ import annotations

import gc

from jnx.exchange.gcpolicy import THRESHOLD, fewer_collections


def test_collections_are_rarer_inside_and_as_before_after() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == (THRESHOLD, *before[1:])
    assert gc.get_threshold() == before


def test_a_setting_already_rarer_is_left_alone_and_an_error_restores_the_old_one() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(50_000, *before[1:])
        with fewer_collections():
            assert gc.get_threshold()[0] == 50_000
        gc.set_threshold(*before)
        try:
            with fewer_collections():
                raise KeyError("a failing page")
        except KeyError:
            pass
        assert gc.get_threshold() == before
    finally:
        gc.set_threshold(*before)
