from django.shortcuts import render
from django.utils import timezone

from authorizations.selectors import authorizations_of_user

from .selectors import means_of_user


def home(request):
    """My Reconi home: the logged-in user's own means and authorizations."""
    return render(
        request,
        "users/home.html",
        {
            "means_list": means_of_user(user=request.user),
            "authorizations": authorizations_of_user(user=request.user),
            "today": timezone.localdate(),
        },
    )
