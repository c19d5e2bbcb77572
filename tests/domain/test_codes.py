"""Code search, code details and diagnosis-code suggestions, against the real code sets."""

import json

import pytest
from typer.testing import CliRunner

from pathway.cli.codes import codes_app
from pathway.codes import (
    ABOUT_HEADINGS,
    VEIN_SEGMENTS,
    get_procedure,
    icd,
    opcs4_candidates,
    procedure_codes,
    search_codes,
    show_code,
    suggest_diagnosis_codes,
)
from pathway.codes.index import search_index
from pathway.errors import UnknownCodeError


def _codes(text: str, system: str | None = None, limit: int = 50) -> list[tuple[str, str]]:
    return [(e.code, e.system) for e in search_codes(text, system=system, limit=limit)]


# --- the packages' own data ---------------------------------------------------------


def test_icd_packages_store_codes_with_dots() -> None:
    assert "I82.411" in icd.all_codes("icd10cm")
    assert "I82411" not in icd.all_codes("icd10cm")
    assert "I80.1" in icd.all_codes("icd10")
    assert icd.canonical("icd10cm", "i82411") == "I82.411"
    assert icd.canonical("icd10cm", "I82.4y1") == "I82.4Y1"
    assert icd.canonical("icd10", "I82.411") is None


def test_icd_descriptions_match_the_spec_table() -> None:
    assert icd.description("icd10", "I80.1") == "Phlebitis and thrombophlebitis of femoral vein"
    assert icd.description("icd10cm", "I82.411") == "Acute embolism and thrombosis of right femoral vein"
    assert icd.description("icd10cm", "I82.4Y1") == (
        "Acute embolism and thrombosis of unspecified deep veins of right proximal lower extremity"
    )
    # A known third-party mislabel maps I82.401 to femoral and I82.411 to iliac.
    assert "femoral" not in icd.description("icd10cm", "I82.401")
    assert "iliac" not in icd.description("icd10cm", "I82.411")


# --- search_codes ---------------------------------------------------------------------


def test_search_codes_finds_femoral_dvt_in_icd10cm() -> None:
    assert ("I82.411", "icd10cm") in _codes("femoral vein", system="icd10cm")


def test_search_codes_finds_femoral_vein_in_who_icd10() -> None:
    assert ("I80.1", "icd10") in _codes("femoral vein", system="icd10")


def test_search_codes_searches_all_systems_by_default() -> None:
    found = _codes("femoral vein")
    assert ("I80.1", "icd10") in found
    assert ("I82.411", "icd10cm") in found


def test_search_codes_ranks_exact_code_first() -> None:
    assert _codes("I82.411")[0] == ("I82.411", "icd10cm")
    assert _codes("37187")[0] == ("37187", "procedure")


def test_search_codes_matches_code_without_dot_in_any_case() -> None:
    assert _codes("i824y1") == [("I82.4Y1", "icd10cm")]
    assert _codes("i82.4Y1") == [("I82.4Y1", "icd10cm")]


def test_search_codes_lists_code_prefix_matches_in_classification_order() -> None:
    found = _codes("I82.4", limit=10)
    assert found[0] == ("I82.4", "icd10cm")
    assert all(code.startswith("I82.4") for code, _ in found)
    assert found[1:3] == [("I82.40", "icd10cm"), ("I82.401", "icd10cm")]


def test_search_codes_ranks_code_prefix_before_description() -> None:
    found = _codes("344")
    assert found == [("34401", "procedure"), ("34421", "procedure"), ("34451", "procedure")]


def test_search_codes_requires_every_word() -> None:
    results = search_codes("acute femoral vein left", system="icd10cm")
    assert results
    for entry in results:
        text = entry.description.lower()
        assert all(word in text for word in ("acute", "femoral", "vein", "left"))
    assert results[0].code == "I82.412"


def test_search_codes_ranks_whole_words_before_parts_of_words() -> None:
    found = _codes("popliteal", limit=1000)
    # "popliteal" inside "femoropopliteal" still finds the open thrombectomy code, but after
    # every description holding the whole word, although procedures come first within a rank.
    assert found.index(("I82.431", "icd10cm")) < found.index(("34421", "procedure"))


