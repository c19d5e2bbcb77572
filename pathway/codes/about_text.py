"""Text of the procedure descriptions in `about.py`, one tuple of points per heading.

Kept ASCII so the PDF core fonts (latin-1) print it unchanged. Editing this text
changes the patient information leaflets: bump their version.
"""

from __future__ import annotations

from typing import Final

URGENT: Final = (
    "Get urgent medical help if you become suddenly short of breath, have chest pain or "
    "cough up blood, have bleeding that will not stop, or your leg suddenly becomes much "
    "more painful, swollen, cold or pale."
)

PMT: Final[tuple[tuple[str, ...], ...]] = (
    (  # What it is
        "A deep vein thrombosis (DVT) is a blood clot in one of the deep veins, usually in the leg.",
        (
            "Percutaneous mechanical thrombectomy (PMT) removes the clot through a small puncture in "
            "the skin instead of an open operation. A thin, flexible tube (a catheter) is passed along "
            "the vein into the clot, and a device breaks the clot up and sucks it out."
        ),
        "There are several types of device, and they work in different ways.",
    ),
    (  # Why it is done
        (
            "The usual treatment for a DVT is anticoagulant medicine (often called a blood thinner), "
            "which stops the clot growing while the body slowly clears it. PMT aims to clear the clot "
            "faster and get blood flowing through the vein again."
        ),
        (
            "The hope is to ease pain and swelling, and to lower the chance of long-term leg problems "
            "(post-thrombotic syndrome: lasting pain, swelling and sometimes ulcers) and of a clot "
            "reaching the lungs (pulmonary embolism). NICE found the evidence on how well it works "
            "limited, so this is not certain."
        ),
        (
            "It is considered for some people with a large, recent clot, mainly in the veins of the "
            "pelvis and the top of the thigh (iliofemoral DVT). NICE was told it is likely to work "
            "better when done within 14 days of first seeking care with the DVT."
        ),
    ),
    (  # Preparation
        (
            "A team that includes a vascular surgeon, an interventional radiologist and a haematologist "
            "(a blood specialist) should assess you first, as NICE recommends."
        ),
        ("You will have a scan, such as an ultrasound scan, to show where the clot is and to plan which vein to use."),
        "You will have blood tests, including how well your blood clots and how well your kidneys work.",
        (
            "Your team will tell you whether and when to stop, continue or change your blood-thinning "
            "medicine. Do not stop it on your own."
        ),
        "Your hospital will tell you if you need to stop eating and drinking beforehand, and for how long.",
        "Tell the team if you are or might be pregnant, or if you have ever reacted to X-ray dye (contrast).",
        (
            "You will be given written information, like this, and asked to sign a consent form once "
            "your questions have been answered."
        ),
    ),
    (  # What happens
        (
            "It is done using local anaesthetic, which numbs the skin where the tube goes in. You may "
            "also be offered medicine to help you relax."
        ),
        (
            "The doctor uses imaging to choose the vein to go in through: usually the vein behind the "
            "knee (popliteal vein) or in the thigh (femoral vein)."
        ),
        (
            "The tube is guided into the clot using moving X-ray pictures (fluoroscopy). X-ray dye may "
            "be injected to show the veins."
        ),
        "The device breaks up the clot and sucks it out.",
        (
            "PMT is usually combined with a clot-dissolving drug (a thrombolytic) given straight into "
            "the clot. It can be done without the drug if the drug is not safe for you, before the drug "
            "to make the clot smaller, or after it if some clot is left."
        ),
        (
            "Sometimes a temporary filter is placed in the main vein in the abdomen (the inferior vena "
            "cava) during the procedure, to catch pieces of clot before they can reach the lungs."
        ),
        (
            "If clearing the clot shows a narrowing in the vein that may have helped cause the clot, "
            "the doctor may stretch it with a small balloon (venoplasty) or hold it open with a metal "
            "mesh tube (a stent)."
        ),
        "At the end the tube is removed and pressure is put on the puncture to stop it bleeding.",
    ),
    (  # How long it takes
        ("This varies with the amount of clot and what needs to be done. Your team will tell you what to expect."),
        (
            "If the clot-dissolving drug is given slowly through the tube, treatment can carry on into "
            "the next day, sometimes with a second session with the device."
        ),
    ),
    (  # Where it is done
        ("In hospital, in an X-ray room set up for procedures guided by imaging (an interventional radiology suite)."),
        "You will usually stay in hospital afterwards so the team can check on you.",
    ),
    (  # Who does it
        (
            "An interventional radiologist or a vascular surgeon, or both, with a radiographer who runs "
            "the X-ray equipment and nurses. If you are given medicine to relax you, someone trained in "
            "sedation looks after you."
        ),
    ),
    (  # Risks
        "NICE says the complications are well recognised but infrequent. They include:",
        (
            "Bleeding, where the tube went in (bruising or a lump of blood called a haematoma) or "
            "elsewhere. Clot-dissolving drugs add to this risk and, rarely, can cause serious bleeding, "
            "including bleeding in the brain (stroke)."
        ),
        (
            "Damage to red blood cells by the device (haemolysis), which can make your urine dark. Your "
            "blood and kidney tests will be checked afterwards."
        ),
        "Damage to the vein, including later narrowing of it.",
        "Pieces of clot breaking off and travelling to the lungs.",
        "The clot forming again.",
        "A reaction to the X-ray dye, and exposure to X-ray radiation.",
        (
            "If a temporary filter is used, it should be taken out once it is no longer needed; your "
            "team will plan this."
        ),
    ),
    (  # Benefits
        (
            "The clot can be cleared quickly, which may ease pain and swelling sooner than blood-thinning "
            "medicine alone."
        ),
        (
            "It may lower the risk of long-term leg problems and of a clot reaching the lungs. Research "
            "has not shown this clearly yet, which is why NICE asks for special arrangements or research."
        ),
        "NICE was told that for severe acute iliofemoral DVT it can save the leg.",
    ),
    (  # Recovery
        (
            "You will usually take anticoagulant medicine for at least 3 months afterwards, and "
            "sometimes longer, to stop the clot coming back."
        ),
        "Walking early and wearing compression stockings are advised.",
        "You will have check-ups, which may include scans of the vein, to see how the leg is healing.",
        "If a temporary filter was left in, you will be told when it is to be removed.",
        URGENT,
    ),
    (  # Alternatives
        "Anticoagulant medicine alone: the usual treatment for a DVT.",
        (
            "Catheter-directed thrombolysis: a clot-dissolving drug given into the clot through a tube, "
            "without a mechanical device."
        ),
        (
            "A clot-dissolving drug given through a vein elsewhere in the body (systemic thrombolysis), "
            "sometimes used for very extensive clots."
        ),
        (
            "An open operation to remove the clot (surgical thrombectomy). This is rarely used, mainly "
            "when clot-dissolving drugs have not worked or cannot be used."
        ),
        "Taking part in a research study, if one is open to you.",
    ),
    (  # What it feels like
        (
            "The local anaesthetic stings for a moment. After that you may feel pushing or pressure, "
            "but it should not hurt. Tell the team if you are uncomfortable."
        ),
        ("You will need to lie still on the table; if the tube goes in behind the knee, you will lie on your front."),
        (
            "Afterwards the puncture site may be sore or bruised for a while, and the leg may stay "
            "swollen as it recovers."
        ),
    ),
)

