FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.lock .
RUN pip install --no-cache-dir -r requirements.lock gunicorn==23.0.0
COPY . .
ENV DJANGO_SETTINGS_MODULE=reconi.settings.production PYTHONUNBUFFERED=1
RUN SECRET_KEY=build ALLOWED_HOSTS=build MFA_ENCRYPTION_KEYS=build python manage.py collectstatic --noinput
CMD ["gunicorn", "reconi.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
