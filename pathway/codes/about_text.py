"""Text of the procedure descriptions in `about.py`: per heading, statements with their sources.

Written in our own words from the sources of pathway-spec.md (f) (ids in pathway.codes.sources); no
sentence follows a seed page closely. Only what the sources support is said: no claim that a procedure
prevents a clot reaching the lungs; the trial figures are the spec's (ATTRACT: major bleeding within
10 days 1.7% vs 0.3%, new clots by 24 months 12% vs 8%, not significant; CAVA: major bleeding 5% vs 0%);
compression stockings as pathway-spec R16 says. Kept ASCII so the PDF core fonts (latin-1) print it
unchanged. Editing this text changes the patient information leaflets: bump their version.
"""

from __future__ import annotations

from typing import Final

from pathway.codes.models import Claim


def c(text: str, *sources: str) -> Claim:
    return Claim(text, sources)


URGENT: Final = c(
    "Get urgent medical help if you suddenly become short of breath, have chest pain or cough up blood, "
    "bleed and cannot stop it, or your leg quickly becomes much more painful, swollen, cold or pale.",
    "SRC-1 2.2",
    "SPEC S8",
)
ATTRACT_BLEEDING: Final = c(
    "In the ATTRACT trial, major bleeding in the first 10 days affected 1.7% of people treated through a "
    "catheter with a clot-dissolving drug (about 17 in 1,000), against 0.3% of people on blood thinners "
    "alone (about 3 in 1,000).",
    "SRC-20",
)
CAVA_BLEEDING: Final = c(
    "In the CAVA trial, major bleeding affected 5% of people given a clot-dissolving drug through a "
    "catheter, against 0% of people on blood thinners alone.",
    "SRC-23",
)
ATTRACT_RECURRENCE: Final = c(
    "In ATTRACT, a new clot within 24 months happened in 12% of the people treated and in 8% of those on "
    "blood thinners alone; the difference was not statistically significant, so it may be due to chance. "
    "No trial in our sources showed that the procedure stops clots from travelling to the lungs.",
    "SRC-20",
)
STENT_RISK: Final = c(
    "A stent can itself narrow again or become blocked by clot. You will have scans to check it, and "
    "your team may advise blood thinners for longer because of it.",
    "SRC-1 2.7",
    "SRC-1 3.3",
    "SPEC S12",
)
STOCKINGS: Final = c(
    "Compression stockings may ease swelling or aching, and your team can say whether they suit you. "
    "Experts do not advise wearing them routinely to prevent long-term leg problems.",
    "SRC-1 2.6",
    "SRC-29",
)
BLOOD_THINNERS_PLAN: Final = c(
    "A haematologist agrees with your team whether to pause, carry on or change your blood thinners "
    "around the procedure, and when to restart them. Please do not stop them on your own.",
    "SPEC R15",
)
SAFETY_BLOODS: Final = c(
    "A few days beforehand, blood tests check your platelets, how quickly your blood clots and how well "
    "your kidneys work. If a result is outside safe limits, the procedure may be put off or changed.",
    "SRC-25",
    "SPEC S6",
)
LYSIS_SAFETY: Final = c(
    "You will be asked about anything that could make a clot-dissolving drug unsafe, such as a recent "
    "stroke, operation, serious injury or bleeding.",
    "SRC-3",
    "SPEC S6",
)
PREGNANCY_AND_DYE: Final = c(
    "Tell the team if you are or might be pregnant, or if X-ray dye (contrast) has ever given you a reaction.",
    "SRC-3",
    "SPEC S6",
)

