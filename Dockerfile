# syntax=docker/dockerfile:1
# The bot's image. `docker build -t reenviar-bot .`; compose.yaml runs it with PostgreSQL.
# Socket Mode needs no port; HTTP mode serves Slack on PORT (README "Deploy").

# uv, pinned; only the build stage uses it.
FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

# --- build: a virtualenv from uv.lock, without the development tools -------------------
FROM python:3.11-slim-bookworm AS build
COPY --from=uv /uv /usr/local/bin/uv
# Bytecode compiled now (nothing written at start-up, a faster first import); files
# copied, not linked, from uv's cache; the image's Python, never a downloaded one.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# The dependencies first: this layer changes only with the lock.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-install-project --compile-bytecode
# Then the project, installed as a wheel: bot/, handlers/ and providers/ (no dev kit).
COPY README.md ./
COPY bot/ bot/
COPY handlers/ handlers/
COPY providers/ providers/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-editable --compile-bytecode

# --- runtime: the virtualenv and an unprivileged user -------------------------------
FROM python:3.11-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 reenviar \
    && useradd --system --uid 10001 --gid reenviar --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin reenviar \
    && mkdir /data \
    && chown reenviar:reenviar /data
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/data \
    PORT=3000
WORKDIR /app
# Numeric, so that orchestrators can tell it is not root (runAsNonRoot).
USER 10001:10001
# The outbox (and the SQLite history without DATABASE_URL): one volume per replica.
VOLUME ["/data"]
EXPOSE 3000
# What the bot drains its in-flight re-sends on (SHUTDOWN_GRACE_SECONDS).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/readyz', timeout=4)"]
CMD ["reenviar-bot", "serve"]
