# The production image: installs requirements.lock and nothing else, runs as a non-root user.
# Web:    docker run IMAGE                         (gunicorn, deploy/gunicorn.conf.py)
# Worker: docker run IMAGE celery -A reconi worker -l info
# Beat:   docker run IMAGE celery -A reconi beat -l info -s /tmp/celerybeat-schedule
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core gettext postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home --home-dir /home/reconi reconi \
    && mkdir -p /var/reconi /tmp/prometheus && chown reconi:reconi /var/reconi /tmp/prometheus
WORKDIR /app
COPY requirements.lock .
# --no-deps: the lock pins every distribution; pip check fails the build when it misses one.
RUN pip install --no-cache-dir --no-deps -r requirements.lock && pip check
COPY . .
ENV DJANGO_SETTINGS_MODULE=reconi.settings.production \
    PYTHONUNBUFFERED=1 \
    RECONI_VAR_DIR=/var/reconi \
    STATIC_ROOT=/app/staticfiles \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    PORT=8000
RUN SECRET_KEY=build ALLOWED_HOSTS=build MFA_ENCRYPTION_KEYS=build python manage.py collectstatic --noinput
USER reconi
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["python", "deploy/healthcheck.py"]
CMD ["gunicorn", "reconi.wsgi:application", "--config", "deploy/gunicorn.conf.py"]
