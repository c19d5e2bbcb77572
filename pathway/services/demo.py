"""A realistic synthetic cohort, never real people: each synthetic patient as interface commands.

Each patient is a list of interface commands (the same JSON a clinician's command log holds), drawn
from one random stream so a seed always gives the same cohort; pathway.services.bulk_load parses, checks,
plans and inserts them. NHS numbers come from the 999 range reserved for testing, with valid check
digits.

Version 2's safety net is exercised as a service would meet it: a few patients under 18 or pregnant
(some with the MDT's specialist plan, some still without), pre-procedure safety checks that are
missing, failing or passing, procedure holds with and without their restart, thrombolysis outside
NG158's criteria with its rationale, filters with their indication and removal plan. Every version 2
rejection is exercised by *attempts*: commands a clinician gets wrong (a hold without its plan, a
percutaneous procedure without its device, a PMT pathway closed before its registry entry...), which
the tracker refuses, followed by the corrected command. A patient's attempts are the indices in
`DemoPatient.attempts`; the bulk loader expects exactly those to be refused, skips them and counts
them in the demo-data audit row; `--log` keeps them, so `pathway apply` of the log refuses the same
lines (docs/rules.md, "Demo data").
"""

import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from nhs_number import calculate_checksum

from pathway.domain.clock import add_months, age_on

SITES = ("North Vale General", "Riverside University Hospital", "St Brigid's Infirmary", "Harbour Royal")
# One site has not yet told its governance lead: its PMT candidates carry the governance flag.
SITES_WITH_NOTICE = SITES[:3]
GIVEN = ("Alex", "Sam", "Jo", "Robin", "Morgan", "Casey", "Jamie", "Riley", "Quinn", "Avery", "Rowan", "Kit")
FAMILY = ("Testcase", "Sample", "Example", "Mockford", "Fictor", "Placeholder", "Synthia", "Demoson")
CLINICIANS = ("Dr A. Synthetic", "Dr B. Fictional", "Nurse C. Example", "Dr D. Madeup")
HAEMATOLOGIST = "Dr H. Haematologist"
MDT = [
    {"name": "Dr V. Surgeon", "role": "vascular_surgeon"},
    {"name": "Dr I. Radiologist", "role": "interventional_radiologist"},
    {"name": HAEMATOLOGIST, "role": "haematologist"},
    {"name": "N. Coordinator", "role": "mdt_coordinator"},
]
VEIN_MAPS = (
    (0.25, ["common_femoral", "femoral"]),
    (0.20, ["external_iliac", "common_femoral", "femoral"]),
    (0.15, ["common_iliac", "external_iliac", "common_femoral"]),
    (0.05, ["ivc", "common_iliac", "external_iliac"]),
    (0.20, ["femoral", "popliteal"]),
    (0.05, ["popliteal", "posterior_tibial"]),
    (0.10, ["posterior_tibial", "peroneal"]),
)
ILIOFEMORAL = frozenset({"ivc", "common_iliac", "external_iliac", "internal_iliac", "common_femoral"})
LEAFLETS = {"pmt": "PIL-PMT v2.0", "cdt": "PIL-CDT v2.0", "open_thrombectomy": "PIL-OPEN v2.0"}
ABSOLUTE = ("active_bleeding", "ischaemic_stroke_6_months", "major_trauma_surgery_or_head_injury_3_weeks")
RELATIVE = ("tia_6_months", "refractory_hypertension", "active_peptic_ulcer", "non_compressible_puncture")
FILTER_INDICATIONS = ("anticoagulation_contraindicated", "adjunct_to_catheter_therapy", "research")
SPECIALIST_PLANS = {
    "child": "Paediatric haematology protocol (synthetic): treatment agreed with the regional paediatric team.",
    "pregnant": "Obstetric haematology protocol (synthetic): LMWH, joint obstetric and vascular review.",
}
RATIONALES = (
    "Extensive iliofemoral thrombus with threatened limb; benefit judged to outweigh the bleeding risk.",
    "Severe symptoms despite anticoagulation; patient informed of the higher bleeding risk and agrees.",
)
THROMBOLYTIC = frozenset({"pmt_with_thrombolysis", "cdt"})


