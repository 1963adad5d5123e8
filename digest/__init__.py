"""Pure core: parse, rank, cluster and render articles from plain values.

Nothing in this package touches Telegram or the database, so it is fast to test
and to benchmark.
"""
