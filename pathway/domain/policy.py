"""The policy in force: every number the rules use, loaded from one validated file.

The packaged `policy.toml` is the default; `PATHWAY_POLICY_FILE` points at a local copy. Each number
carries its unit and source in the file; its allowed range is declared here, in code, so a local copy
cannot widen it (a 60-day "14-day window" is refused at load with a message naming the number, its
range and its source). The contraindications to fibrinolysis that `record_safety_check` accepts are
in the file too, grouped absolute and relative.
"""

import os
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError, model_validator

from pathway.errors import PolicyError

DEFAULT_POLICY_FILE = Path(__file__).with_name("policy.toml")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


@dataclass(frozen=True)
class Limit:
    """The range a policy number may take (inclusive) and why; whole numbers unless `whole` is False."""

    low: float
    high: float
    why: str
    whole: bool = True

    def words(self) -> str:
        return f"{self.low:g} to {self.high:g}"


# Why each range: a policy may be stricter than the guidance it follows, never looser (14 days is
# NICE's window: a shorter one flags earlier, a longer one would hide late cases), and LOCAL numbers
# stay within what a vascular service would call the same rule.
LIMITS: dict[str, Limit] = {
    "mdt_due_days": Limit(1, 7, "LOCAL; an MDT later than a week cannot keep the 14-day window"),
    "treatment_window_days": Limit(7, 14, "NICE HTG516 3.9: 14 days; a policy may be stricter, not longer"),
    "treatment_window_warn_days": Limit(1, 7, "LOCAL warning before the window closes"),
    "pre_procedure_red_days": Limit(0, 7, "LOCAL"),
    "thrombolysis_symptom_days": Limit(7, 14, "NICE NG158: CDT only if symptoms < 14 days; never longer"),
    "registry_due_days": Limit(7, 90, "LOCAL; HTG516 1.3 sets no deadline"),
    "anticoagulation_start_days": Limit(0, 2, "NICE NG158: anticoagulation starts at diagnosis"),
    "anticoagulation_minimum_months": Limit(3, 12, "NICE HTG516 2.6 and NG158: at least 3 months"),
    "anticoagulation_review_warn_days": Limit(0, 30, "LOCAL"),
    "anticoagulation_review_grace_days": Limit(0, 42, "LOCAL grace (pathway-spec S12)"),
    "early_visit_start_days": Limit(1, 28, "pathway-spec (c), LOCAL window"),
    "early_visit_end_days": Limit(7, 42, "pathway-spec (c), LOCAL window"),
    "week6_visit_start_days": Limit(14, 56, "pathway-spec (c), LOCAL window"),
    "week6_visit_end_days": Limit(28, 84, "pathway-spec (c), LOCAL window"),
    "month6_visit_months": Limit(5, 7, "ATTRACT and CAVA 6-month time point"),
    "month6_visit_window_days": Limit(7, 42, "pathway-spec (c): +/- 4 weeks"),
    "month12_visit_months": Limit(11, 13, "CAVA 12-month time point"),
    "month12_visit_window_days": Limit(14, 60, "pathway-spec (c): +/- 6 weeks"),
    "filter_retrieval_start_days": Limit(14, 54, "FDA 2014: removal favoured from day 29"),
    "filter_retrieval_end_days": Limit(29, 54, "FDA 2014: removal favoured by day 54; never later"),
    "safety_check_lead_days": Limit(1, 7, "LOCAL (pathway-spec S6: pre-procedure labs); interface default 3"),
    "safety_check_red_days": Limit(0, 3, "interface: red from S - 1"),
    "platelets_min": Limit(20, 100, "SIR 2019: consider platelets below 50 (high risk), 20 (low risk)"),
    "inr_max": Limit(1.2, 1.8, "SIR 2019: INR at most 1.5-1.8 for high-bleeding-risk procedures", whole=False),
    "restart_plan_max_days": Limit(1, 30, "LOCAL; a hold longer than 30 days is not a periprocedural hold"),
    "adult_age_years": Limit(18, 21, "NICE NG158 covers adults (18 and over); never younger"),
    "pts_assessment_months": Limit(3, 6, "pathway-spec (c): no PTS diagnosis in the acute phase (Villalta 3-12 m)"),
    "pts_confirmation_months": Limit(3, 6, "CAVA: two scores at least 3 months apart"),
    "pts_villalta_threshold": Limit(5, 10, "CAVA and ATTRACT: Villalta >= 5"),
    "maximum_age_years": Limit(100, 130, "a plausibility limit (nobody verified past 122), not an age policy"),
}


