"""Every database access, as functions taking the sqlite-utils ``Database`` first, by table.

* ``schema``: the migrations (append only); ``db``: opening the file, the one
  ``write_transaction`` helper, the stored time format and the key-value ``state``.
* ``articles`` (writes from ingestion, reads as digest candidates), ``search`` (related
  coverage, same-story titles, full-text search), ``topics``, ``readers`` (subscriptions,
  ``ReaderStatus``), ``schedules`` (who is due, moving readers on), ``outbox`` (queued
  messages, send results, deliveries; ``OutboxStatus``, ``MessageKind``), ``pushes``
  (breaking pushes; ``PushStatus``), ``follows`` (followed stories, their known
  coverage), ``files`` (the scan index and rejections;
  ``FileStatus``), ``ingest`` (the folder scan) and ``stats``.

Values cross this boundary converted: aware ``datetime``s, ``time``s and ``ZoneInfo``s,
``digest.keyboard`` rows and ``StrEnum`` statuses in; the text the database holds stays here.
"""