PMT: Final[tuple[tuple[Claim, ...], ...]] = (
    (  # What it is
        c("A deep vein thrombosis (DVT) is a blood clot in one of the deep veins, most often in the leg.", "SRC-1 2.1"),
        c(
            "Percutaneous mechanical thrombectomy (PMT) takes the clot out through a needle puncture in the skin, "
            "not an open operation. A thin tube (a catheter) is steered along the vein into the clot, and a "
            "device on it breaks the clot apart and draws it out.",
            "SRC-1 2.5",
        ),
        c("Several kinds of device are in use, and they work in different ways.", "SRC-1 3.6"),
    ),
    (  # Why it is done
        c(
            "The usual treatment for a DVT is blood-thinning medicine (anticoagulation). It stops the clot "
            "growing while the body slowly clears it.",
            "SRC-1 2.3",
        ),
        c(
            "PMT aims to clear the clot sooner, get blood moving through the vein again, ease pain and swelling, "
            "and reduce the chance of long-term leg problems (post-thrombotic syndrome: lasting pain, swelling "
            "and sometimes ulcers). NICE judged the evidence on how well it works to be limited, so none of "
            "this is certain.",
            "SRC-1 1.1",
            "SRC-1 2.2",
            "SRC-1 3.2",
        ),
        c(
            "It is considered for some people with a large, recent clot in the veins of the pelvis and the top "
            "of the thigh (iliofemoral DVT). NICE's committee was told it is likely to work better when done "
            "within 14 days of first coming to hospital with the DVT.",
            "SRC-1 1.1",
            "SRC-1 3.9",
        ),
    ),
    (  # Preparation
        c(
            "NICE's committee said that a team including a vascular surgeon, an interventional radiologist and "
            "a haematologist (a blood specialist) should assess whether it suits you.",
            "SRC-1 3.8",
        ),
        c("A scan shows where the clot is and which vein the tube can go in through.", "SRC-1 2.5"),
        SAFETY_BLOODS,
        LYSIS_SAFETY,
        BLOOD_THINNERS_PLAN,
        c("Your hospital will tell you whether to stop eating and drinking beforehand, and when.", "SPEC S6"),
        PREGNANCY_AND_DYE,
        c(
            "You will be given written information like this, and asked to sign a consent form once your "
            "questions have been answered.",
            "SRC-1 1.2",
        ),
    ),
    (  # What happens
        c(
            "It is done under local anaesthetic, which numbs the skin where the tube goes in. You may also be "
            "offered medicine to help you relax.",
            "SRC-1 2.5",
            "SPEC S6",
        ),
        c(
            "Using imaging, the doctor picks the vein to go in through, usually the one behind the knee "
            "(popliteal vein) or in the thigh (femoral vein).",
            "SRC-1 2.5",
        ),
        c(
            "Moving X-ray pictures (fluoroscopy) guide the tube into the clot, and X-ray dye may be used to "
            "show the veins.",
            "SRC-1 2.5",
        ),
        c("The device breaks up the clot and removes the pieces.", "SRC-1 2.5"),
        c(
            "A clot-dissolving drug (a thrombolytic) is often given into the clot as well. PMT can be done "
            "without the drug when it is not safe for you, or before or after it.",
            "SRC-1 2.4",
        ),
        c(
            "Sometimes a temporary filter is placed in the large vein in the abdomen (the inferior vena cava) "
            "during the procedure to catch pieces of clot that come loose.",
            "SRC-1 2.5",
        ),
        c(
            "If the cleared vein turns out to be narrowed, the doctor may widen it with a small balloon "
            "(venoplasty) or hold it open with a metal mesh tube (a stent).",
            "SRC-1 2.7",
        ),
        c("At the end the tube comes out and the puncture is pressed until it stops bleeding.", "SPEC S7"),
    ),
    (  # How long it takes
        c("This depends on how much clot there is; your team will give you an idea beforehand.", "SPEC S7"),
        c(
            "If the drug is run slowly through the tube, treatment can go on into the next day, sometimes "
            "with a second session with the device.",
            "SPEC S7",
        ),
    ),
    (  # Where it is done
        c("In a hospital X-ray room set up for procedures guided by imaging.", "SPEC S7"),
        c("Most people stay in hospital afterwards so the team can check on them.", "SPEC S8"),
    ),
    (  # Who does it
        c(
            "An interventional radiologist, a vascular surgeon or both, with a radiographer and nurses. If you "
            "have sedation, someone trained in it looks after you.",
            "SPEC S7",
        ),
    ),
    (  # Risks
        c("NICE says that problems are well recognised but infrequent. They include:", "SRC-1 1.1"),
        c(
            "Bleeding, mostly where the tube went in (bruising or a lump of blood called a haematoma) but "
            "sometimes elsewhere. A clot-dissolving drug adds to this and can, rarely, cause serious bleeding, "
            "including bleeding in the brain (a stroke).",
            "SRC-1 2.3",
            "SRC-1 3.3",
        ),
        ATTRACT_BLEEDING,
        CAVA_BLEEDING,
        c(
            "Damage to red blood cells from the device (haemolysis), which can turn urine dark. Blood and "
            "kidney tests are checked afterwards.",
            "SRC-1 3.3",
            "SPEC S8",
        ),
        c("Damage to the vein, including narrowing later on.", "SRC-1 3.3"),
        c("Pieces of clot breaking off and travelling to the lungs, and the clot forming again.", "SRC-1 3.3"),
        ATTRACT_RECURRENCE,
        STENT_RISK,
        c("A reaction to the X-ray dye, and a small dose of X-ray radiation.", "SPEC S7"),
        c(
            "A temporary filter should come out once it is no longer needed. The US regulator's analysis "
            "favoured removing it between 29 and 54 days after it was put in; your team will plan this.",
            "SRC-13",
            "SRC-15",
        ),
    ),
    (  # Benefits
        c("Clot can be cleared quickly, which may ease pain and swelling sooner.", "SRC-1 3.2"),
        c(
            "Whether it lowers the chance of long-term leg problems has not been settled: NICE found the "
            "evidence limited, which is why it asks for special arrangements or research.",
            "SRC-1 1.1",
        ),
        c("NICE's committee was told it can save the leg in severe iliofemoral DVT.", "SRC-1 3.5"),
    ),
    (  # Recovery
        c(
            "You will usually take blood thinners for at least 3 months afterwards, sometimes longer, and a "
            "specialist reviews this at about 3 months.",
            "SRC-1 2.6",
            "SRC-3",
        ),
        c("Walking early is advised.", "SRC-1 2.6"),
        STOCKINGS,
        c(
            "Check-ups, some with a scan of the vein, follow at about 2 weeks, 6 weeks, 6 months and a year.",
            "SPEC (c)",
        ),
        c("If a temporary filter was left in, you will be told when it is to come out.", "SRC-13"),
        URGENT,
    ),
    (  # Alternatives
        c("Blood thinners alone: the usual treatment for a DVT.", "SRC-1 2.3"),
        c(
            "Catheter-directed thrombolysis: a clot-dissolving drug run into the clot through a tube, with no "
            "device to break it up.",
            "SRC-1 2.3",
        ),
        c(
            "A clot-dissolving drug given into a vein elsewhere in the body (systemic thrombolysis), sometimes "
            "used for very large clots.",
            "SRC-1 2.3",
        ),
        c(
            "Surgery to remove the clot through a cut in the leg. Surgeons rarely use it, mostly when "
            "clot-dissolving drugs have failed or cannot be given.",
            "SRC-1 2.3",
        ),
        c("Taking part in a research study, if one is open to you.", "SRC-1 1.1"),
    ),
    (  # What it feels like
        c(
            "The local anaesthetic stings for a moment. After that you may feel pushing or pressure, but it "
            "should not hurt; tell the team if it does.",
            "SPEC S7",
        ),
        c(
            "You need to lie still; if the tube goes in behind the knee, you lie on your front.",
            "SRC-1 2.5",
            "SPEC S7",
        ),
        c("The puncture may be sore or bruised for a while, and the leg may stay swollen as it settles.", "SPEC S8"),
    ),
)

