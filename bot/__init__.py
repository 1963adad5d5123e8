"""The Telegram side of newsdigest, in rooms by kind.

* ``app`` only wires the Application (handlers in order, jobs, services); beside it
  ``settings`` (configuration, read once), ``context`` (the typed context and its
  services), ``jobs`` (folder scan, digest tick), ``errors`` (log, then tell the admins),
  ``logs`` (token redaction), ``db_thread`` (the database on its own thread) and
  ``markup`` (``digest.keyboard`` rows as PTB's ``InlineKeyboardMarkup``: the one place).
* ``chat/``: the handlers, one module per feature.
* ``delivery/``: the outbox sender, rate limits, HTTP transport, digest and push queues.
* ``cli/``: the ``newsdigest`` command.
"""
