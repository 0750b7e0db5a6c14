"""Every Manage page shows the four Manage tabs, the current one marked (issue: Users and Requests
were reachable only through a dropdown)."""

import re

import pytest

from tests.conftest import login

TABS = ["/manage/", "/manage/permissions/", "/manage/users/", "/manage/requests/"]


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/manage/", "/manage/"),
        ("/manage/permissions/", "/manage/permissions/"),
        ("/manage/permissions/new/", "/manage/permissions/"),
        ("/manage/users/", "/manage/users/"),
        ("/manage/users/add/", "/manage/users/"),
        ("/manage/requests/", "/manage/requests/"),
        ("/manage/requests/new/", "/manage/requests/"),
        ("/en/manage/users/", "/en/manage/users/"),
    ],
)
def test_every_manage_page_shows_the_four_tabs_with_the_current_one_marked(client, anna, path, current):
    login(client, anna)

    html = client.get(path).content.decode()

    nav = re.search(r'<nav class="manage-tabs.*?</nav>', html, re.S)
    assert nav, f"no Manage tabs on {path}"
    prefix = "/en" if path.startswith("/en/") else ""
    hrefs = re.findall(r'href="([^"]+)"', nav.group(0))
    assert hrefs == [prefix + tab for tab in TABS]
    marked = re.findall(r'href="([^"]+)" aria-current="page"', nav.group(0))
    assert marked == [current]


def test_pages_outside_manage_show_no_tabs(client, anna):
    login(client, anna)

    assert 'data-testid="manage-tabs"' not in client.get("/").content.decode()
