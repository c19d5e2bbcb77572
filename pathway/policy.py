"""The policy in force: every default number of the rules, loaded from one validated file.

The packaged `policy.toml` is the default; `PATHWAY_POLICY_FILE` points at a local copy.
"""

import os
import tomllib
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_POLICY_FILE = Path(__file__).with_name("policy.toml")


class PolicyNumber(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    value: int = Field(ge=0, le=3650)
    unit: str
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
    maximum_age_years: PolicyNumber

    @model_validator(mode="after")
    def _windows_are_ordered(self) -> "PolicyNumbers":
        pairs = [
            ("treatment_window_warn_days", "treatment_window_days"),
            ("early_visit_start_days", "early_visit_end_days"),
            ("week6_visit_start_days", "week6_visit_end_days"),
            ("filter_retrieval_start_days", "filter_retrieval_end_days"),
        ]
        for low, high in pairs:
            if getattr(self, low).value > getattr(self, high).value:
                raise ValueError(f"{low} must not exceed {high}")
        if self.anticoagulation_minimum_months.value < 3:
            # NICE HTG516 2.6 and NG158: at least 3 months; a policy may lengthen, never shorten.
            raise ValueError("anticoagulation_minimum_months must be at least 3 (NICE NG158)")
        if not 100 <= self.maximum_age_years.value <= 130:
            raise ValueError("maximum_age_years must be from 100 to 130 (a plausibility limit, not an age policy)")
        return self


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1, max_length=40)
    numbers: PolicyNumbers

    def n(self, name: str) -> int:
        """The value of one number, by name."""
        number: PolicyNumber = getattr(self.numbers, name)
        return number.value


def load_policy(path: Path | None = None) -> Policy:
    """Read and validate a policy file; raises pydantic.ValidationError on a bad file."""
    with (path or DEFAULT_POLICY_FILE).open("rb") as handle:
        return Policy.model_validate(tomllib.load(handle))


@cache
def policy_in_force() -> Policy:
    override = os.environ.get("PATHWAY_POLICY_FILE")
    return load_policy(Path(override) if override else None)