def test_search_codes_finds_icd10cm_inclusion_terms() -> None:
    assert _codes("DVT") == [("I82.40", "icd10cm")]


def test_search_codes_short_words_must_be_whole_words() -> None:
    assert _codes("I", system="procedure") == []


def test_search_codes_respects_limit() -> None:
    assert len(search_codes("vein", limit=5)) == 5


def test_search_codes_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="empty"):
        search_codes("   ")
    with pytest.raises(ValueError, match="limit"):
        search_codes("vein", limit=0)
    with pytest.raises(ValueError, match="system"):
        search_codes("vein", system="snomed")


def test_search_codes_builds_index_once() -> None:
    assert search_index() is search_index()
    assert len(search_index().entries) > 100_000  # full WHO ICD-10 and ICD-10-CM


def test_search_codes_shows_unconfirmed_procedures_as_unconfirmed() -> None:
    (entry,) = search_codes("37192")
    assert entry.description.endswith("[UNCONFIRMED]")


# --- show_code ------------------------------------------------------------------------


def test_show_code_open_thrombectomy_lists_pmt_as_similar() -> None:
    detail = show_code("34421")
    assert detail.system == "procedure"
    assert "37187" in [e.code for e in detail.similar]
    assert tuple(s.heading for s in detail.about) == ABOUT_HEADINGS


def test_show_code_pmt_lists_related_procedures() -> None:
    similar = [e.code for e in show_code("37187").similar]
    assert similar[:3] == ["37188", "37212", "34421"]


def test_show_code_pmt_about_uses_htg516_facts_only() -> None:
    text = " ".join(" ".join(s.points) for s in show_code("37187").about)
    for fact in ("local anaesthetic", "popliteal", "femoral", "temporary filter", "at least 3 months"):
        assert fact in text
    assert "Compression stockings" in text and "do not advise wearing them routinely" in text  # R16
    assert "8 hours" not in text  # the seed's fasting time is for open surgery, LOCAL for PMT


def test_show_code_main_procedures_have_about_sections() -> None:
    for code in ("37187", "37212", "34421"):
        about = show_code(code).about
        assert tuple(s.heading for s in about) == ABOUT_HEADINGS
        assert all(s.points for s in about)


def test_show_code_icd10cm_gives_parent_and_siblings() -> None:
    detail = show_code("i82411")
    assert (detail.code, detail.system) == ("I82.411", "icd10cm")
    assert detail.parent is not None and detail.parent.code == "I82.41"
    assert [e.code for e in detail.similar] == ["I82.412", "I82.413", "I82.419"]


def test_show_code_icd10cm_gives_children_and_inclusion_terms() -> None:
    detail = show_code("I82.41")
    assert [e.code for e in detail.children] == ["I82.411", "I82.412", "I82.413", "I82.419"]
    assert "Acute embolism and thrombosis of common femoral vein" in detail.includes


def test_show_code_prefers_who_when_code_is_in_both() -> None:
    detail = show_code("I80.1")
    assert detail.system == "icd10"
    assert detail.also_in == ("icd10cm",)
    assert "I80.2" in [e.code for e in detail.similar]
    cm = show_code("I80.1", system="icd10cm")
    assert [e.code for e in cm.children] == ["I80.10", "I80.11", "I80.12", "I80.13"]


def test_show_code_unknown_raises_clear_error() -> None:
    with pytest.raises(UnknownCodeError, match="unknown code 'XYZ'"):
        show_code("XYZ")
    with pytest.raises(KeyError):
        show_code("I82.411", system="icd10")
    with pytest.raises(ValueError):
        show_code("99999")


def test_show_code_flags_unconfirmed_procedure() -> None:
    detail = show_code("37192")
    assert not detail.confirmed
    assert any("UNCONFIRMED" in note for note in detail.notes)


# --- procedure table --------------------------------------------------------------------


def test_procedure_table_has_the_pathway_codes() -> None:
    required = {"34401", "34421", "34451", "37187", "37188", "37212", "37213", "37214", "37238", "37239"}
    required |= {"37248", "37249", "37191", "37193"}
    table = {p.code: p for p in procedure_codes()}
    assert required <= set(table)
    assert all(table[code].confirmed for code in required)


