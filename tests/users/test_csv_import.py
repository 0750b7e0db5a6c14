"""Add users by CSV: bad files get a clear message, rows are checked per column, nothing saved while any is invalid."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from requests_app.csv_import import CsvFileError, parse_people_csv
from requests_app.models import Request
from tests.conftest import login

HEADER = "first_name,initials,last_name,date_of_birth,email,phone,level,years\n"
JAN = "Jan,J.P.,de Vries,1980-04-12,jan.devries@voorbeeld-bv1.nl,+31612345678,EH3,3\n"
PIET = "Piet,,Jansen,1975-01-30,piet.jansen@voorbeeld-bv1.nl,,EH2,1\n"


@pytest.fixture(autouse=True)
def english():
    """The parser's messages are asserted in English (the default language is Dutch)."""
    with translation.override("en"):
        yield


def upload(content: bytes | str, name="people.csv"):
    if isinstance(content, str):
        content = content.encode()
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_a_valid_file_gives_one_row_per_person():
    parsed = parse_people_csv(upload(HEADER + JAN + PIET))
    assert [row["first_name"] for row in parsed.rows] == ["Jan", "Piet"]
    assert parsed.lines == [2, 3]


def test_excel_dutch_semicolons_headers_and_bom_are_read():
    content = "\ufeffvoornaam;voorletters;achternaam;geboortedatum;e-mail;telefoon;niveau;jaren\n" + JAN.replace(
        ",", ";"
    )
    parsed = parse_people_csv(upload(content))
    assert parsed.rows[0]["email"] == "jan.devries@voorbeeld-bv1.nl"


def test_a_wrong_header_names_the_missing_and_unknown_columns():
    with pytest.raises(CsvFileError) as info:
        parse_people_csv(upload("name,mail\nJan,jan@x.nl\n"))
    message = str(info.value)
    assert "missing columns" in message and "first_name" in message and "'mail'" in message


def test_an_empty_file_is_refused():
    with pytest.raises(CsvFileError, match="empty"):
        parse_people_csv(upload(b""))


def test_a_10_mb_file_is_refused_without_reading_it():
    big = upload(HEADER + JAN * (10 * 1024 * 1024 // len(JAN)))
    with pytest.raises(CsvFileError, match="limit is 1 MB"):
        parse_people_csv(big)


def test_a_file_that_is_not_utf8_is_refused_with_how_to_fix_it():
    with pytest.raises(CsvFileError, match="UTF-8"):
        parse_people_csv(
            upload((HEADER + "Zoë,,Müller,1980-01-01,zoe.muller@voorbeeld-bv1.nl,,EH2,1\n").encode("latin-1"))
        )


@pytest.fixture
def manager_client(client, anna):
    login(client, anna)
    return client


def post_file(client, org, content):
    return client.post(
        "/en/manage/users/add/",
        {"action": "upload", "csv-organization": org.pk, "csv-file": upload(content)},
    )


def test_upload_shows_a_preview_and_makes_one_request_for_all_rows(manager_client, org):
    response = post_file(manager_client, org, HEADER + JAN + PIET)
    assert response.status_code == 302 and response["Location"].endswith("/manage/users/add/preview/")
    assert not Request.objects.exists()

    preview = manager_client.get("/en/manage/users/add/preview/")
    assert preview.content.decode().count('data-testid="preview-row" data-valid="1"') == 2

    response = manager_client.post("/en/manage/users/add/preview/", {"action": "submit"})
    request = Request.objects.get()
    assert response["Location"].endswith(f"/manage/requests/{request.pk}/")
    assert [p.first_name for p in request.payload_for_new_means().people] == ["Jan", "Piet"]
    assert "users_add_csv" not in manager_client.session


def test_bad_rows_are_shown_per_column_and_nothing_is_saved(manager_client, org, anna):
    someone_else = "Kees,,Bakker,1970-02-02,anna.dejong@voorbeeld-bv1.nl,,EH2,1\n"
    bad_level_and_years = "Sara,,Smit,1990-03-03,sara.smit@voorbeeld-bv1.nl,,EH1,2\n"
    post_file(manager_client, org, HEADER + JAN + JAN + someone_else + bad_level_and_years)

    html = manager_client.get("/en/manage/users/add/preview/").content.decode()
    assert html.count('data-valid="0"') == 3
    assert "The same address is already on row 1." in html
    assert "already belongs to someone else" in html or "does not look like the own address" in html
    assert "Choose a level: EH2, EH2+, EH3 or EH4." in html
    assert "Choose a period of 1, 3 or 5 years." in html

    response = manager_client.post("/en/manage/users/add/preview/", {"action": "submit"}, follow=True)
    assert "row(s) have errors" in response.content.decode()
    assert not Request.objects.exists()
    assert "users_add_csv" in manager_client.session  # the upload is kept for the preview


def test_submit_only_the_valid_rows(manager_client, org):
    post_file(manager_client, org, HEADER + JAN + "Kees,,Bakker,1970-02-02,info@gmail.com,,EH2,1\n")
    manager_client.post("/en/manage/users/add/preview/", {"action": "submit_valid"})
    request = Request.objects.get()
    assert [p.first_name for p in request.payload_for_new_means().people] == ["Jan"]


def test_a_bad_file_keeps_the_chosen_organisation_and_says_why(manager_client, org):
    response = post_file(manager_client, org, b"")
    html = response.content.decode()
    assert response.status_code == 200
    assert "The file is empty" in html or "The submitted file is empty" in html
    assert f'value="{org.pk}" selected' in html
    assert not Request.objects.exists()


def test_uploading_for_an_organisation_i_do_not_manage_is_refused(manager_client, other_org):
    response = post_file(manager_client, other_org, HEADER + JAN)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert "users_add_csv" not in manager_client.session
