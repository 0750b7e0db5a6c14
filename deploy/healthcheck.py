"""Container health check: GET /healthz on this container's gunicorn; exit 0 when it answers 200.

Sends the first ALLOWED_HOSTS name as Host and X-Forwarded-Proto: https, as the load
balancer would, so that neither the host check nor the HTTPS redirect answers instead.
Standard library only: it runs in the image without the project's settings.
"""

import http.client
import os
import sys


def main() -> int:
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost").split(",") if h.strip()]
    host = next((h.lstrip(".") for h in hosts if h != "*"), "localhost")
    connection = http.client.HTTPConnection("127.0.0.1", int(os.environ.get("PORT", "8000")), timeout=4)
    try:
        connection.request("GET", "/healthz", headers={"Host": host, "X-Forwarded-Proto": "https"})
        response = connection.getresponse()
        print(response.status, response.read(500).decode(errors="replace"))
        return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"unreachable: {exc}")
        return 1
    finally:
        connection.close()


if __name__ == "__main__":
    sys.exit(main())
