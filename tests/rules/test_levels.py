"""AssuranceLevel: the order EH2 < EH2+ < EH3 < EH4 that rules 1, 2, 3 and 11 rely on."""

import pytest

from reconi.levels import AssuranceLevel

L = AssuranceLevel


def test_levels_are_ordered_eh2_eh2plus_eh3_eh4():
    assert [level.value for level in L.ordered()] == ["EH2", "EH2+", "EH3", "EH4"]
    assert [L.rank(level) for level in ["EH2", "EH2+", "EH3", "EH4"]] == [0, 1, 2, 3]
    assert set(L.values) == {"EH2", "EH2+", "EH3", "EH4"}


def test_eh1_no_longer_exists():
    assert "EH1" not in L.values
    with pytest.raises(ValueError):
        L.rank("EH1")


def test_at_most_and_at_least_include_the_level_itself():
    assert L.at_most("EH2") == ["EH2"]
    assert L.at_most("EH3") == ["EH2", "EH2+", "EH3"]
    assert L.at_most(L.EH4) == ["EH2", "EH2+", "EH3", "EH4"]
    assert L.at_least("EH2+") == ["EH2+", "EH3", "EH4"]
    assert L.at_least("EH4") == ["EH4"]


@pytest.mark.parametrize(
    ("level", "ceiling", "expected"),
    [
        ("EH2", "EH2", True),
        ("EH2", "EH2+", True),
        ("EH2+", "EH2", False),
        ("EH3", "EH2+", False),
        ("EH3", "EH4", True),
        ("EH4", "EH3", False),
    ],
)
def test_is_at_most_compares_by_rank_not_by_string(level, ceiling, expected):
    # "EH2+" > "EH2" and "EH2+" < "EH3" only by rank; plain string order happens to
    # agree here, so the EH2+/EH2 pair and rank() above are what pin the order down.
    assert L.is_at_most(level, ceiling) is expected


def test_highest_picks_the_top_rank_and_ignores_empty_values():
    assert L.highest(["EH2", "EH3", "EH2+"]) == "EH3"
    assert L.highest(["EH2+", "EH2"]) == "EH2+"
    assert L.highest(["", None, "EH4", "EH2"]) == "EH4"
    assert L.highest([]) is None


def test_second_factor_from_eh2plus_up():
    assert L.needs_second_factor("EH2") is False
    assert all(L.needs_second_factor(level) for level in ["EH2+", "EH3", "EH4"])


def test_saml_class_refs():
    assert L.saml_class_ref("EH2") == "urn:etoegang:core:assurance-class:loa2"
    assert L.saml_class_ref("EH2+") == "urn:etoegang:core:assurance-class:loa2plus"
    assert L.saml_class_ref("EH3") == "urn:etoegang:core:assurance-class:loa3"
    assert L.saml_class_ref("EH4") == "urn:etoegang:core:assurance-class:loa4"
