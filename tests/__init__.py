"""The tests, by module of the product.

* ``test_*.py``: unit tests of ``digest`` and ``storage`` (a real SQLite file from the
  ``db`` fixture in ``conftest``), the sender and rate limiter, settings and the CLI.
* ``chat/``: the handlers on a real ``Application`` whose requests go to ``offline.py``
  (PTB's offline ``BaseRequest`` pattern; Telegram's rules from ``botapi.rules``), one
  module per ``bot.chat`` module, plus forged callback data.
* ``e2e/``: the running bot against ``botapi/``, the local Bot API stand-in (HTML parse
  errors, lengths, 64-byte callback data, 403, 429, outages), and ``newsdigest run``.
"""
