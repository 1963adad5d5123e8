"""Prometheus metrics on ``NEWSDIGEST_METRICS_LISTEN`` (optional), via prometheus-client.

Figures the database holds (outbox by status, readers, articles, rejected files) are
refreshed with the heartbeat; answers from the Bot API (429s included) and job
durations are counted as they happen. One registry per bot, no module globals.
"""

from __future__ import annotations

import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from storage.stats import Stats


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.api_answers = Counter(
            "newsdigest_telegram_answers",
            "Bot API answers by method and HTTP status",
            ["method", "status"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "newsdigest_telegram_429",
            "Bot API answers 429 Too Many Requests",
            registry=self.registry,
        )
        self.outbox = Gauge(
            "newsdigest_outbox_messages",
            "Outbox rows by status (sent, failed, pending, dropped)",
            ["status"],
            registry=self.registry,
        )
        self.readers = Gauge(
            "newsdigest_readers", "Readers by status", ["status"], registry=self.registry
        )
        self.articles = Gauge("newsdigest_articles", "Stored articles", registry=self.registry)
        self.rejected = Gauge(
            "newsdigest_rejected_files", "Article files rejected", registry=self.registry
        )
        self.job_seconds = Histogram(
            "newsdigest_job_seconds",
            "Duration of the digest tick and the folder scan",
            ["job"],
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120),
            registry=self.registry,
        )
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def on_answer(self, method: str, status: int) -> None:
        self.api_answers.labels(method, str(status)).inc()
        if status == 429:
            self.rate_limited.inc()

    def on_job(self, name: str, seconds: float) -> None:
        self.job_seconds.labels(name).observe(seconds)

    def on_stats(self, stats: Stats) -> None:
        for status, count in stats.outbox.items():
            self.outbox.labels(status).set(count)
        for kind in ("active", "stopped", "blocked"):
            self.readers.labels(kind).set(getattr(stats.readers, kind))
        self.articles.set(stats.articles)
        self.rejected.set(stats.rejected_files)

    def serve(self, host: str, port: int) -> None:
        """Start the /metrics HTTP server (a daemon thread); OSError if the port is taken."""
        self._server, self._thread = start_http_server(port, addr=host, registry=self.registry)

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
