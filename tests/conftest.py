from __future__ import annotations

import os

# PTB 22 warns on every RetryAfter unless it may hand out timedeltas; with warnings as
# errors that warning would replace the 429 under test.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from storage.db import open_db
from tests.clock import ManualClock

DATA = Path(__file__).parent / "data"


@pytest.fixture
def seed_bytes() -> bytes:
    """The real article file from the upstream pipeline."""
    return (DATA / "seed.md").read_bytes()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "newsdigest.db"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty articles folder."""
    path = tmp_path / "articles"
    path.mkdir()
    return path


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    """A migrated database on a temporary SQLite file (WAL, like production)."""
    database = open_db(db_path)
    yield database
    database.close()


@pytest.fixture
def clock() -> ManualClock:
    """The bot's "now" in a test that drives time: the real time until the test moves it."""
    return ManualClock()
