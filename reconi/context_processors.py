from organizations.models import Organization


def navigation(request) -> dict:
    """Whether to show the Manage menu: only to users who manage something today."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"is_manager": False}
    return {"is_manager": Organization.objects.managed_by(user).exists()}
