"""Rule 4: a means belongs to one person and is never transferred."""

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from tests.factories import UserFactory
from tests.rules.conftest import nothing_changes
from users.models import Means
from users.services import means_issue


def test_saving_a_means_with_another_owner_is_refused(bram, pim):
    means = Means.objects.get(owner=bram)
    means.owner = pim
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        means.save()
    assert excinfo.value.messages == ["A means belongs to one person and cannot be transferred."]
    assert Means.objects.get(pk=means.pk).owner == bram


def test_saving_a_means_for_the_same_owner_is_fine(bram):
    means = Means.objects.get(owner=bram)
    means.type = Means.Type.APP
    means.save()
    assert Means.objects.get(pk=means.pk).type == Means.Type.APP


def test_database_refuses_a_queryset_update_of_the_owner(postgresql_only, bram, pim):
    means = Means.objects.get(owner=bram)
    with pytest.raises(DatabaseError, match="never transferred"), transaction.atomic():
        Means.objects.filter(pk=means.pk).update(owner=pim)
    assert Means.objects.get(pk=means.pk).owner == bram


def test_database_allows_other_updates_of_a_means(postgresql_only, bram):
    means = Means.objects.get(owner=bram)
    Means.objects.filter(pk=means.pk).update(status=Means.Status.SUSPENDED)
    assert Means.objects.get(pk=means.pk).status == Means.Status.SUSPENDED


def test_issuing_a_means_creates_a_new_one_and_never_moves_an_existing_one(support, bram):
    newcomer = UserFactory()
    before = set(Means.objects.filter(owner=bram).values_list("pk", flat=True))
    means = means_issue(actor=support, owner=newcomer, level="EH3", years=3)
    assert means.pk not in before
    assert means.owner == newcomer
    assert set(Means.objects.filter(owner=bram).values_list("pk", flat=True)) == before


def test_a_person_has_at_most_one_active_means(support, bram):
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        means_issue(actor=support, owner=bram, level="EH3")
    assert excinfo.value.messages == [f"{bram} already has an active means; upgrade it instead."]
