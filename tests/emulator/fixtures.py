"""pytest fixtures for the emulator, registered for the whole suite by ``tests/conftest.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator.world import World, personalize_world


@pytest.fixture
def world() -> Iterator[World]:
    """A fresh emulated region per test: no state leaks between tests."""
    with personalize_world() as fresh:
        yield fresh
