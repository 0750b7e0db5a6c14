from .models import Means


def means_of_user(*, user):
    return Means.objects.filter(owner=user).order_by("-valid_until")
