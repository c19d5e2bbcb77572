"""A realistic synthetic cohort, never real people: each synthetic patient as interface commands.

Each patient is a list of interface commands (the same JSON a clinician's command log holds), drawn
from one random stream so a seed always gives the same cohort; pathway.bulk_load parses, checks,
plans and inserts them. NHS numbers come from the 999 range reserved for testing, with valid check
digits.
"""

import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from nhs_number import calculate_checksum

from pathway.clock import add_months

SITES = ("North Vale General", "Riverside University Hospital", "St Brigid's Infirmary", "Harbour Royal")
# One site has not yet told its governance lead: its PMT candidates carry the governance flag.
SITES_WITH_NOTICE = SITES[:3]
GIVEN = ("Alex", "Sam", "Jo", "Robin", "Morgan", "Casey", "Jamie", "Riley", "Quinn", "Avery", "Rowan", "Kit")
FAMILY = ("Testcase", "Sample", "Example", "Mockford", "Fictor", "Placeholder", "Synthia", "Demoson")
CLINICIANS = ("Dr A. Synthetic", "Dr B. Fictional", "Nurse C. Example", "Dr D. Madeup")
MDT = [
    {"name": "Dr V. Surgeon", "role": "vascular_surgeon"},
    {"name": "Dr I. Radiologist", "role": "interventional_radiologist"},
    {"name": "Dr H. Haematologist", "role": "haematologist"},
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
LEAFLETS = {"pmt": "PIL-PMT v1.0", "cdt": "PIL-CDT v1.0", "open_thrombectomy": "PIL-OPEN v1.0"}


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

    def add(self, day: date | None, **command: Any) -> bool:
        """Record a command dated `day` unless that day is still to come."""
        if day is not None and day > self.today:
            return False
        command.setdefault("by", self.rng.choice(CLINICIANS))
        self.commands.append(command)
        return True

    def days(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def build(self) -> list[dict[str, Any]]:
        rng = self.rng
        kind = rng.choices(
            ["awaiting_mdt", "pre_procedure", "treated", "anticoagulation_only", "closed"],
            weights=[12, 22, 40, 16, 10],
        )[0]
        age_at = {"awaiting_mdt": (0, 8), "pre_procedure": (2, 22), "treated": (16, 500)}
        low, high = age_at.get(kind, (3, 420))
        presented = self.today - timedelta(days=self.days(low, high))
        veins = rng.choices([v for _w, v in VEIN_MAPS], weights=[w for w, _v in VEIN_MAPS])[0]
        iliofemoral = bool({"ivc", "common_iliac", "external_iliac", "common_femoral"} & set(veins))
        birth = presented - timedelta(days=365 * self.days(19, 84) + self.days(0, 364))
        self.add(
            None,
            command="register_patient",
            patient=self.patient,
            nhs_number=self.nhs,
            date_of_birth=birth.isoformat(),
            sex=rng.choice(["female", "male", "female", "male", "other", "unknown"]),
            site=self.site,
            name=f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}",
        )
        referred = min(self.today, presented + timedelta(days=self.days(0, 1)))
        self.add(
            referred,
            command="record_diagnosis",
            patient=self.patient,
            pathway=self.pathway,
            presented_on=presented.isoformat(),
            symptom_onset_on=(presented - timedelta(days=self.days(0, 16))).isoformat(),
            referred_on=referred.isoformat(),
            leg=rng.choice(["left", "right"]),
            veins=veins,
            imaging=rng.choice(["duplex", "duplex", "venography", "ct_venography"]),
            functional_status=rng.choice(["good", "good", "impaired"]),
            bleeding_risk=rng.choice(["low", "low", "moderate", "high"]),
            baseline_villalta=self.days(4, 20),
        )
        if rng.random() < 0.95:
            started = presented + timedelta(days=self.days(0, 1) if rng.random() < 0.9 else 3)
            self.add(
                started,
                command="start_anticoagulation",
                pathway=self.pathway,
                agent=rng.choice(["apixaban", "rivaroxaban", "lmwh", "edoxaban"]),
                started_on=started.isoformat(),
            )
        if kind == "awaiting_mdt":
            return self.commands
        mdt_day = referred + timedelta(days=self.days(1, 5))
        if kind == "anticoagulation_only":
            decision = "anticoagulation_only"
        elif iliofemoral and self.site not in SITES_WITH_NOTICE and kind != "pre_procedure":
            decision = rng.choice(["cdt", "open_thrombectomy"])
        else:
            decision = rng.choices(["pmt", "cdt", "open_thrombectomy"], weights=[75, 15, 10])[0]
        if not self.add(
            mdt_day,
            command="record_mdt",
            pathway=self.pathway,
            held_on=mdt_day.isoformat(),
            attendees=MDT,
            decision=decision,
            thrombolysis=decision == "cdt" or (decision == "pmt" and rng.random() < 0.5),
            rationale="Synthetic MDT outcome for the demonstration cohort.",
        ):
            return self.commands
        if decision == "anticoagulation_only":
            self._anticoagulation_course(presented, None)
            return self._maybe_close(kind, presented)
        return self._procedural(kind, decision, presented, mdt_day, iliofemoral)

    def _procedural(
        self, kind: str, decision: str, presented: date, mdt_day: date, iliofemoral: bool
    ) -> list[dict[str, Any]]:
        rng = self.rng
        enrolled = mdt_day
        if decision == "pmt" and not iliofemoral and (kind != "pre_procedure" or rng.random() < 0.6):
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
        consented = (kind != "pre_procedure" or rng.random() < 0.5) and self.add(
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
        if kind == "pre_procedure" or not consented or scheduled > self.today:
            return self.commands
        technique = {"pmt": rng.choice(["pmt", "pmt_with_thrombolysis"]), "cdt": "cdt"}.get(decision, decision)
        ivc_filter = rng.choices(["none", "temporary", "permanent"], weights=[70, 25, 5])[0]
        self.add(
            scheduled,
            command="record_procedure",
            pathway=self.pathway,
            performed_on=scheduled.isoformat(),
            technique=technique,
            device=None if technique == "open_thrombectomy" else "Synthetic aspiration catheter",
            access_vein=rng.choice(["popliteal", "popliteal", "femoral", "jugular"]),
            ivc_filter=ivc_filter,
            stent=rng.random() < 0.3,
            clot_removal=rng.choice(["grade_1", "grade_2", "grade_3", "grade_3"]),
            complications=rng.choices([[], [], [], ["access_site_haematoma"], ["haemoglobinuria"]])[0],
        )
        x = scheduled
        if technique in ("pmt", "pmt_with_thrombolysis") and rng.random() < 0.8:
            day = x + timedelta(days=self.days(3, 45))
            self.add(
                day,
                command="submit_registry",
                pathway=self.pathway,
                submitted_on=day.isoformat(),
                registry_ref=f"BSIR-{self.pathway}",
            )
        visits = [("early", 10, 20), ("week6", 35, 60)]
        if technique in ("pmt", "pmt_with_thrombolysis"):
            visits += [("month6", 175, 200), ("month12", 350, 400)]
        for visit, low, high in visits:
            if rng.random() < 0.85:
                day = x + timedelta(days=self.days(low, high))
                villalta = {"items": [rng.choice([0, 0, 1, 1, 2]) for _ in range(11)], "ulcer": rng.random() < 0.02}
                self.add(
                    day,
                    command="record_follow_up",
                    pathway=self.pathway,
                    visit=visit,
                    seen_on=day.isoformat(),
                    villalta=villalta,
                    patency=rng.choice(["patent", "patent", "partially_occluded", "occluded"]),
                )
        if ivc_filter != "none" and rng.random() < 0.7:
            day = x + timedelta(days=self.days(25, 70))
            outcome = "retrieved" if ivc_filter == "temporary" else "kept_permanent"
            self.add(
                day, command="record_filter_outcome", pathway=self.pathway, decided_on=day.isoformat(), outcome=outcome
            )
        self._anticoagulation_course(presented, x)
        return self._maybe_close(kind, presented)

    def _anticoagulation_course(self, presented: date, performed: date | None) -> None:
        rng = self.rng
        if not any(cmd["command"] == "start_anticoagulation" for cmd in self.commands):
            return
        if rng.random() < 0.04:
            day = presented + timedelta(days=self.days(20, 60))
            self.add(
                day,
                command="stop_anticoagulation",
                pathway=self.pathway,
                stopped_on=day.isoformat(),
                reason=rng.choice(["bleeding", "patient_choice"]),
            )
            return
        minimum_end = add_months(max(presented, performed or presented), 3)
        if rng.random() < 0.8:
            day = minimum_end + timedelta(days=self.days(-7, 20))
            self.add(
                day,
                command="record_anticoagulation_review",
                pathway=self.pathway,
                reviewed_on=day.isoformat(),
                decision=rng.choice(["stop", "continue_defined", "continue_indefinite"]),
            )

    def _maybe_close(self, kind: str, presented: date) -> list[dict[str, Any]]:
        if kind == "closed":
            day = presented + timedelta(days=self.days(30, 400))
            reason = self.rng.choices(
                ["completed", "withdrawn", "declined", "transferred", "died"], weights=[70, 8, 8, 10, 4]
            )[0]
            self.add(day, command="close_pathway", pathway=self.pathway, closed_on=day.isoformat(), reason=reason)
        return self.commands


def cohort(patients: int, seed: int, today: date, start: int = 0, nhs_start: int = 0) -> Iterator[list[dict[str, Any]]]:
    """The command lists of `patients` synthetic patients (deterministic for a seed).

    `start` numbers the references; `nhs_start` is the first 6-digit body tried in the 999 range.
    """
    rng = random.Random(seed)
    numbers = nhs_numbers(nhs_start)
    for i in range(start, start + patients):
        site = SITES[i % len(SITES)]
        yield Scenario(rng, today, f"MRN{i:07d}", f"DVT-{i:07d}", next(numbers), site).build()


def governance_commands(today: date) -> list[dict[str, Any]]:
    return [
        {
            "command": "notify_governance",
            "site": site,
            "notified_on": (today - timedelta(days=900)).isoformat(),
            "lead": "Clinical Governance Lead (synthetic)",
            "clinician": "Dr I. Radiologist",
        }
        for site in SITES_WITH_NOTICE
    ]
