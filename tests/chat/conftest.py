"""The ``offline`` fixture: the real handlers on an offline Bot API (see harness)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.chat.harness import Offline, offline_app


@pytest.fixture
async def offline(db_path: Path, tmp_path: Path) -> AsyncIterator[Offline]:
    async for app in offline_app(db_path, tmp_path):
        yield app