CDT: Final[tuple[tuple[str, ...], ...]] = (
    (  # What it is
        (
            "Catheter-directed thrombolysis (CDT) dissolves a blood clot in a deep vein using medicine "
            "delivered right into it. A thin tube (a catheter) is passed along the vein into the clot, "
            "and a clot-dissolving drug (a thrombolytic) is given through the tube, usually slowly."
        ),
        (
            "No device is used to break up the clot: the drug does the work. CDT is often combined "
            "with mechanical thrombectomy (PMT), which has its own leaflet."
        ),
    ),
    (  # Why it is done
        (
            "The usual treatment for a DVT is anticoagulant medicine alone. Extensive DVT is sometimes "
            "treated with CDT to clear the clot, get blood flowing again and ease symptoms."
        ),
        (
            "The hope is also to lower the chance of long-term leg problems (post-thrombotic "
            "syndrome). How much CDT helps in the long term is still being studied."
        ),
    ),
    (  # Preparation
        "Specialists will review your scans and your general health before offering CDT.",
        (
            "Because the drug raises the risk of bleeding, the team will ask about recent operations, "
            "injuries, strokes and any bleeding problems."
        ),
        "You will have blood tests, including how well your blood clots and how well your kidneys work.",
        (
            "Your team will tell you whether and when to stop, continue or change your blood-thinning "
            "medicine. Do not stop it on your own."
        ),
        "Your hospital will tell you if you need to stop eating and drinking beforehand, and for how long.",
        "Tell the team if you are or might be pregnant, or if you have ever reacted to X-ray dye (contrast).",
    ),
    (  # What happens
        "Local anaesthetic numbs the skin over a vein in the leg, often behind the knee or in the thigh.",
        "The tube is guided into the clot using X-ray pictures, and the drug is started.",
        "While the drug runs you are watched closely on a ward, with regular checks and blood tests.",
        (
            "You go back to the X-ray room, often the next day, for pictures to see how much clot has "
            "gone. The tube may be moved, the drug continued, or a device used to remove clot that is left."
        ),
        "If a narrowing of the vein is found, it may be stretched with a balloon or held open with a stent.",
        "When treatment ends, the tube is removed and pressure is put on the puncture.",
    ),
    (  # How long it takes
        (
            "Placing the tube is usually a single session in the X-ray room. The drug then usually runs "
            "for some hours and may continue over more than one day. Your team will tell you what to expect."
        ),
    ),
    (  # Where it is done
        (
            "In hospital: the tube is placed in an X-ray room, and you stay on a ward where you can be "
            "monitored while the drug runs."
        ),
    ),
    (  # Who does it
        (
            "An interventional radiologist or a vascular surgeon, with a radiographer and nurses. Ward "
            "nurses look after you while the drug runs."
        ),
    ),
    (  # Risks
        (
            "Bleeding is the main risk. It is most often bruising where the tube went in, but bleeding "
            "can happen elsewhere and, rarely, can be serious, including bleeding in the brain (stroke)."
        ),
        "Pieces of clot breaking off and travelling to the lungs.",
        "Damage to the vein, and the clot forming again.",
        "A reaction to the X-ray dye, and exposure to X-ray radiation.",
    ),
    (  # Benefits
        (
            "The clot can be dissolved faster than with blood-thinning medicine alone, which may ease "
            "pain and swelling sooner."
        ),
        "It may lower the risk of long-term leg problems; research has not settled how much.",
    ),
    (  # Recovery
        "You will usually continue anticoagulant medicine for at least 3 months.",
        "Your team will advise you about walking and about wearing compression stockings.",
        "You will have check-ups to see how the leg is healing.",
        URGENT,
    ),
    (  # Alternatives
        "Anticoagulant medicine alone: the usual treatment for a DVT.",
        "Mechanical thrombectomy (PMT), with or without a clot-dissolving drug.",
        "A clot-dissolving drug given through a vein elsewhere in the body (systemic thrombolysis).",
        "An open operation to remove the clot, rarely used.",
        "Taking part in a research study, if one is open to you.",
    ),
    (  # What it feels like
        "The local anaesthetic stings for a moment; placing the tube should not hurt.",
        "While the drug runs you will need to keep the leg with the tube fairly still.",
        "Afterwards the puncture site may be sore or bruised for a while.",
    ),
)

