"""Patient information leaflets for the thrombus-removal procedures (PMT, CDT, open surgery).

Each leaflet has an identifier and a version; its label ("PIL-PMT v1.0") is what a consent
record stores in `information_leaflet`. Render with `render_html` or `render_pdf`.
"""

from pathway.errors import UnknownLeafletError
from pathway.leaflets.content import LEAFLETS, SYNTHETIC_NOTICE, Leaflet, UnknownLeaflet, get_leaflet, list_leaflets
from pathway.leaflets.render import render_html, render_pdf

__all__ = [
    "LEAFLETS",
    "SYNTHETIC_NOTICE",
    "Leaflet",
    "UnknownLeaflet",
    "UnknownLeafletError",
    "get_leaflet",
    "list_leaflets",
    "render_html",
    "render_pdf",
]
