from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.providers.falso import ServidorFalso, servidor_falso


@pytest.fixture
def falso() -> Iterator[ServidorFalso]:
    with servidor_falso() as servidor:
        yield servidor