class DemoPatient(list[dict[str, Any]]):
    """One synthetic patient's commands in order; `attempts` are the indices the tracker must refuse."""

    def __init__(self, commands: list[dict[str, Any]], attempts: frozenset[int], pathways: int = 1) -> None:
        super().__init__(commands)
        self.attempts = attempts
        self.pathways = pathways  # 2: an earlier, closed episode and a recurrent DVT


def nhs_numbers(start: int) -> Iterator[str]:
    """Valid NHS numbers from the 999 test range, skipping bodies with no valid check digit."""
    body = start
    while True:
        nine = f"999{body:06d}"
        check = calculate_checksum(nine)
        if check != 10:
            yield f"{nine}{check}"
        body += 1


class Scenario:
    """One synthetic patient's history, written as commands, up to `today`."""

    def __init__(self, rng: random.Random, today: date, patient: str, pathway: str, nhs: str, site: str) -> None:
        self.rng, self.today = rng, today
        self.patient, self.pathway, self.nhs, self.site = patient, pathway, nhs, site
        self.commands: list[dict[str, Any]] = []
        self.attempts: set[int] = set()
        self.running = False  # anticoagulation running after the commands so far
        self.last_anticoagulation: date | None = None
        self.birth, self.sex = date.min, ""  # set by build
        self.recurs_later = False  # an earlier episode: the patient lives to present again

    def add(self, day: date | None, **command: Any) -> bool:
        """Record a command dated `day` unless that day is still to come."""
        if day is not None and day > self.today:
            return False
        command.setdefault("by", self.rng.choice(CLINICIANS))
        self.commands.append(command)
        return True

    def attempt(self, day: date | None, **command: Any) -> None:
        """A command the tracker refuses (a clinician's slip), when its day has come."""
        if self.add(day, **command):
            self.attempts.add(len(self.commands) - 1)

    def days(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def patient_out(self) -> DemoPatient:
        return DemoPatient(self.commands, frozenset(self.attempts))

    def build(
        self,
        *,
        kind: str | None = None,
        presented: date | None = None,
        known: tuple[date, str] | None = None,
    ) -> DemoPatient:
        """The patient's pathway. `kind` and `presented` force the course and the presentation (an earlier
        episode); `known` (date of birth, sex): the patient is already registered and this is a
        recurrent DVT, recorded with prior_dvt (docs/rules.md, "Demo data")."""
        rng = self.rng
        kind = (
            kind
            or rng.choices(
                ["awaiting_mdt", "pre_procedure", "treated", "anticoagulation_only", "closed"],
                weights=[12, 22, 40, 16, 10],
            )[0]
        )
        age_at = {"awaiting_mdt": (0, 8), "pre_procedure": (2, 22), "treated": (16, 500)}
        low, high = age_at.get(kind, (3, 420))
        presented = presented or self.today - timedelta(days=self.days(low, high))
        veins = rng.choices([v for _w, v in VEIN_MAPS], weights=[w for w, _v in VEIN_MAPS])[0]
        iliofemoral = bool(ILIOFEMORAL & set(veins))
        if known is None:
            sex = rng.choice(["female", "male", "female", "male", "other", "unknown"])
            child = self.chance(0.02)  # NG158 covers adults: a few teenagers reach the service
            years = self.days(14, 16) if child else self.days(19, 84)
            birth = presented - timedelta(days=365 * years + self.days(0, 364))  # 14-16: always under 18
        else:
            birth, sex = known
            years = age_on(birth, presented)
            child = years < 18
        self.birth, self.sex = birth, sex
        pregnant = sex == "female" and not child and years <= 45 and self.chance(0.05)
        if known is None:
            self.add(
                None,
                command="register_patient",
                patient=self.patient,
                nhs_number=self.nhs,
                date_of_birth=birth.isoformat(),
                sex=sex,
                site=self.site,
                name=f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}",
            )
        referred = min(self.today, presented + timedelta(days=self.days(0, 1)))
        onset = presented - timedelta(days=self.days(0, 16))
        criteria = {
            "functional_status": rng.choice(["good", "good", "good", "impaired"]),
            "life_expectancy_ge_1y": rng.choice(["yes"] * 8 + ["uncertain", "no"]),
            "bleeding_risk": rng.choice(["low", "low", "low", "moderate", "high"]),
        }
        diagnosis = dict(
            command="record_diagnosis",
            patient=self.patient,
            pathway=self.pathway,
            presented_on=presented.isoformat(),
            symptom_onset_on=onset.isoformat(),
            referred_on=referred.isoformat(),
            leg=rng.choice(["left", "right"]),
            veins=veins,
            imaging=rng.choice(["duplex", "duplex", "venography", "ct_venography"]),
            baseline_villalta=self.days(4, 20),
            **criteria,
            **({"prior_dvt": True} if known else {}),
        )
        if sex == "male" and self.chance(0.01):
            self.attempt(referred, **diagnosis, pregnant=True)  # the box ticked on the wrong patient
        self.add(referred, **diagnosis, **({"pregnant": True} if pregnant else {}))
        if self.chance(0.95):
            started = presented + timedelta(days=self.days(0, 1) if self.chance(0.9) else 3)
            self.start(started)
        if kind == "awaiting_mdt":
            return self.patient_out()
        mdt_day = referred + timedelta(days=self.days(1, 5))
        if kind == "anticoagulation_only":
            decision = "anticoagulation_only"
        elif iliofemoral and self.site not in SITES_WITH_NOTICE and kind != "pre_procedure":
            decision = rng.choice(["cdt", "open_thrombectomy"])
        else:
            decision = rng.choices(["pmt", "cdt", "open_thrombectomy"], weights=[75, 15, 10])[0]
        thrombolysis = decision == "cdt" or (decision == "pmt" and self.chance(0.5))
        outside = "child" if child else "pregnant" if pregnant else None
        plan = SPECIALIST_PLANS[outside] if outside and self.chance(0.6) else None
        if not self.add(
            mdt_day,
            command="record_mdt",
            pathway=self.pathway,
            held_on=mdt_day.isoformat(),
            attendees=MDT,
            decision=decision,
            thrombolysis=thrombolysis,
            rationale="Synthetic MDT outcome for the demonstration cohort.",
            **({"outside_scope_plan": plan} if plan else {}),
        ):
            return self.patient_out()
        if self.chance(0.04):  # a review early in the course is not the 3-month review (version 2)
            self.review(presented + timedelta(days=self.days(8, 14)), "continue_defined")
        if decision == "anticoagulation_only":
            self._anticoagulation_course(presented, None)
            return self._maybe_close(kind, presented, pmt=False)
        context = {"onset": onset, "iliofemoral": iliofemoral, **criteria}
        return self._procedural(kind, decision, thrombolysis, presented, mdt_day, context)

    # --- anticoagulation ------------------------------------------------------------------------

    def start(self, day: date) -> None:
        if self.add(
            day, command="start_anticoagulation", pathway=self.pathway, agent=self.agent(), started_on=day.isoformat()
        ):
            self.running, self.last_anticoagulation = True, day

    def agent(self) -> str:
        return self.rng.choice(["apixaban", "rivaroxaban", "lmwh", "edoxaban"])

    def stop(self, day: date, reason: str, **plan: Any) -> bool:
        if not self.running or self.last_anticoagulation is None or day < self.last_anticoagulation:
            return False
        stopped = self.add(
            day, command="stop_anticoagulation", pathway=self.pathway, stopped_on=day.isoformat(), reason=reason, **plan
        )
        if stopped:
            self.running, self.last_anticoagulation = False, day
        return stopped

    def review(self, day: date, decision: str) -> None:
        self.add(
            day,
            command="record_anticoagulation_review",
            pathway=self.pathway,
            reviewed_on=day.isoformat(),
            decision=decision,
        )

    def _hold(self, scheduled: date) -> None:
        """A periprocedural hold (R15): the haematologist's plan restarts the day after the procedure."""
        held, restart = scheduled - timedelta(days=1), scheduled + timedelta(days=self.days(1, 2))
        if not self.running or self.last_anticoagulation is None or held < self.last_anticoagulation:
            return
        plan = {"restart_planned_on": restart.isoformat(), "plan_approved_by": HAEMATOLOGIST}
        if self.chance(0.2):  # entered without the plan, or without who approved it, first: refused (R15)
            partial = self.rng.choice([{}, {"restart_planned_on": restart.isoformat()}])
            self.attempt(
                held,
                command="stop_anticoagulation",
                pathway=self.pathway,
                stopped_on=held.isoformat(),
                reason="procedure_hold",
                **partial,
            )
        if self.stop(held, "procedure_hold", **plan) and self.chance(0.8):
            self.start(restart)  # the rest are never restarted: ANTICOAGULATION_RESTART_OVERDUE

    # --- the procedural pathway -----------------------------------------------------------------

    def _safety_check(self, day: date, thrombolysis: bool, failing: float) -> tuple[bool, list[str]]:
        """A pre-procedure safety check; returns whether it fails and the absolute contraindications it lists."""
        fails = self.chance(failing)
        how = self.rng.choice(["platelets", "inr", "absolute"] if thrombolysis else ["platelets", "inr"])
        platelets = self.days(20, 49) if fails and how == "platelets" else self.days(150, 400)
        inr = round(self.rng.uniform(1.6, 2.6), 2) if fails and how == "inr" else round(self.rng.uniform(0.9, 1.3), 2)
        listed = [self.rng.choice(ABSOLUTE)] if fails and how == "absolute" else []
        if self.chance(0.05):
            listed.append(self.rng.choice(RELATIVE))
        check = {
            "command": "record_safety_check",
            "pathway": self.pathway,
            "checked_on": day.isoformat(),
            "platelets": platelets,
            "inr": inr,
            "haemoglobin": self.days(95, 160),
            "egfr": self.days(35, 110),
            "contraindications": listed,
        }
        if self.chance(0.01):  # platelets typed in the wrong unit: refused, then entered again
            self.attempt(day, **(check | {"platelets": platelets * 1000}))
        elif listed and self.chance(0.1):  # the same contraindication ticked twice: refused
            self.attempt(day, **(check | {"contraindications": [*listed, listed[0]]}))
        self.add(day, **check)
        return fails, [code for code in listed if code in ABSOLUTE]

    def _procedural(
        self, kind: str, decision: str, thrombolysis: bool, presented: date, mdt_day: date, context: dict[str, Any]
    ) -> DemoPatient:
        rng = self.rng
        enrolled = mdt_day
        if decision == "pmt" and not context["iliofemoral"] and (kind != "pre_procedure" or self.chance(0.6)):
            enrolled = mdt_day + timedelta(days=self.days(0, 2))
            self.add(
                enrolled,
                command="enrol_research",
                pathway=self.pathway,
                study_id="SYN-PMT-TRIAL",
                ethics_ref="REC 99/SYN/0001",
                enrolled_on=enrolled.isoformat(),
            )
        consent_day = mdt_day + timedelta(days=self.days(0, 3))
        consented = (kind != "pre_procedure" or self.chance(0.5)) and self.add(
            consent_day,
            command="record_consent",
            pathway=self.pathway,
            consented_on=consent_day.isoformat(),
            information_leaflet=LEAFLETS[decision],
            uncertainties_discussed=True,
        )
        # Not before the research enrolment: a research-only PMT needs it on or before the procedure.
        scheduled = max(consent_day, enrolled, presented + timedelta(days=self.days(6, 16)))
        self.add(mdt_day, command="schedule_procedure", pathway=self.pathway, scheduled_on=scheduled.isoformat())
        absolute: list[str] = []
        check_day = scheduled - timedelta(days=self.days(0, 3))
        if kind == "pre_procedure":
            if self.chance(0.5):  # the rest stay outstanding: SAFETY_CHECK_OUTSTANDING from S - 3
                self._safety_check(check_day, thrombolysis, failing=0.2)
            if self.chance(0.15):
                self._hold(scheduled)
            return self.patient_out()
        if not consented or scheduled > self.today:
            return self.patient_out()
        if self.chance(0.95):
            failed, absolute = self._safety_check(check_day, thrombolysis, failing=0.06)
            if failed:  # corrected (platelets, vitamin K, the contraindication reviewed) and checked again
                _failed, absolute = self._safety_check(scheduled, thrombolysis, failing=0.0)
        if self.chance(0.15):
            self._hold(scheduled)
        technique = {"pmt": "pmt_with_thrombolysis" if thrombolysis else "pmt", "cdt": "cdt"}.get(decision, decision)
        ivc_filter = rng.choices(["none", "temporary", "permanent"], weights=[70, 25, 5])[0]
        x = scheduled
        procedure: dict[str, Any] = {
            "command": "record_procedure",
            "pathway": self.pathway,
            "performed_on": x.isoformat(),
            "technique": technique,
            "access_vein": rng.choice(["popliteal", "popliteal", "femoral", "jugular"]),
            "ivc_filter": ivc_filter,
            "stent": self.chance(0.3),
            "clot_removal": rng.choice(["grade_1", "grade_2", "grade_3", "grade_3"]),
            "complications": rng.choices([[], [], [], ["access_site_haematoma"], ["haemoglobinuria"]])[0],
        }
        if technique != "open_thrombectomy":
            if self.chance(0.01):  # the device left out of a percutaneous procedure: refused
                self.attempt(x, **procedure)
            procedure["device"] = "Synthetic aspiration catheter"
        if ivc_filter != "none":
            if self.chance(0.05):  # a filter without its indication: refused (R9)
                self.attempt(
                    x,
                    **(
                        procedure
                        | ({"device": "Synthetic aspiration catheter"} if technique != "open_thrombectomy" else {})
                    ),
                )
            procedure["filter_indication"] = rng.choice(FILTER_INDICATIONS)
        if ivc_filter == "temporary":
            if self.chance(0.05):  # no removal plan for a temporary filter: refused (R10)
                self.attempt(x, **procedure)
            procedure["filter_removal_planned_on"] = (x + timedelta(days=self.days(28, 54))).isoformat()
        if technique in THROMBOLYTIC and not self._criteria_met(x, context, absolute):
            if self.chance(0.3):  # thrombolysis outside NG158's criteria without a rationale: refused
                self.attempt(x, **procedure)
            procedure["outside_criteria_rationale"] = rng.choice(RATIONALES)
        self.add(x, **procedure)
        pmt = technique in ("pmt", "pmt_with_thrombolysis")
        if pmt and self.chance(0.8):
            self.submit_registry(x + timedelta(days=self.days(3, 45)))
        visits = [("early", 10, 20), ("week6", 35, 60)]
        if pmt:
            visits += [("month6", 175, 200), ("month12", 350, 400)]
        for visit, low, high in visits:
            if self.chance(0.85):
                day = x + timedelta(days=self.days(low, high))
                villalta = {"items": [rng.choice([0, 0, 1, 1, 2]) for _ in range(11)], "ulcer": self.chance(0.02)}
                self.add(
                    day,
                    command="record_follow_up",
                    pathway=self.pathway,
                    visit=visit,
                    seen_on=day.isoformat(),
                    villalta=villalta,
                    patency=rng.choice(["patent", "patent", "partially_occluded", "occluded"]),
                )
        if ivc_filter != "none" and self.chance(0.7):
            day = x + timedelta(days=self.days(25, 70))
            outcome = "retrieved" if ivc_filter == "temporary" else "kept_permanent"
            self.add(
                day, command="record_filter_outcome", pathway=self.pathway, decided_on=day.isoformat(), outcome=outcome
            )
        self._anticoagulation_course(presented, x)
        return self._maybe_close(kind, presented, pmt=pmt)

    @staticmethod
    def _criteria_met(on: date, context: dict[str, Any], absolute: list[str]) -> bool:
        """NG158's CDT criteria at the procedure date, as pathway.domain.criteria reads them."""
        return (
            context["iliofemoral"]
            and (on - context["onset"]).days < 14
            and context["functional_status"] == "good"
            and context["life_expectancy_ge_1y"] == "yes"
            and context["bleeding_risk"] == "low"
            and not absolute
        )

    def submit_registry(self, day: date) -> bool:
        return self.add(
            day,
            command="submit_registry",
            pathway=self.pathway,
            submitted_on=day.isoformat(),
            registry_ref=f"BSIR-{self.pathway}",
        )

    def _anticoagulation_course(self, presented: date, performed: date | None) -> None:
        rng = self.rng
        if not any(cmd["command"] == "start_anticoagulation" for cmd in self.commands):
            return
        if self.chance(0.04):
            self.stop(presented + timedelta(days=self.days(20, 60)), rng.choice(["bleeding", "patient_choice"]))
            return
        minimum_end = add_months(max(presented, performed or presented), 3)
        if self.chance(0.8):
            day = minimum_end + timedelta(days=self.days(-7, 20))
            self.review(day, rng.choice(["stop", "continue_defined", "continue_indefinite"]))

    def _maybe_close(self, kind: str, presented: date, *, pmt: bool) -> DemoPatient:
        if kind == "closed":
            day = presented + timedelta(days=self.days(30, 400))
            reason = self.rng.choices(
                ["completed", "withdrawn", "declined", "transferred", "died"], weights=[70, 8, 8, 10, 4]
            )[0]
            if reason == "died" and self.recurs_later:
                reason = "completed"  # the patient comes back with a recurrent DVT
            close = {
                "command": "close_pathway",
                "pathway": self.pathway,
                "closed_on": day.isoformat(),
                "reason": reason,
            }
            if pmt and not any(cmd["command"] == "submit_registry" for cmd in self.commands):
                # HTG516 1.3: every PMT is registered, a death or transfer too: closing first is refused.
                if self.chance(0.5):
                    self.attempt(day, **close)
                self.submit_registry(day)
            self.add(day, **close)
        return self.patient_out()


