"""The database seen from async code: one connection on its own thread.

sqlite-utils is synchronous and a ``sqlite3`` connection belongs to the thread that
made it, so each :class:`DbThread` owns a single-thread executor and the connection
inside it. Handlers ``await services.db.run(storage_function, ...)`` and the event loop
never blocks on SQLite.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from sqlite_utils import Database

from storage.db import open_db

P = ParamSpec("P")
R = TypeVar("R")


class DbThreadClosed(RuntimeError):
    pass


class DbThread:
    def __init__(self, path: Path, *, name: str = "db", migrate: bool = True) -> None:
        self.path = path
        self._name = name
        self._migrate = migrate
        self._executor: ThreadPoolExecutor | None = None
        self._db: Database | None = None

    def __repr__(self) -> str:
        return f"DbThread({str(self.path)!r}, name={self._name!r})"

    async def open(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"db-{self._name}")
        loop = asyncio.get_running_loop()
        self._db = await loop.run_in_executor(
            self._executor, partial(open_db, self.path, migrate=self._migrate)
        )

    async def run(
        self, fn: Callable[Concatenate[Database, P], R], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        if self._executor is None or self._db is None:
            raise DbThreadClosed(f"{self!r} is not open")
        db = self._db
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(fn, db, *args, **kwargs))

    async def close(self) -> None:
        if self._executor is None:
            return
        db, self._db = self._db, None
        if db is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, db.close)
        self._executor.shutdown(wait=True)
        self._executor = None
