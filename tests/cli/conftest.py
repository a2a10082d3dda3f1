"""The CLI runs in-process here (click's CliRunner): keep the rules its targets register from
leaking into other tests."""

import pytest

from adcheck import registry


@pytest.fixture(autouse=True)
def _isolated_registry():
    with registry.scoped_rules():
        yield
