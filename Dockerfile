# The platform's images (README: Topology), one build with three targets:
#   app     the Python application: gunicorn (pages and API), uvicorn (live streams), run_matcher, Celery
#   proxy   nginx, from Debian's packages (as scripts/system-deps.sh installs it for the benchmarks),
#           with the application's collected static files
#   backup  the base backups and the restore drill: PostgreSQL's own image (the database's major version,
#           whose server the drill starts on a restored copy) with the application beside it
# docker-compose.yml builds and runs them.

FROM python:3.11-slim-bookworm AS app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
# Pango and fonts for WeasyPrint (PDF exports: Latin, and WenQuanYi Micro Hei for Chinese names).
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt constraints.txt ./
RUN pip install -r requirements.txt
COPY . .
# collectstatic needs settings that load; the real secret comes from the environment at run time.
RUN SECRET_KEY=build-only DATABASE_URL=sqlite:////tmp/build.sqlite3 python manage.py collectstatic --noinput
# The media and seal-heads folders exist in the image and belong to the application's user, so the
# volumes mounted there (docker-compose.yml) start with that owner rather than root.
RUN useradd --create-home --uid 1000 carbon && mkdir -p /app/var/media /app/var/seal-heads && chown -R carbon /app/var
USER carbon
EXPOSE 8000
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi:application"]

FROM debian:bookworm-slim AS proxy
# (No service may start while packages install inside a build.)
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
    && apt-get update && apt-get install -y --no-install-recommends nginx-light gettext-base \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/*
COPY --from=app /app/var/static /srv/static
COPY deploy/nginx.conf.template /etc/nginx/nginx.conf.template
COPY deploy/proxy-start.sh /usr/local/bin/proxy-start
EXPOSE 8000
CMD ["proxy-start"]

FROM postgres:16-bookworm AS backup
# Debian's Python 3.11 (the app image's version) for manage.py restore_drill; Pango for WeasyPrint's import.
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt constraints.txt ./
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY . .
CMD ["sh", "/app/deploy/backup-start.sh"]
