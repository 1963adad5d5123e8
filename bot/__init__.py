"""The Telegram side of newsdigest, in rooms by kind.

* ``app`` wires the Application (handlers, jobs, services); ``settings``, ``context``,
  ``jobs``, ``errors``, ``logs`` and ``db_thread`` (the database on its own thread)
  sit beside it.
* ``chat/``: the handlers, one module per feature.
* ``delivery/``: the outbox sender, rate limits, HTTP transport, digest and push queues.
* ``cli/``: the ``newsdigest`` command.
"""