CDT: Final[tuple[tuple[Claim, ...], ...]] = (
    (  # What it is
        c(
            "Catheter-directed thrombolysis (CDT) dissolves a clot in a deep vein with medicine given straight "
            "into it. A thin tube (a catheter) is passed along the vein into the clot, and a clot-dissolving "
            "drug (a thrombolytic) runs through it, usually slowly.",
            "SRC-1 2.3",
        ),
        c(
            "No device breaks up the clot: the drug does the work. CDT is often combined with mechanical "
            "thrombectomy (PMT), which has its own leaflet.",
            "SRC-1 2.4",
        ),
    ),
    (  # Why it is done
        c(
            "The usual treatment for a DVT is blood-thinning medicine alone. A large clot is sometimes treated "
            "with CDT to clear it, get blood moving again and ease symptoms.",
            "SRC-1 2.3",
        ),
        c(
            "It also aims to reduce the chance of long-term leg problems (post-thrombotic syndrome); how much "
            "it helps in the long term is still being studied.",
            "SRC-1 1.1",
            "SRC-1 3.2",
        ),
        c(
            "NICE's guidance on treating DVT says to consider it only for a clot in the pelvis and top of the "
            "thigh that started less than 14 days ago, in someone who is generally well, expected to live a "
            "year or more, and at low risk of bleeding.",
            "SRC-3",
        ),
    ),
    (  # Preparation
        c("Specialists review your scans and your general health before offering CDT.", "SPEC S4"),
        LYSIS_SAFETY,
        SAFETY_BLOODS,
        BLOOD_THINNERS_PLAN,
        c("Your hospital will tell you whether to stop eating and drinking beforehand, and when.", "SPEC S6"),
        PREGNANCY_AND_DYE,
    ),
    (  # What happens
        c(
            "Local anaesthetic numbs the skin over a vein in the leg, often behind the knee or in the thigh.",
            "SRC-1 2.5",
        ),
        c("The tube is guided into the clot with X-ray pictures and the drug is started.", "SPEC S7"),
        c("While the drug runs you stay on a ward, with regular checks and blood tests.", "SPEC S8"),
        c(
            "You go back to the X-ray room, often the next day, for pictures of how much clot has gone. The "
            "tube may be moved, the drug continued, or a device used on clot that is left.",
            "SRC-1 2.4",
            "SPEC S7",
        ),
        c(
            "If the vein is narrowed, it may be widened with a balloon or held open with a stent.",
            "SRC-1 2.7",
        ),
        c("When treatment ends, the tube comes out and the puncture is pressed until it stops bleeding.", "SPEC S7"),
    ),
    (  # How long it takes
        c(
            "Placing the tube takes one session in the X-ray room; the drug then usually runs for some hours, "
            "sometimes over more than one day. Your team will tell you what to expect.",
            "SPEC S7",
        ),
    ),
    (  # Where it is done
        c(
            "In hospital: the tube is placed in an X-ray room, and you stay on a ward where you can be watched "
            "while the drug runs.",
            "SPEC S7",
            "SPEC S8",
        ),
    ),
    (  # Who does it
        c(
            "An interventional radiologist or a vascular surgeon, with a radiographer and nurses; ward nurses "
            "look after you while the drug runs.",
            "SPEC S7",
        ),
    ),
    (  # Risks
        c(
            "Bleeding is the main risk. It is most often bruising where the tube went in, but it can happen "
            "elsewhere and, rarely, be serious, including bleeding in the brain (a stroke).",
            "SRC-1 2.3",
        ),
        ATTRACT_BLEEDING,
        CAVA_BLEEDING,
        c("Pieces of clot breaking off and travelling to the lungs.", "SRC-1 3.3"),
        c("Damage to the vein, and the clot forming again.", "SRC-1 3.3"),
        ATTRACT_RECURRENCE,
        STENT_RISK,
        c("A reaction to the X-ray dye, and a small dose of X-ray radiation.", "SPEC S7"),
    ),
    (  # Benefits
        c(
            "The clot may dissolve faster than with blood thinners alone, which may ease pain and swelling sooner.",
            "SRC-1 3.2",
        ),
        c(
            "Whether it lowers the chance of long-term leg problems, and by how much, has not been settled.",
            "SRC-1 1.1",
        ),
    ),
    (  # Recovery
        c("You will usually continue blood thinners for at least 3 months.", "SRC-1 2.6", "SRC-3"),
        c("Walking early is advised.", "SRC-1 2.6"),
        STOCKINGS,
        c("Check-ups follow to see how the leg is healing.", "SPEC (c)"),
        URGENT,
    ),
    (  # Alternatives
        c("Blood thinners alone: the usual treatment for a DVT.", "SRC-1 2.3"),
        c("Mechanical thrombectomy (PMT), with or without a clot-dissolving drug.", "SRC-1 2.4"),
        c("A clot-dissolving drug given into a vein elsewhere in the body (systemic thrombolysis).", "SRC-1 2.3"),
        c("Surgery to remove the clot, rarely used.", "SRC-1 2.3"),
        c("Taking part in a research study, if one is open to you.", "SRC-1 1.1"),
    ),
    (  # What it feels like
        c("The local anaesthetic stings for a moment; placing the tube should not hurt.", "SPEC S7"),
        c("While the drug runs you need to keep the leg with the tube fairly still.", "SPEC S8"),
        c("The puncture may be sore or bruised for a while afterwards.", "SPEC S8"),
    ),
)

