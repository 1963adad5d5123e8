"""Getting messages out: the outbox sender, its rate budget and HTTP transport.

``digest_queue`` and ``push_queue`` turn due digests and confirmed pushes into outbox
rows (on the database thread); ``sender`` drains the outbox through ``ratelimit``'s
budget (``budget``: GCRA pacing plus a sliding log) over ``transport``, one unit of
``window`` per message until ``recorder`` has written its result; ``outcomes`` says what a
failed send means for its row; ``push_progress`` edits a push's preview as it goes.
"""
