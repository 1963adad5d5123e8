"""Every database access, as functions taking the ``Database`` first; grouped by table.

``db`` opens the file (WAL, migrations from ``schema``), holds the one write-transaction
helper, the time format and the key-value ``state``; ``articles`` writes articles and
reads them back as digest candidates; ``search`` finds related coverage and full-text
matches; ``topics``, ``readers``, ``schedules`` (who is due), ``outbox``, ``pushes``,
``files`` (the scan index and rejections), ``ingest`` (the folder scan) and ``stats``.
"""
