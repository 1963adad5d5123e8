"""The Telegram side of newsdigest, in rooms by kind.

* ``app`` only wires the Application (handlers in order, jobs, services); beside it
  ``settings`` (configuration, read once), ``context`` (the typed context and its
  services), ``jobs`` (folder scan, digest tick), ``errors`` (log, then tell the admins),
  ``logs`` and ``redact`` (token and URL-credential redaction), ``db_thread`` (the
  database on its own thread), ``markup`` (``digest.keyboard`` rows as PTB's
  ``InlineKeyboardMarkup``: the one place) and ``stats_view`` (the /stats lines).
* ``chat/``: the handlers, one module per feature.
* ``delivery/``: the outbox sender, rate limits, HTTP transport, digest and push queues.
* ``service/``: the bot as a long-running service (run, start-up, health, metrics).
* ``cli/``: the ``newsdigest`` command.
"""
