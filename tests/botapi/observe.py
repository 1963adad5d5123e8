"""What tests read back: messages per chat, waits for messages and edits, stats."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .records import SentMessage, Stats, WaitTimeout, max_in_window
from .rules import JsonDict
from .state import ApiState

Predicate = Callable[[SentMessage], bool]


class Observations(ApiState):
    """What tests read back: messages per chat, waits for messages and edits, stats."""

    def messages(self, chat_id: int) -> list[SentMessage]:
        """Bot messages in ``chat_id`` in send order (deleted ones included, flagged)."""
        return list(self._by_chat.get(chat_id, ()))

    def all_messages(self) -> list[SentMessage]:
        return list(self._all)

    def pending_updates(self) -> list[JsonDict]:
        """Updates queued and not yet confirmed by a getUpdates offset."""
        return [update.payload for update in self._updates]

    def clear_updates(self) -> None:
        """Drop all pending updates, as if the bot had confirmed them."""
        self._updates.clear()

    def unanswered_callback_queries(self) -> list[str]:
        return sorted(self._pending_queries)

    def stats(self) -> JsonDict:
        """The numbers ``GET /_stats`` serves."""
        stats = self._stats
        first = stats.times[0] if stats.times else 0.0
        return {
            "accepted": stats.accepted,
            "count_429": self.count_429,
            "per_chat": {str(chat): n for chat, n in stats.per_chat.items()},
            "duplicates": stats.duplicates,
            "accepted_times": [t - first for t in stats.times],
            "calls": len(self.calls),
            "errors": len(self.errors),
            "paid": stats.paid,
            # The busiest sliding second, and the most sends being handled at once.
            "max_per_second": max_in_window(stats.times),
            "in_flight_max": self.in_flight_max,
        }

    def reset_observations(self) -> None:
        """Forget calls, errors, counters and the message lists; chats and messages stay
        (old messages can still be edited), rate buckets are refilled."""
        self.calls = []
        self.errors = []
        self.count_429 = 0
        self.in_flight_max = self.in_flight
        self.callback_answers = {}
        self._all = []
        self._by_chat.clear()
        self._returned.clear()
        self._returned_edits.clear()
        self._stats = Stats()
        self._reset_buckets()

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Predicate | None = None,
        timeout: float = 5.0,
    ) -> SentMessage:
        """The first bot message in ``chat_id`` not yet returned by an earlier
        ``wait_for_message`` for that chat that matches ``predicate`` (already there or
        arriving within ``timeout``)."""

        def find() -> SentMessage | None:
            returned = self._returned[chat_id]
            for message in self._by_chat.get(chat_id, ()):
                if message.message_id not in returned and (predicate is None or predicate(message)):
                    returned.add(message.message_id)
                    return message
            return None

        found = await self._wait(chat_id, find, timeout)
        if found is not None:
            return found
        raise WaitTimeout(
            f"no new bot message in chat {chat_id} matching the predicate within {timeout}s; "
            f"{self._describe_chat(chat_id)}"
        )

    async def wait_for_edit(
        self,
        chat_id: int,
        message_id: int,
        predicate: Predicate | None = None,
        timeout: float = 5.0,
    ) -> SentMessage:
        """Wait until message ``message_id`` has an edit not yet returned by an earlier
        ``wait_for_edit`` and its current state matches ``predicate``."""
        key = (chat_id, message_id)

        def find() -> SentMessage | None:
            message = self._messages.get(key)
            if message is None or message.edits <= self._returned_edits.get(key, 0):
                return None
            if predicate is not None and not predicate(message):
                return None
            self._returned_edits[key] = message.edits
            return message

        found = await self._wait(chat_id, find, timeout)
        if found is not None:
            return found
        current = self._messages.get(key)
        state = (
            "it does not exist"
            if current is None
            else f"it has {current.edits} edit(s), text now {current.plain_text!r}"
        )
        raise WaitTimeout(
            f"no new edit of message {message_id} in chat {chat_id} matching the predicate "
            f"within {timeout}s; {state}"
        )

    async def _wait(
        self,
        chat_id: int,
        find: Callable[[], SentMessage | None],
        timeout: float,
    ) -> SentMessage | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = find()
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            waiter: asyncio.Future[None] = loop.create_future()
            self._chat_waiters[chat_id].add(waiter)
            try:
                await asyncio.wait({waiter}, timeout=remaining)
            finally:
                self._chat_waiters[chat_id].discard(waiter)

    def _describe_chat(self, chat_id: int) -> str:
        messages = self._by_chat.get(chat_id, [])
        if not messages:
            return "the bot sent nothing to this chat"
        returned = self._returned.get(chat_id, set())
        lines = [
            f"#{m.message_id}{' (already returned)' if m.message_id in returned else ''}"
            f"{' (deleted)' if m.deleted else ''}: {m.plain_text[:120]!r}"
            for m in messages
        ]
        return "messages in this chat:\n  " + "\n  ".join(lines)
