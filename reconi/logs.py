"""Logging: one JSON object per line on stderr, each carrying the id of the request it belongs to.

``RequestIdMiddleware`` (first in MIDDLEWARE) takes a sane ``X-Request-ID`` from the
proxy or makes one, keeps it in a context variable for every log record of the request
and returns it in the ``X-Request-ID`` response header, so that a user's error page, the
proxy's access log and the traceback meet on one id. Unhandled exceptions are logged by
Django's ``django.request`` logger with their traceback; ``JsonFormatter`` turns each
record into one line (the traceback included, escaped), which log collectors read as
one event.
"""

import contextvars
import datetime
import json
import logging
import re
import uuid

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
# Attributes every LogRecord has; anything else was passed with ``extra=`` and is kept.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or request_id_var.get(),
        }
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            event["stack"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in event:
                if key == "request" and hasattr(value, "path"):  # django.request passes the request
                    event["method"], event["path"] = value.method, value.path
                    continue
                event[key] = value if isinstance(value, str | int | float | bool | None) else repr(value)
        return json.dumps(event, ensure_ascii=False, default=str)


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response
