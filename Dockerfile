# newsdigest: the bot in a container. Build: docker build -t newsdigest .
# The database lives in the /data volume, articles are read from the /articles volume.

FROM python:3.11-slim AS build
WORKDIR /src
# Only what the package needs (.dockerignore keeps the rest out of the context).
COPY pyproject.toml README.md ./
COPY bot bot
COPY digest digest
COPY storage storage
COPY examples examples
COPY tests/botapi tests/botapi
RUN python -m venv /opt/newsdigest \
    && /opt/newsdigest/bin/pip install --no-cache-dir --disable-pip-version-check . \
    && /opt/newsdigest/bin/newsdigest --version

FROM python:3.11-slim
ENV PATH=/opt/newsdigest/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NEWSDIGEST_DB=/data/newsdigest.db \
    NEWSDIGEST_ARTICLES=/articles
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin newsdigest \
    && mkdir -p /data /articles \
    && chown newsdigest:newsdigest /data /articles
COPY --from=build /opt/newsdigest /opt/newsdigest
USER newsdigest
WORKDIR /data
VOLUME ["/data", "/articles"]
# Webhook server (NEWSDIGEST_WEBHOOK_LISTEN=0.0.0.0:8443) and metrics (NEWSDIGEST_METRICS_LISTEN).
EXPOSE 8443 9108
# Healthy once the bot polls (or hears from the Bot API) and runs its digest tick.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["newsdigest", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["newsdigest"]
CMD ["run"]