OPEN: Final[tuple[tuple[str, ...], ...]] = (
    (  # What it is
        (
            "An operation to remove a blood clot from a large vein of the leg or pelvis (the femoral, "
            "popliteal or iliac veins, or the vena cava) through a cut (incision) in the leg."
        ),
        "The surgeon removes the clot directly or with a thin tube (a catheter), then repairs the vein.",
    ),
    (  # Why it is done
        (
            "To get blood flowing through a blocked vein again, ease pain and swelling, and lower the "
            "risk of a clot travelling to the lungs."
        ),
        (
            "It may be considered when symptoms are severe, when the clot has not responded to other "
            "treatment, or when clot-dissolving drugs cannot be used. NICE notes that this operation is "
            "rarely used."
        ),
    ),
    (  # Preparation
        (
            "You will usually be asked not to eat for several hours beforehand (often at least 8 hours); "
            "your hospital will give you exact times."
        ),
        (
            "Your team will tell you whether and when to stop or change your blood-thinning medicine. "
            "Do not stop it on your own."
        ),
        "You will have scans, such as an ultrasound scan or a venogram, to find the clot, and blood tests.",
    ),
    (  # What happens
        "You are given an anaesthetic or sedation.",
        "The surgeon makes a cut in the leg to reach the vein.",
        "The clot is removed directly or with a catheter; X-ray imaging may be used to guide this.",
        "The vein is repaired and the cut is closed with stitches.",
    ),
    (  # How long it takes
        "Usually about 1 to 2 hours.",
    ),
    (  # Where it is done
        "In a hospital operating theatre, usually followed by a short stay in hospital for monitoring.",
    ),
    (  # Who does it
        ("A vascular surgeon, with theatre nurses and an anaesthetist, and a radiographer if X-ray imaging is used."),
    ),
    (  # Risks
        "Infection of the wound.",
        "Bleeding, or a collection of blood under the skin (haematoma).",
        "Damage to the vein or to the tissues around it.",
        "The clot forming again.",
        "Risks of the anaesthetic, such as an allergic reaction.",
    ),
    (  # Benefits
        "Blood flow can be restored and symptoms eased quickly.",
        "It may help prevent a clot reaching the lungs.",
        "Less pain and swelling can mean a better quality of life.",
    ),
    (  # Recovery
        "You will be given pain relief and told how to care for the wound and which activities to avoid.",
        "You will usually continue anticoagulant medicine; your team will tell you for how long.",
        "Compression stockings may be recommended.",
        "You will have follow-up appointments to check your recovery.",
        "Full recovery can take from several days to a couple of weeks, depending on your health.",
        URGENT,
    ),
    (  # Alternatives
        "Anticoagulant medicine alone, which stops new clot forming while the body clears the clot slowly.",
        "Clot-dissolving drugs (thrombolysis), given into the clot through a tube or into a vein.",
        "Mechanical thrombectomy (PMT) through a small puncture instead of a cut.",
        (
            "Less invasive options usually carry fewer immediate risks, but may work less well for large "
            "clots and can take longer."
        ),
    ),
    (  # What it feels like
        "The wound will be sore afterwards; painkillers help with mild to moderate pain.",
        "Swelling and bruising are common and settle over time.",
        "You will need to look after the wound and avoid strenuous activity for a while.",
    ),
)
