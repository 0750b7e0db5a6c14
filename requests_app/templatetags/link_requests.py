"""``{% pending_link_requests user as links %}``: the link requests waiting for this user's answer."""

from django import template

from requests_app.models import Request

register = template.Library()


@register.simple_tag
def pending_link_requests(user):
    if not getattr(user, "is_authenticated", False):
        return Request.objects.none()
    return list(
        Request.objects.filter(kind=Request.Kind.LINK_USER, subject_user=user, status=Request.Status.AWAITING_SIGNATURE)
        .select_related("organization", "created_by")
        .defer("pdf", "signed_pdf")
        .order_by("created_at")
    )