OPEN: Final[tuple[tuple[Claim, ...], ...]] = (
    (  # What it is
        c(
            "An operation in which a surgeon opens the leg through a cut (incision) to reach a large vein of the "
            "leg or pelvis (the femoral, popliteal or iliac veins, or the vena cava) and take the clot out.",
            "SRC-11",
        ),
        c("The clot comes out directly or with a thin tube (a catheter), and the vein is then mended.", "SRC-11"),
    ),
    (  # Why it is done
        c("To open up a blocked vein and relieve pain and swelling.", "SRC-11"),
        c(
            "NICE's guidance on PMT mentions surgery for people whose clot did not clear with clot-dissolving "
            "drugs, or who cannot have those drugs, and notes that surgeons rarely use it.",
            "SRC-1 2.3",
        ),
    ),
    (  # Preparation
        c(
            "You will be asked not to eat for some hours before the operation, often 8 hours or more; your "
            "hospital will give you the time.",
            "SRC-11",
        ),
        BLOOD_THINNERS_PLAN,
        c(
            "Scans, such as an ultrasound scan or a venogram, show where the clot is, and blood is taken for tests.",
            "SRC-11",
        ),
    ),
    (  # What happens
        c("You have a general anaesthetic or sedation.", "SRC-11"),
        c("The surgeon makes a cut in the leg over the vein.", "SRC-11"),
        c("The clot is taken out, sometimes with X-ray pictures to guide the surgeon.", "SRC-11"),
        c("The vein is repaired and the skin is closed with stitches.", "SRC-11"),
    ),
    (  # How long it takes
        c("It usually lasts between 1 and 2 hours.", "SRC-11"),
    ),
    (  # Where it is done
        c("In an operating theatre, usually with a short hospital stay afterwards so you can be watched.", "SRC-11"),
    ),
    (  # Who does it
        c(
            "A vascular surgeon, with theatre nurses, an anaesthetist and, when X-ray pictures are used, a "
            "radiographer.",
            "SRC-11",
        ),
    ),
    (  # Risks
        c("The wound can become infected.", "SRC-11"),
        c("Bleeding, or blood collecting under the skin (a haematoma).", "SRC-11"),
        c("Injury to the vein or to the tissue around it.", "SRC-11"),
        c("The clot can come back.", "SRC-11"),
        c("The anaesthetic has risks of its own, such as an allergic reaction.", "SRC-11"),
    ),
    (  # Benefits
        c("Blood can flow through the vein again quickly, easing symptoms.", "SRC-11"),
        c("With less pain and swelling, everyday life can become easier.", "SRC-11"),
    ),
    (  # Recovery
        c("You will have painkillers, and be shown how to care for the wound and what to avoid for a while.", "SRC-11"),
        c("Blood thinners usually continue afterwards; your team will say for how long.", "SRC-3"),
        STOCKINGS,
        c("Follow-up appointments check how you are healing.", "SRC-11"),
        c("Recovery usually takes from a few days to around two weeks, depending on your general health.", "SRC-11"),
        URGENT,
    ),
    (  # Alternatives
        c("Blood thinners alone, which stop the clot growing while the body slowly breaks it down.", "SRC-1 2.3"),
        c("Clot-dissolving drugs, given into the clot through a tube or into a vein.", "SRC-1 2.3"),
        c("Mechanical thrombectomy (PMT) through a needle puncture rather than a cut.", "SRC-1 2.5"),
        c(
            "Treatments without an operation tend to carry fewer risks straight away, though for a very large "
            "clot they can work less well or more slowly.",
            "SRC-11",
        ),
    ),
    (  # What it feels like
        c("The wound is sore at first; painkillers help.", "SRC-11"),
        c("Bruising and swelling are common and fade with time.", "SRC-11"),
        c("You will need to look after the wound and avoid heavy exertion for a while.", "SRC-11"),
    ),
)
