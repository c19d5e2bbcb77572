"""The PDF form of a leaflet, drawn with fpdf2's core fonts (latin-1 only, no font files)."""

from __future__ import annotations

from typing import Final

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from pathway.codes.sources import citation
from pathway.leaflets.content import NICE_GUIDANCE, SYNTHETIC_NOTICE, Leaflet

# Core PDF fonts encode latin-1 only: map common typographic characters, replace the rest.
_LATIN1: Final = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u2022": "-",
        "\u00a0": " ",
        "\u2265": ">=",
        "\u2264": "<=",
    }
)


def latin1(text: str) -> str:
    """`text` made printable by the PDF core fonts (unknown characters become '?')."""
    return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


class _LeafletPdf(FPDF):
    """A4 page with the leaflet label in the header and the synthetic notice in the footer."""

    def __init__(self, leaflet: Leaflet) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.leaflet = leaflet
        self.set_margins(18, 20, 18)
        self.set_auto_page_break(auto=True, margin=22)

    def header(self) -> None:
        self.set_font("Helvetica", size=8.5)
        self.set_text_color(70)
        self.cell(0, 5, "Patient information leaflet", new_x=XPos.LMARGIN, new_y=YPos.TOP)
        self.cell(0, 5, latin1(self.leaflet.label), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(5)
        self.set_text_color(0)

    def footer(self) -> None:
        self.set_y(-17)
        self.set_font("Helvetica", size=7.5)
        self.set_text_color(70)
        self.multi_cell(0, 3.5, latin1(f"{self.leaflet.label}. {SYNTHETIC_NOTICE}"), align="L")
        self.cell(0, 4, f"Page {self.page_no()}/{{nb}}", align="R")
        self.set_text_color(0)


def build_pdf(leaflet: Leaflet) -> bytes:
    """The leaflet as PDF bytes (starts with %PDF)."""
    pdf = _LeafletPdf(leaflet)
    pdf.set_title(latin1(f"{leaflet.title} ({leaflet.label})"))
    pdf.set_subject(latin1(leaflet.label))
    pdf.set_creator("dvt-pathway")
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=17)
    pdf.multi_cell(0, 8, latin1(leaflet.title), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font("Helvetica", style="B", size=9.5)
    pdf.set_fill_color(255, 244, 229)
    pdf.multi_cell(
        0,
        5,
        latin1(f"Please note: {SYNTHETIC_NOTICE}"),
        border=1,
        fill=True,
        align="L",
        padding=2,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    bullet_indent = 5.0
    for heading, claims in leaflet.statements:
        pdf.ln(3)
        pdf.set_font("Helvetica", style="B", size=12.5)
        pdf.multi_cell(0, 7, latin1(heading), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", size=10.5)
        for claim in claims:
            if len(claims) > 1:
                pdf.cell(bullet_indent, 5.5, "-")
            text = f"{claim.text} {leaflet.references(claim)}"
            pdf.multi_cell(0, 5.5, latin1(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(0.8)
    pdf.ln(3)
    pdf.set_font("Helvetica", style="B", size=12.5)
    pdf.multi_cell(0, 7, "Where this information comes from", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=9.5)
    for number, source in enumerate(leaflet.sources, 1):
        pdf.multi_cell(0, 5, latin1(f"{number}. {citation(source)}"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font("Helvetica", style="I", size=8.5)
    pdf.multi_cell(
        0,
        4.5,
        latin1(f"Source for NICE statements: {NICE_GUIDANCE}."),
        align="L",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    return bytes(pdf.output())
