""" "Request new means" on the Permissions page: the add-user flow, and back to Permissions afterwards."""

import pytest
from django.urls import reverse
from django.utils import translation

from requests_app.models import Request
from tests.conftest import login

pytestmark = pytest.mark.usefixtures("english")


def en(name, **kwargs):
    with translation.override("en"):
        return reverse(name, kwargs=kwargs or None)


def person(org):
    return {
        "person-organization": org.pk,
        "person-first_name": "Jan",
        "person-last_name": "de Vries",
        "person-date_of_birth": "1980-04-12",
        "person-email": "jan.devries@voorbeeld-bv1.nl",
        "person-level": "EH3",
        "person-years": "3",
    }


def test_the_permissions_page_has_the_request_new_means_button(client, anna, org):
    login(client, anna)
    page = client.get(en("permission_list")).content.decode()
    assert f'href="{en("users_add")}?next={en("permission_list")}"' in page


def test_the_add_flow_returns_to_permissions_after_signing(client, anna, org, settings, tmp_path):
    settings.SIGNING_KEY_FILE = str(tmp_path / "key.pem")
    settings.SIGNING_CERT_FILE = str(tmp_path / "cert.pem")
    settings.SIGNING_DEV_CERT_AUTOCREATE = True
    login(client, anna)
    back = en("permission_list")
    add = client.get(en("users_add"), {"next": back}).content.decode()
    assert f'href="{back}"' in add  # the way back is offered from the start

    response = client.post(f"{en('users_add')}?next={back}", person(org))
    request = Request.objects.get(kind=Request.Kind.NEW_MEANS)
    assert response["Location"] == f"{en('request_detail', pk=request.pk)}?next=%2Fen%2Fmanage%2Fpermissions%2F"

    signed = client.post(response["Location"], {"action": "sign"})
    assert signed["Location"] == back
    request.refresh_from_db()
    assert request.status == Request.Status.SUBMITTED


@pytest.mark.parametrize("bad", ["https://evil.example/", "//evil.example/", "/manage/users/", "/en/admin/"])
def test_any_other_next_is_ignored(client, anna, org, bad):
    login(client, anna)
    response = client.post(f"{en('users_add')}?next={bad}", person(org))
    request = Request.objects.get(kind=Request.Kind.NEW_MEANS)
    assert response["Location"] == en("request_detail", pk=request.pk)
