"""Render a leaflet as a printable HTML page or as a PDF."""

from __future__ import annotations

from html import escape
from typing import Final

from pathway.codes.sources import citation
from pathway.leaflets.content import NICE_GUIDANCE, SYNTHETIC_NOTICE, Leaflet

_CSS: Final = """
body { font-family: Arial, Helvetica, sans-serif; font-size: 12pt; line-height: 1.45;
       max-width: 46em; margin: 0 auto; padding: 1em 1.5em; color: #111; }
header, footer { font-size: 9.5pt; color: #444; }
header { border-bottom: 1px solid #999; padding-bottom: .4em; display: flex;
         justify-content: space-between; gap: 1em; }
footer { border-top: 1px solid #999; padding-top: .4em; margin-top: 2em; }
h1 { font-size: 20pt; margin: .6em 0 .3em; }
h2 { font-size: 14pt; margin: 1.2em 0 .3em; break-after: avoid; }
ul { margin: .2em 0 .6em 1.2em; padding: 0; }
li { margin-bottom: .3em; }
.notice { border: 2px solid #b35c00; background: #fff4e5; padding: .6em .8em; margin: 1em 0; }
.refs { font-size: 8.5pt; color: #555; white-space: nowrap; }
ol.sources { font-size: 10pt; }
@media print {
  body { max-width: none; padding: 0; }
  @page { margin: 18mm 16mm; }
  section { break-inside: avoid-page; }
}
""".strip()


def render_html(leaflet: Leaflet) -> str:
    """A complete, self-contained HTML page; every text value is HTML-escaped."""
    label = escape(leaflet.label)
    title = escape(leaflet.title)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="leaflet-id" content="{escape(leaflet.identifier)}">',
        f'<meta name="leaflet-version" content="{escape(leaflet.version)}">',
        f"<title>{title} ({label})</title>",
        f"<style>\n{_CSS}\n</style>",
        "</head>",
        "<body>",
        f"<header><span>Patient information leaflet</span><span>{label}</span></header>",
        "<main>",
        f"<h1>{title}</h1>",
        f'<p class="notice"><strong>Please note:</strong> {escape(SYNTHETIC_NOTICE)}</p>',
    ]
    for heading, claims in leaflet.statements:
        parts.append(f"<section>\n<h2>{escape(heading)}</h2>")
        sourced = [
            f'{escape(claim.text)} <span class="refs">{escape(leaflet.references(claim))}</span>' for claim in claims
        ]
        if len(sourced) == 1:
            parts.append(f"<p>{sourced[0]}</p>")
        else:
            parts.append("<ul>")
            parts.extend(f"<li>{point}</li>" for point in sourced)
            parts.append("</ul>")
        parts.append("</section>")
    parts.append('<section>\n<h2>Where this information comes from</h2>\n<ol class="sources">')
    parts.extend(f"<li>{escape(citation(source))}</li>" for source in leaflet.sources)
    parts.append("</ol>\n</section>")
    parts += [
        "</main>",
        "<footer>",
        f"<p>{label}. Source for NICE statements: {escape(NICE_GUIDANCE)}.</p>",
        f"<p>{escape(SYNTHETIC_NOTICE)}</p>",
        "</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def render_pdf(leaflet: Leaflet) -> bytes:
    """The leaflet as an A4 PDF (bytes starting with %PDF)."""
    # Imported here: fpdf2 (with fontTools and Pillow) is slow to import, and most
    # commands of the `pathway` CLI never print a leaflet.
    from pathway.leaflets.pdf import build_pdf

    return build_pdf(leaflet)
