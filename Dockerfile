# The Gridwatch image: every process of compose.yaml (serve, ingest, the jobs, the console) runs it.
FROM python:3.11-slim-bookworm

# pg_dump/pg_restore/psql for `gridwatch backup` and `restore` (bookworm's client is 15, the same
# major version as the PostGIS image in compose.yaml); a CJK font for the report charts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*

COPY --from=ghcr.io/astral-sh/uv:0.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never

WORKDIR /app
# Dependencies first, so a code change does not re-download them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY grid grid
COPY geodata geodata
COPY sync sync
COPY server server
COPY console console
COPY fieldapp fieldapp
RUN uv sync --frozen --no-dev

ENV PATH="/app/.venv/bin:$PATH" \
    GRIDWATCH_HOST=0.0.0.0 \
    GRIDWATCH_LOG_FORMAT=json \
    GRIDWATCH_MEDIA_DIR=/var/lib/gridwatch/media
RUN useradd --system --uid 10001 --home-dir /var/lib/gridwatch --create-home gridwatch \
    && mkdir -p /var/lib/gridwatch/media && chown -R gridwatch /var/lib/gridwatch
USER gridwatch
WORKDIR /var/lib/gridwatch
ENTRYPOINT ["gridwatch"]
CMD ["serve", "--no-migrate"]
