"""The policy file (version 2): every number the rules use, with a validated range, unit and source."""

import re
from pathlib import Path

import pytest

from pathway.domain.policy import DEFAULT_POLICY_FILE, LIMITS, PolicyNumbers, load_policy
from pathway.errors import PolicyError

INTERFACE_CONTRAINDICATIONS = {
    "absolute": [
        "haemorrhagic_stroke_ever",
        "ischaemic_stroke_6_months",
        "cns_neoplasm",
        "major_trauma_surgery_or_head_injury_3_weeks",
        "bleeding_diathesis",
        "active_bleeding",
    ],
    "relative": [
        "tia_6_months",
        "pregnancy_or_first_postpartum_week",
        "non_compressible_puncture",
        "traumatic_resuscitation",
        "refractory_hypertension",
        "advanced_liver_disease",
        "infective_endocarditis",
        "active_peptic_ulcer",
    ],
}


def with_value(name: str, value: str) -> str:
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
    changed, count = re.subn(rf"(\[numbers\.{name}\]\s*\nvalue = )[0-9.]+", rf"\g<1>{value}", text)
    assert count == 1, name
    return changed


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_60_day_treatment_window_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as refused:
        load_policy(written(tmp_path, with_value("treatment_window_days", "60")))
    message = str(refused.value)
    assert "treatment_window_days = 60 is outside its allowed range 7 to 14" in message
    assert "days after presentation" in message and "HTG516 3.9" in message
    assert str(tmp_path) in message


def test_version_2_defaults_match_the_interface() -> None:
    policy = load_policy()
    assert policy.n("safety_check_lead_days") == 3
    assert policy.n("safety_check_red_days") == 1
    assert policy.n("platelets_min") == 50
    assert policy.amount("inr_max") == 1.5
    assert policy.n("restart_plan_max_days") == 30
    assert policy.n("adult_age_years") == 18
    assert policy.n("filter_retrieval_end_days") == 54
    assert policy.n("pts_assessment_months") == 3
    assert policy.n("pts_confirmation_months") == 3
    assert policy.n("pts_villalta_threshold") == 5


def test_every_number_has_a_range_that_holds_its_default_a_unit_and_a_source() -> None:
    policy = load_policy()
    assert set(LIMITS) == set(PolicyNumbers.model_fields)
    for name, limit in LIMITS.items():
        number = policy.number(name)
        assert limit.low <= number.value <= limit.high, name
        assert number.unit.strip() and len(number.source.strip()) > 10, name


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_each_number_is_refused_just_outside_its_range_and_accepted_at_its_ends(tmp_path: Path, name: str) -> None:
    limit = LIMITS[name]
    step = 1 if limit.whole else 0.01
    for outside in (limit.low - step, limit.high + step):
        with pytest.raises(PolicyError, match=rf"{name} = .* is outside its allowed range"):
            load_policy(written(tmp_path, with_value(name, f"{outside:g}")))
    for inside in (limit.low, limit.high):
        try:
            loaded = load_policy(written(tmp_path, with_value(name, f"{inside:g}")))
        except PolicyError as refused:  # only an ordering rule between two numbers may refuse an end
            assert "must not exceed" in str(refused), refused
        else:
            assert loaded.number(name).value == inside


def test_a_fraction_is_refused_where_a_whole_number_is_meant(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"treatment_window_days = 13\.5 must be a whole number"):
        load_policy(written(tmp_path, with_value("treatment_window_days", "13.5")))


def test_inr_max_may_be_fractional(tmp_path: Path) -> None:
    assert load_policy(written(tmp_path, with_value("inr_max", "1.8"))).amount("inr_max") == 1.8
    with pytest.raises(PolicyError, match=r"inr_max = 2\.5 is outside"):
        load_policy(written(tmp_path, with_value("inr_max", "2.5")))


def test_red_before_the_safety_check_lead_is_refused(tmp_path: Path) -> None:
    text = with_value("safety_check_lead_days", "1").replace(
        "[numbers.safety_check_red_days]\nvalue = 1", "[numbers.safety_check_red_days]\nvalue = 2"
    )
    with pytest.raises(PolicyError, match="safety_check_red_days must not exceed safety_check_lead_days"):
        load_policy(written(tmp_path, text))


def test_contraindication_lists_are_the_interfaces() -> None:
    lists = load_policy().contraindications
    assert list(lists.absolute) == INTERFACE_CONTRAINDICATIONS["absolute"]
    assert list(lists.relative) == INTERFACE_CONTRAINDICATIONS["relative"]
    assert "UNCONFIRMED" in lists.source
    assert all(words.strip() for words in (*lists.absolute.values(), *lists.relative.values()))


def test_a_contraindication_on_both_lists_is_refused(tmp_path: Path) -> None:
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8").replace(
        'active_peptic_ulcer = "Active peptic ulcer"', 'active_bleeding = "Active bleeding"'
    )
    with pytest.raises(PolicyError, match="both absolute and relative: active_bleeding"):
        load_policy(written(tmp_path, text))


def test_an_unreadable_policy_file_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policy(written(tmp_path, "version = \n"))
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policy(tmp_path / "missing.toml")
