"""The parser processes of a scan: chunks of files parsed by workers and by this process.

The scanning process is the only database writer, so it runs ahead of the workers (they
run at a lower priority) and parses chunks itself rather than wait for them.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor

from storage.examine import Job, Outcome, examine_files, examine_packed, unpack

PARALLEL_THRESHOLD = 400  # below this many files, worker start-up costs more than it saves
WORKER_NICENESS = 10  # parser processes yield the CPU to this one, the only writer


def examine_all(
    chunks: list[list[Job]],
    workers: int | None,
    while_waiting: Callable[[], bool],
    ahead: int = 2,
) -> Iterator[list[Outcome]]:
    """Outcomes chunk by chunk, in the order of ``chunks`` whoever parsed them.

    The order matters: when two files hold the same story, the later path wins, with
    any number of workers. When the workers' next results are not ready, this process
    first calls ``while_waiting`` (which says whether it did anything), then parses
    files itself.
    """
    total = sum(len(c) for c in chunks)
    if workers is None:
        cores = os.cpu_count() or 1
        # One core: a worker would only take turns with this process.
        count = cores if cores > 1 else 0
    else:
        count = workers
    if count < 1 or total < PARALLEL_THRESHOLD:
        for chunk in chunks:
            yield examine_files(chunk)
        return
    # ``ahead`` chunks queued (at least two per worker) keep the workers parsing while this
    # process writes a batch to the database; more would only be left to them at the end.
    ahead = max(2 * count, ahead)
    with _executor(count) as pool:
        # Chunks in order, each with its worker's future or, once parsed here, its result.
        queue: deque[tuple[list[Job], Future[bytes] | list[Outcome]]] = deque()
        submitted = in_flight = 0
        while submitted < len(chunks) or queue:
            while submitted < len(chunks) and in_flight < ahead:
                chunk = chunks[submitted]
                queue.append((chunk, pool.submit(examine_packed, chunk)))
                submitted += 1
                in_flight += 1
            head = queue[0][1]
            if isinstance(head, list) or head.done():
                queue.popleft()
                if isinstance(head, list):
                    yield head
                else:
                    in_flight -= 1
                    yield unpack(head.result())
            elif while_waiting():
                continue
            elif submitted < len(chunks):
                # The next results are not ready (workers starting, or busy): parse the
                # next chunk here rather than wait. It takes its place in the order.
                chunk = chunks[submitted]
                queue.append((chunk, examine_files(chunk)))
                submitted += 1
            elif _take_back(queue):
                in_flight -= 1
            else:
                queue.popleft()
                in_flight -= 1
                yield unpack(head.result())


def _take_back(
    queue: deque[tuple[list[Job], Future[bytes] | list[Outcome]]],
) -> bool:
    """Parse here the last chunk no worker has started yet; ``False`` if there is none.

    At the end of a scan this keeps this process busy instead of waiting for the
    workers to finish their queue.
    """
    for index in range(len(queue) - 1, 0, -1):
        chunk, slot = queue[index]
        if isinstance(slot, Future) and slot.cancel():
            queue[index] = (chunk, examine_files(chunk))
            return True
    return False


def _executor(count: int) -> Executor:
    # forkserver: workers start from a clean process, not a fork of a threaded bot.
    if not sys.platform.startswith("linux"):
        return ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"))
    context = multiprocessing.get_context("forkserver")
    # The fork server imports the parser once; each scan's workers are forks of it
    # instead of fresh interpreters importing it again (a tenth of a second each). Takes
    # effect when the server starts, at the first scan of this process.
    context.set_forkserver_preload(["__main__", "storage.examine"])
    return ProcessPoolExecutor(count, mp_context=context, initializer=_worker_start)


def _worker_start() -> None:
    # This process writes every parsed file to the database, one after another: when
    # the cores are all busy it must not wait behind the parsers feeding it. (In the
    # running bot it also keeps the scan behind the bot's own work.)
    with contextlib.suppress(OSError):  # may not be allowed: then merely slower
        os.nice(WORKER_NICENESS)
