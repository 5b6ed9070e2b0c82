"""QR codes as inline SVG (segno): the course meeting's check-in code and the evaluation links.

Every QR code on a page is shown with the same address as a link or text beside it, for anyone
who cannot scan (the caller's job).
"""
from __future__ import annotations

import segno
from markupsafe import Markup, escape


def qr_svg(data: str, *, title: str, scale: int = 6) -> Markup:
    """An inline SVG QR code of `data` (error correction M), with `title` as its accessible name."""
    code = segno.make(data, error="m", micro=False)
    svg = code.svg_inline(scale=scale, border=2, dark="#000", light="#fff", title=title, svgclass="qr",
                          lineclass=None, omitsize=False)
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1))
