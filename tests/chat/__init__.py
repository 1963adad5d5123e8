"""Handler tests: one update at a time through the real handlers, offline (see harness)."""
