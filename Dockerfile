# The INT Desk sync endpoint (`int-desk serve`) as a container image: docs/deployment.md.
#   docker build -t int-desk-endpoint .
#   docker run -e INT_DESK_SERVER_DB=postgresql://intdesk@db/intdesk -e PGPASSWORD=... \
#       -p 8765:8765 int-desk-endpoint
# Stateless: every process of every host shares one PostgreSQL; nothing is kept in the container.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# pg_dump and pg_restore (15, as the compose file's PostgreSQL) for `int-desk admin backup/restore`.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin intdesk

WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY int_desk ./int_desk
COPY ui ./ui
COPY resources ./resources
COPY migrations ./migrations
RUN pip install . && rm -rf /src

WORKDIR /
USER intdesk
EXPOSE 8765
# Readiness: the database answers with this server's schema (503 otherwise).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request as u; sys.exit(u.urlopen('http://127.0.0.1:8765/v1/ready', timeout=4).status != 200)"]
ENTRYPOINT ["int-desk"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8765", "--workers", "2"]
