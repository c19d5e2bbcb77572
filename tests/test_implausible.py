"""Implausible data is refused with a clear message that names the field and the rule, and echoes
no identifier: a date of birth far in the past, a presentation before birth or after the patient's
120th year (policy maximum_age_years), and NHS numbers with a right check digit from ranges never
issued (0000000000 above all). Boundaries: age 120 accepted, 121 refused, on the day itself.
"""

from datetime import UTC, date, datetime

import pytest

from pathway.domain.policy import load_policy, policy_in_force
from pathway.store.db import SessionFactory
from tests.conftest import diagnose, register, run
from tests.support.commands import assert_rejected

TODAY = date(2026, 6, 15)  # RECORDED_AT in Europe/London
IMPLAUSIBLE = ("not plausible", "policy maximum_age_years")


def test_the_limit_is_a_policy_number_with_a_source() -> None:
    number = policy_in_force().numbers.maximum_age_years
    assert number.value == 120
    assert "Jeanne Calment" in number.source


def test_a_policy_cannot_make_the_limit_an_age_rule() -> None:
    from pydantic import ValidationError

    policy = load_policy().model_dump()
    policy["numbers"]["maximum_age_years"]["value"] = 80
    with pytest.raises(ValidationError, match="maximum_age_years = 80 is outside its allowed range 100 to 130"):
        type(load_policy()).model_validate(policy)


@pytest.mark.parametrize("born", ["0001-01-01", "1800-06-15", "1905-06-15"])
def test_a_date_of_birth_over_120_years_ago_is_refused(factory: SessionFactory, born: str) -> None:
    rejected = assert_rejected(factory, register(date_of_birth=born), field="date_of_birth", says=IMPLAUSIBLE)
    assert born not in str(rejected)  # a date of birth is an identifier: never in a message


def test_a_date_of_birth_exactly_120_years_ago_is_accepted(factory: SessionFactory) -> None:
    run(factory, register(date_of_birth="1906-06-15"))  # 120 today


def test_presentation_before_the_date_of_birth_is_refused(factory: SessionFactory) -> None:
    run(factory, register(date_of_birth="2026-06-02"))
    presented = date(2026, 6, 1)
    rejected = assert_rejected(
        factory, diagnose(presented=presented), field="presented_on", says=("before the patient's date of birth",)
    )
    assert "2026-06-02" not in str(rejected)
    born_on_the_day = diagnose(presented=date(2026, 6, 2)) | {"symptom_onset_on": "2026-06-01"}
    assert_rejected(factory, born_on_the_day, field="symptom_onset_on", says=("before the patient's date of birth",))
    run(factory, diagnose(presented=date(2026, 6, 2)))  # on the day of birth: accepted


# Born 1970-03-04: 120 years old from 2090-03-04, 121 from 2091-03-04; registered at 118, the diagnosis
# recorded after both days.
REGISTERED = datetime(2089, 1, 1, 12, tzinfo=UTC)
LATER = datetime(2091, 6, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(("presented", "age"), [(date(2091, 3, 3), 120), (date(2091, 3, 4), 121)])
def test_age_at_presentation_120_is_accepted_and_121_refused(
    factory: SessionFactory, presented: date, age: int
) -> None:
    run(factory, register(date_of_birth="1970-03-04"), at=REGISTERED)  # 118 then
    payload = diagnose(presented=presented)
    if age <= 120:
        run(factory, payload, at=LATER)
    else:
        rejected = assert_rejected(factory, payload, field="presented_on", says=IMPLAUSIBLE, at=LATER)
        assert "older than 120 years at presentation" in rejected.rule


def test_registration_age_boundary_on_a_leap_day(factory: SessionFactory) -> None:
    at = datetime(2028, 2, 29, 12, tzinfo=UTC)
    run(factory, register(patient="H1", nhs="9990000018", date_of_birth="1908-02-29"), at=at)  # 120 today
    payload = register(patient="H2", nhs="9990000026", date_of_birth="1907-02-28")  # 121 today
    assert_rejected(factory, payload, field="date_of_birth", says=IMPLAUSIBLE, at=at)


@pytest.mark.parametrize(
    "nhs",
    [
        "0000000000",  # modulus 11 right, never issued
        "5000000005",  # reserved, not to be issued
        "8000000016",  # Ireland's IHI
        "3200000007",  # Northern Ireland H&C
        "0101010001",  # Scotland's CHI (a date, then digits)
    ],
)
def test_an_nhs_number_from_a_range_never_issued_is_refused(factory: SessionFactory, nhs: str) -> None:
    rejected = assert_rejected(factory, register(nhs=nhs), field="nhs_number", says=("range nhs numbers are issued",))
    assert nhs not in str(rejected)


@pytest.mark.parametrize("nhs", ["4010232137", "6000000006", "7999999997", "9434765919", "9990000018"])
def test_nhs_numbers_from_the_issued_and_test_ranges_are_accepted(factory: SessionFactory, nhs: str) -> None:
    run(factory, register(nhs=nhs))