def test_procedure_table_similar_codes_exist() -> None:
    for proc in procedure_codes():
        assert proc.code not in proc.similar
        assert all(get_procedure(other) is not None for other in proc.similar), proc.code


def test_procedure_table_never_confirms_opcs4() -> None:
    assert opcs4_candidates()
    assert not any(candidate.confirmed for candidate in opcs4_candidates())
    assert search_codes("L90", system="procedure") == []


# --- suggest_diagnosis_codes ------------------------------------------------------------


def codes_of(veins: list[str], leg: str, system: str) -> list[str]:
    return [str(c["code"]) for c in suggest_diagnosis_codes(veins, leg) if c["system"] == system]


def test_suggest_diagnosis_codes_femoral_right() -> None:
    suggestion = suggest_diagnosis_codes(["common_femoral", "femoral"], "right")
    assert suggestion == [
        {
            "system": "icd10",
            "code": "I80.1",
            "description": icd.description("icd10", "I80.1"),
            "segments": ["common_femoral", "femoral"],
        },
        {
            "system": "icd10cm",
            "code": "I82.411",
            "description": "Acute embolism and thrombosis of right femoral vein",
            "segments": ["common_femoral", "femoral"],
        },
    ]


def test_suggest_diagnosis_codes_femoral_left() -> None:
    assert codes_of(["common_femoral", "femoral"], "left", "icd10") == ["I80.1"]
    assert codes_of(["common_femoral", "femoral"], "left", "icd10cm") == ["I82.412"]


def test_suggest_diagnosis_codes_iliac_and_femoral_left_gives_both_veins() -> None:
    assert codes_of(["external_iliac", "common_femoral"], "left", "icd10cm") == ["I82.422", "I82.412"]
    assert codes_of(["external_iliac", "common_femoral"], "left", "icd10") == ["I80.2", "I80.1"]


def test_suggest_diagnosis_codes_ivc_iliac_and_cfv_keep_the_leg_and_its_side() -> None:
    """The review's case: IVC + iliac + CFV on the left leg gave I82.2 / I82.220 only (leg and side lost)."""
    cm = codes_of(["ivc", "common_iliac", "common_femoral"], "left", "icd10cm")
    assert cm == ["I82.220", "I82.422", "I82.412"]
    assert all(icd.description("icd10cm", code).count(" left ") == 1 for code in cm[1:])
    assert codes_of(["ivc", "common_iliac", "common_femoral"], "left", "icd10") == ["I82.2", "I80.2", "I80.1"]


def test_suggest_diagnosis_codes_every_distal_vein_too() -> None:
    assert codes_of(["peroneal", "popliteal", "calf_muscle"], "right", "icd10cm") == ["I82.431", "I82.451", "I82.461"]
    assert codes_of(["peroneal", "popliteal", "calf_muscle"], "right", "icd10") == ["I80.2"]
    assert codes_of(["common_iliac", "ivc"], "left", "icd10cm") == ["I82.220", "I82.422"]


# segment -> WHO code, ICD-10-CM family, words its ICD-10-CM description must hold
_EXPECTED = {
    "ivc": ("I82.2", "I82.220", "inferior vena cava"),
    "common_iliac": ("I80.2", "I82.42", "iliac vein"),
    "external_iliac": ("I80.2", "I82.42", "iliac vein"),
    "internal_iliac": ("I80.2", "I82.42", "iliac vein"),
    "common_femoral": ("I80.1", "I82.41", "femoral vein"),
    "femoral": ("I80.1", "I82.41", "femoral vein"),
    "deep_femoral": ("I80.1", "I82.41", "femoral vein"),
    "popliteal": ("I80.2", "I82.43", "popliteal vein"),
    "posterior_tibial": ("I80.2", "I82.44", "tibial vein"),
    "anterior_tibial": ("I80.2", "I82.44", "tibial vein"),
    "peroneal": ("I80.2", "I82.45", "peroneal vein"),
    "calf_muscle": ("I80.2", "I82.46", "calf muscular vein"),
}
_WHO_WORDS = {"I80.1": "femoral vein", "I80.2": "other deep vessels of lower extremities", "I82.2": "vena cava"}


