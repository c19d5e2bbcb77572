"""Version 2's clinical criteria, read by the flags (pathway.domain.rules) and the rejections (pathway.domain.checks).

- NICE NG158's scope (R4): adults who are not pregnant.
- The pre-procedure safety check (SIR 2019, R17-R18): platelets, INR and, when thrombolysis is planned,
  the absolute contraindications to fibrinolysis.
- NICE NG158's CDT criteria at a date T (R6-R7): iliofemoral extent, symptoms under 14 days, good
  functional status, life expectancy of a year or more, low bleeding risk, and no absolute
  contraindication on the latest safety check on or before T.

Each function returns the reasons in plain words (empty when the criterion holds), so a rejection can
say which criterion failed. Pure: the record, the policy and a date in.
"""

from datetime import date

from pathway.domain.policy import Policy
from pathway.domain.record import PathwayRecord, SafetyCheckFacts
from pathway.domain.vocabulary import Extent


def absolute_contraindications(check: SafetyCheckFacts, policy: Policy) -> list[str]:
    absolute = policy.contraindications.absolute
    return [code for code in check.contraindications if code in absolute]


def safety_check_failures(check: SafetyCheckFacts, thrombolysis_planned: bool, policy: Policy) -> list[str]:
    """Why a safety check fails (SAFETY_CHECK_FAILED): platelets or INR out of bounds, or an absolute
    contraindication to fibrinolysis while thrombolysis is planned."""
    failures = []
    platelets_min, inr_max = policy.n("platelets_min"), policy.amount("inr_max")
    if check.platelets < platelets_min:
        failures.append(f"platelets {check.platelets:g} x10^9/L (below {platelets_min})")
    if check.inr > inr_max:
        failures.append(f"INR {check.inr:g} (above {inr_max:g})")
    if thrombolysis_planned:
        absolute = absolute_contraindications(check, policy)
        if absolute:
            failures.append("absolute contraindication to fibrinolysis: " + ", ".join(absolute))
    return failures


def thrombolysis_criteria_failures(record: PathwayRecord, on: date, policy: Policy) -> list[str]:
    """Which of NG158's CDT criteria fail at date `on` (a criterion not recorded is not met)."""
    failures = []
    if record.extent is not Extent.iliofemoral:
        failures.append(f"the DVT is {record.extent.value}, not iliofemoral")
    days = (on - record.symptom_onset_on).days
    limit = policy.n("thrombolysis_symptom_days")
    if days >= limit:
        failures.append(f"symptoms began {days} days before {on.isoformat()} (fewer than {limit} needed)")
    recorded = {
        "functional_status": (record.functional_status, "good"),
        "life_expectancy_ge_1y": (record.life_expectancy_ge_1y, "yes"),
        "bleeding_risk": (record.bleeding_risk, "low"),
    }
    for name, (value, needed) in recorded.items():
        if value != needed:
            failures.append(f"{name} is {value or 'not recorded'} ({needed} needed)")
    check = record.latest_safety_check(on)
    if check is not None:
        absolute = absolute_contraindications(check, policy)
        if absolute:
            failures.append(
                f"the safety check of {check.checked_on.isoformat()} lists an absolute contraindication "
                f"to fibrinolysis: {', '.join(absolute)}"
            )
    return failures


def outside_guidance_scope(record: PathwayRecord, policy: Policy) -> list[str]:
    """Why the patient is outside NG158's scope (R4): under 18 on the presentation date, or pregnant."""
    reasons = []
    adult = policy.n("adult_age_years")
    if record.age_at_presentation is not None and record.age_at_presentation < adult:
        reasons.append(f"aged {record.age_at_presentation} on presentation (under {adult})")
    if record.pregnant:
        reasons.append("pregnant")
    return reasons
