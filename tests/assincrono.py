"""Running a coroutine from a sync test, whatever else the session runs."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def rodar(corrotina: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: the e2e tests' Playwright (sync API) keeps an
    event loop running in the main thread for the whole session, and ``asyncio.run`` refuses to
    start inside a running loop."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, corrotina).result()