# NHS numbers: 999 then a 6-digit body then the check digit; a body whose check digit would be 10 is
# never issued. 909,091 of the 1,000,000 bodies are valid (test_demo.py counts them).
BODIES = 1_000_000
# A recurrent patient's earlier episode presented this many days before the cohort's today (2.5 to 8
# years), so it was treated and closed well before the recurrence (at most 500 days old) presented.
EARLIER_EPISODE_DAYS = (900, 3000)
# The sites' governance notices are older than any episode (a PMT needs one dated on or before it).
GOVERNANCE_NOTICE_DAYS = 3100


def valid_nhs_numbers(nhs_start: int) -> int:
    """How many valid 999 NHS numbers there are from the body `nhs_start` up (exactly)."""
    return sum(1 for body in range(nhs_start, BODIES) if calculate_checksum(f"999{body:06d}") != 10)


def at_least_valid(nhs_start: int) -> int:
    """A lower bound of valid_nhs_numbers, without counting: in every run of ten bodies ending 0-9 the
    check digits differ, so at most one of the ten is never issued."""
    return max(0, BODIES - nhs_start - 9) * 9 // 10


def recurs(k: int, patients: int, recurrences: int) -> bool:
    """Whether the k-th patient of the cohort has a recurrent pathway: `recurrences` of the `patients`,
    spread evenly (no random draw, so a cohort without recurrences is the one it always was)."""
    return (k + 1) * recurrences // patients > k * recurrences // patients


