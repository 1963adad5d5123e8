"""End-to-end: the real bot over HTTP against the local Bot API stand-in (tests.botapi)."""