class PolicyNumber(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    value: StrictInt | StrictFloat
    unit: str = Field(min_length=1)
    source: str = Field(min_length=3)


class PolicyNumbers(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mdt_due_days: PolicyNumber
    treatment_window_days: PolicyNumber
    treatment_window_warn_days: PolicyNumber
    pre_procedure_red_days: PolicyNumber
    thrombolysis_symptom_days: PolicyNumber
    registry_due_days: PolicyNumber
    anticoagulation_start_days: PolicyNumber
    anticoagulation_minimum_months: PolicyNumber
    anticoagulation_review_warn_days: PolicyNumber
    anticoagulation_review_grace_days: PolicyNumber
    early_visit_start_days: PolicyNumber
    early_visit_end_days: PolicyNumber
    week6_visit_start_days: PolicyNumber
    week6_visit_end_days: PolicyNumber
    month6_visit_months: PolicyNumber
    month6_visit_window_days: PolicyNumber
    month12_visit_months: PolicyNumber
    month12_visit_window_days: PolicyNumber
    filter_retrieval_start_days: PolicyNumber
    filter_retrieval_end_days: PolicyNumber
    safety_check_lead_days: PolicyNumber
    safety_check_red_days: PolicyNumber
    platelets_min: PolicyNumber
    inr_max: PolicyNumber
    restart_plan_max_days: PolicyNumber
    adult_age_years: PolicyNumber
    pts_assessment_months: PolicyNumber
    pts_confirmation_months: PolicyNumber
    pts_villalta_threshold: PolicyNumber
    maximum_age_years: PolicyNumber

    @model_validator(mode="after")
    def _within_limits(self) -> "PolicyNumbers":
        for name, limit in LIMITS.items():
            number: PolicyNumber = getattr(self, name)
            value = number.value
            if limit.whole and not isinstance(value, int):
                raise ValueError(f"{name} = {value} must be a whole number ({number.unit})")
            if not limit.low <= value <= limit.high:
                raise ValueError(
                    f"{name} = {value} is outside its allowed range {limit.words()} ({number.unit}; {limit.why})"
                )
        pairs = [
            ("treatment_window_warn_days", "treatment_window_days"),
            ("early_visit_start_days", "early_visit_end_days"),
            ("week6_visit_start_days", "week6_visit_end_days"),
            ("filter_retrieval_start_days", "filter_retrieval_end_days"),
            ("safety_check_red_days", "safety_check_lead_days"),
        ]
        for low, high in pairs:
            if getattr(self, low).value > getattr(self, high).value:
                raise ValueError(f"{low} must not exceed {high}")
        return self


class Contraindications(BaseModel):
    """Contraindications to fibrinolysis, by code with their plain words, grouped absolute / relative."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(min_length=3)
    absolute: dict[str, str] = Field(min_length=1)
    relative: dict[str, str] = Field(min_length=1)

    @model_validator(mode="after")
    def _codes(self) -> "Contraindications":
        for code, words in {**self.absolute, **self.relative}.items():
            if not _CODE.match(code):
                raise ValueError(f"contraindication code {code!r} must be lower-case letters, digits and _")
            if not words.strip():
                raise ValueError(f"contraindication {code} needs plain words")
        both = sorted(set(self.absolute) & set(self.relative))
        if both:
            raise ValueError(f"contraindications listed as both absolute and relative: {', '.join(both)}")
        return self

    @property
    def codes(self) -> tuple[str, ...]:
        """Every code, absolute first, in the file's order."""
        return (*self.absolute, *self.relative)

    def words(self, code: str) -> str:
        return self.absolute.get(code) or self.relative.get(code) or code


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1, max_length=40)
    numbers: PolicyNumbers
    contraindications: Contraindications

    def n(self, name: str) -> int:
        """A whole-number setting (days, months, years, counts), by name."""
        value = self.number(name).value
        assert isinstance(value, int), name
        return value

    def amount(self, name: str) -> float:
        """A setting that may be fractional (INR), by name."""
        return float(self.number(name).value)

    def number(self, name: str) -> PolicyNumber:
        number: PolicyNumber = getattr(self.numbers, name)
        return number


assert set(LIMITS) == set(PolicyNumbers.model_fields), "every policy number needs a Limit"


def _readable(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "policy"
        message = str(problem["msg"]).removeprefix("Value error, ")
        lines.append(f"{where}: {message}")
    return "; ".join(lines)


def load_policy(path: Path | None = None) -> Policy:
    """Read and validate a policy file; raises PolicyError naming what is wrong."""
    path = path or DEFAULT_POLICY_FILE
    try:
        with path.open("rb") as handle:
            data: Any = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise PolicyError(f"policy file {path} cannot be read: {error}") from None
    try:
        return Policy.model_validate(data)
    except ValidationError as error:
        raise PolicyError(f"policy file {path} refused: {_readable(error)}") from None


@cache
def policy_in_force() -> Policy:
    override = os.environ.get("PATHWAY_POLICY_FILE")
    return load_policy(Path(override) if override else None)
