"""Getting messages out: the outbox sender, its rate budget and HTTP transport.

``digest_queue`` and ``push_queue`` turn due digests and confirmed pushes into outbox
rows (on the database thread); ``sender`` drains the outbox through ``ratelimit``'s
budget over ``transport``; ``push_progress`` edits a push's preview as it goes.
"""
