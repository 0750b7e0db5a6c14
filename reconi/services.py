"""What every app's services share: the transaction a public service runs in."""

from django.db import transaction


def service(func):
    """A public service: one durable transaction of its own, never part of a caller's.

    Another service that needs the same work inside its own transaction calls
    ``func.nested`` (a savepoint there). ``tests/test_services_durable.py`` holds
    every public service to this.
    """
    durable = transaction.atomic(durable=True)(func)
    durable.nested = transaction.atomic(func)
    return durable