@pytest.mark.parametrize("leg", ["right", "left"])
@pytest.mark.parametrize("segment", VEIN_SEGMENTS)
def test_suggest_diagnosis_codes_matches_package_descriptions(segment: str, leg: str) -> None:
    who, family, words = _EXPECTED[segment]
    who_code, cm = suggest_diagnosis_codes([segment], leg)
    expected_cm = family if segment == "ivc" else family + {"right": "1", "left": "2"}[leg]
    assert (who_code["code"], cm["code"]) == (who, expected_cm)
    description = str(cm["description"])
    assert description == icd.description("icd10cm", expected_cm)
    assert description.startswith("Acute embolism and thrombosis of")
    assert words in description
    if segment != "ivc":
        assert f" {leg} " in description
    assert _WHO_WORDS[who] in str(who_code["description"])


def test_suggest_diagnosis_codes_segment_groups_match_icd10cm_inclusion_terms() -> None:
    femoral = " ".join(icd.inclusion_terms("icd10cm", "I82.41"))
    assert "common femoral vein" in femoral and "deep femoral vein" in femoral
    iliac = " ".join(icd.inclusion_terms("icd10cm", "I82.42"))
    assert all(f"{kind} iliac vein" in iliac for kind in ("common", "external", "internal"))
    calf = " ".join(icd.inclusion_terms("icd10cm", "I82.46"))
    assert "gastrocnemial" in calf and "soleal" in calf


def test_suggest_diagnosis_codes_segments_match_vocabulary() -> None:
    from pathway.domain.vocabulary import SEGMENT_ORDER

    assert tuple(str(s) for s in SEGMENT_ORDER) == VEIN_SEGMENTS


def test_suggest_diagnosis_codes_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="leg"):
        suggest_diagnosis_codes(["femoral"], "both")
    with pytest.raises(ValueError, match="unknown vein"):
        suggest_diagnosis_codes(["saphenous"], "left")
    with pytest.raises(ValueError, match="at least one"):
        suggest_diagnosis_codes([], "left")


# --- command line ---------------------------------------------------------------------

runner = CliRunner()


def test_codes_cli_search_json_lists_matches() -> None:
    result = runner.invoke(codes_app, ["search", "femoral vein", "--system", "icd10cm", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {
        "code": "I82.411",
        "system": "icd10cm",
        "description": "Acute embolism and thrombosis of right femoral vein",
    } in rows
    assert all(set(row) == {"code", "system", "description"} for row in rows)


def test_codes_cli_search_table_and_limit() -> None:
    result = runner.invoke(codes_app, ["search", "34", "--system", "procedure", "--limit", "2"])
    assert result.exit_code == 0, result.output
    assert "34401" in result.stdout and "34421" in result.stdout
    assert "34451" not in result.stdout


def test_codes_cli_search_csv() -> None:
    result = runner.invoke(codes_app, ["search", "I80.1", "--format", "csv"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "code,system,description"
    assert lines[1] == "I80.1,icd10,Phlebitis and thrombophlebitis of femoral vein"


def test_codes_cli_show_json_includes_similar() -> None:
    result = runner.invoke(codes_app, ["show", "34421", "--format", "json"])
    assert result.exit_code == 0, result.output
    detail = json.loads(result.stdout)
    assert detail["code"] == "34421"
    assert "37187" in [s["code"] for s in detail["similar"]]
    assert [s["heading"] for s in detail["about"]] == list(ABOUT_HEADINGS)


def test_codes_cli_show_table_prints_about_sections() -> None:
    result = runner.invoke(codes_app, ["show", "37187"])
    assert result.exit_code == 0, result.output
    assert "What it feels like" in result.stdout and "37188" in result.stdout


def test_codes_cli_show_unknown_code_exits_1() -> None:
    result = runner.invoke(codes_app, ["show", "XYZ"])
    assert result.exit_code == 1
    assert "unknown code 'XYZ'" in result.stderr


def test_codes_cli_search_empty_text_exits_1() -> None:
    result = runner.invoke(codes_app, ["search", " "])
    assert result.exit_code == 1
    assert "empty" in result.stderr