def cohort(
    patients: int, seed: int, today: date, start: int = 0, nhs_start: int = 0, pathways: int | None = None
) -> Iterator[DemoPatient]:
    """The command lists of `patients` synthetic patients (deterministic for a seed), with `pathways`
    pathways among them (default: one each; patients < pathways <= 2 * patients: some have a second).

    `start` numbers the references; `nhs_start` is the first 6-digit body tried in the 999 range.
    """
    recurrences = (pathways or patients) - patients
    rng = random.Random(seed)
    numbers = nhs_numbers(nhs_start)
    for k, i in enumerate(range(start, start + patients)):
        site = SITES[i % len(SITES)]
        if recurrences and recurs(k, patients, recurrences):
            yield recurrent(rng, today, i, next(numbers), site)
        else:
            yield Scenario(rng, today, f"MRN{i:07d}", f"DVT-{i:07d}", next(numbers), site).build()


def recurrent(rng: random.Random, today: date, i: int, nhs: str, site: str) -> DemoPatient:
    """A patient with two pathways: an earlier DVT, treated and closed years ago, and a recurrent DVT
    (prior_dvt) on a pathway of its own, as a second diagnosis opens one (docs/rules.md, "Demo data")."""
    earlier = Scenario(rng, today, f"MRN{i:07d}", f"DVT-{i:07d}", nhs, site)
    earlier.recurs_later = True
    first = earlier.build(kind="closed", presented=today - timedelta(days=earlier.days(*EARLIER_EPISODE_DAYS)))
    later = Scenario(rng, today, f"MRN{i:07d}", f"DVT-{i:07d}-2", nhs, site)
    second = later.build(known=(earlier.birth, earlier.sex))
    attempts = first.attempts | {len(first) + index for index in second.attempts}
    return DemoPatient([*first, *second], attempts, pathways=2)


def governance_commands(today: date) -> list[dict[str, Any]]:
    return [
        {
            "command": "notify_governance",
            "site": site,
            "notified_on": (today - timedelta(days=GOVERNANCE_NOTICE_DAYS)).isoformat(),
            "lead": "Clinical Governance Lead (synthetic)",
            "clinician": "Dr I. Radiologist",
        }
        for site in SITES_WITH_NOTICE
    ]
