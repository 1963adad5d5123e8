"""Faults the stand-in can play: outages, slow answers, a revoked token.

* :meth:`FaultInjection.outage` — for N seconds every call (``getUpdates`` only if asked)
  is answered with a 5xx (``"error"``), has its connection dropped unanswered (``"drop"``),
  or hangs until the outage is over and is then dropped unprocessed (``"hang"``).
* :meth:`FaultInjection.slow_answers` — slow but successful: the send is carried out at
  once (the message is delivered) and the answer only leaves after a delay, as when
  Telegram is overloaded; a client that gives up early and resends makes a duplicate.
* :meth:`FaultInjection.revoke_token` — from now on every call answers 401, as after
  /revoke in @BotFather.
* :meth:`FaultInjection.garble_next` — the next calls are carried out but answered with a
  body that is not JSON (a proxy's error page, a truncated answer).
"""

from __future__ import annotations

import time

from .state import ApiState

OUTAGE_MODES = ("error", "drop", "hang")


class FaultInjection(ApiState):
    """Outages, slow answers and a revoked token, switched on by tests or control calls."""

    def outage(
        self,
        seconds: float,
        *,
        mode: str = "error",
        status: int = 500,
        include_updates: bool = False,
    ) -> None:
        """Be down for ``seconds`` from now (see the module docstring for ``mode``)."""
        if mode not in OUTAGE_MODES:
            raise ValueError(f"outage mode must be one of {OUTAGE_MODES}, not {mode!r}")
        self._outage_until = time.monotonic() + seconds
        self._outage_mode = mode
        self._outage_status = status
        self._outage_updates = include_updates
        # Long polls already waiting would otherwise not notice the outage.
        if include_updates:
            self._wake_poller("outage")

    def end_outage(self) -> None:
        self._outage_until = 0.0

    def outage_left(self, method: str) -> float:
        """Seconds of outage ahead for a call of ``method`` arriving now (0: none)."""
        if method == "getUpdates" and not self._outage_updates:
            return 0.0
        return max(0.0, self._outage_until - time.monotonic())

    def slow_answers(
        self, seconds: float, *, method: str = "sendMessage", times: int | None = None
    ) -> None:
        """Answer ``method`` ``seconds`` late (the next ``times`` calls; None: until cleared)."""
        if seconds <= 0:
            self._slow.pop(method, None)
        else:
            self._slow[method] = (seconds, times)

    def answer_delay(self, method: str) -> float:
        """The delay to add to this call's answer (and count it against ``times``)."""
        entry = self._slow.get(method)
        if entry is None:
            return 0.0
        delay, left = entry
        if left is not None:
            if left <= 1:
                del self._slow[method]
            else:
                self._slow[method] = (delay, left - 1)
        return delay

    def revoke_token(self) -> None:
        self.token_revoked = True
        self._wake_poller("revoked")

    def restore_token(self) -> None:
        self.token_revoked = False

    def garble_next(self, method: str = "sendMessage", times: int = 1) -> None:
        self._garbled[method] = self._garbled.get(method, 0) + times

    def take_garbled(self, method: str) -> bool:
        left = self._garbled.get(method, 0)
        if left:
            self._garbled[method] = left - 1
        return bool(left)
