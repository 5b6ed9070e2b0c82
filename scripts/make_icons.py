#!/usr/bin/env python3
"""Generate the PWA icons in static/icons/.

DEV-ONLY TOOL. This script is not part of the running application and is not
imported by it. It needs Pillow (``pip install pillow``), which is
deliberately NOT a runtime dependency: the generated PNG/SVG files are
committed to the repository. Re-run it only when the icon design changes:

    python scripts/make_icons.py

Design: a calm, neutral white speech bubble with a small leaf, on the theme
colour #1f5f5b. The mark names no diagnosis or condition.

Outputs:
    icon-192.png, icon-512.png          purpose "any" (rounded square)
    maskable-192.png, maskable-512.png  purpose "maskable" (full-bleed
                                        background, mark inside the central
                                        80% safe zone)
    apple-touch-icon.png                180x180, full-bleed (iOS rounds it)
    shortcut-help.png, shortcut-login.png  96x96 manifest shortcut icons
    favicon.svg                         simple vector version
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

THEME = (0x1F, 0x5F, 0x5B, 255)  # #1f5f5b
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)

SS = 4  # supersampling factor for smooth (anti-aliased) edges
OUT = Path(__file__).resolve().parent.parent / "static" / "icons"
MAX_BYTES = 20 * 1024


def _leaf(size: int, angle: float) -> Image.Image:
    """A leaf (two intersecting circles), teal, rotated, on a clear layer."""
    # Lens from two circles: half-width hw, half-height hh (fractions of size).
    hw, hh = 0.17, 0.46
    r = size * (hw * hw + hh * hh) / (2 * hw)
    off = r - size * hw
    cx, cy = size / 2, size / 2
    a = Image.new("L", (size, size), 0)
    b = Image.new("L", (size, size), 0)
    ImageDraw.Draw(a).ellipse((cx - off - r, cy - r, cx - off + r, cy + r), fill=255)
    ImageDraw.Draw(b).ellipse((cx + off - r, cy - r, cx + off + r, cy + r), fill=255)

    layer = ImageChops.multiply(a, b)
    # Central vein: a thin clear line along the leaf.
    d = ImageDraw.Draw(layer)
    d.line((cx, cy - size * 0.26, cx, cy + size * 0.34), fill=0, width=max(1, size // 24))
    return layer.rotate(angle, resample=Image.BICUBIC)


def draw_mark(img: Image.Image, box: tuple[float, float, float, float]) -> None:
    """Draw the speech-bubble + leaf mark into ``box`` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    d = ImageDraw.Draw(img)
    # Bubble body: the upper ~80% of the box, tail at the lower left.
    body = (x0, y0 + h * 0.04, x1, y0 + h * 0.80)
    d.rounded_rectangle(body, radius=w * 0.26, fill=WHITE)
    d.polygon(
        [
            (x0 + w * 0.22, body[3] - h * 0.06),
            (x0 + w * 0.46, body[3] - h * 0.06),
            (x0 + w * 0.16, y1 - h * 0.02),
        ],
        fill=WHITE,
    )
    # Leaf inside the bubble, in the theme colour.
    bh = body[3] - body[1]
    leaf_size = int(bh * 0.92)
    mask = _leaf(leaf_size, angle=-35)
    lx = int(x0 + w / 2 - leaf_size / 2)
    ly = int(body[1] + bh / 2 - leaf_size / 2)
    img.paste(Image.new("RGBA", (leaf_size, leaf_size), THEME), (lx, ly), mask)


def draw_lifebuoy(img: Image.Image, box) -> None:
    """Help shortcut: a simple ring (lifebuoy) - a neutral 'help' symbol."""
    x0, y0, x1, y1 = box
    w = x1 - x0
    d = ImageDraw.Draw(img)
    d.ellipse(box, fill=WHITE)
    inner = w * 0.24
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    # Four teal bands across the ring, then punch the centre hole.
    band = w * 0.13
    for ang in (45, 135):
        layer = Image.new("L", img.size, 0)
        ImageDraw.Draw(layer).rectangle((cx - band / 2, y0 - 2, cx + band / 2, y1 + 2), fill=255)
        layer = layer.rotate(ang, center=(cx, cy), resample=Image.BICUBIC)
        ring = Image.new("L", img.size, 0)
        ImageDraw.Draw(ring).ellipse(box, fill=255)

        img.paste(Image.new("RGBA", img.size, THEME), (0, 0), ImageChops.multiply(layer, ring))
    d.ellipse((cx - inner, cy - inner, cx + inner, cy + inner), fill=THEME)


def draw_person(img: Image.Image, box) -> None:
    """Login shortcut: a simple person silhouette (head + shoulders)."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    d = ImageDraw.Draw(img)
    cx = (x0 + x1) / 2
    r = w * 0.21
    d.ellipse((cx - r, y0 + h * 0.05, cx + r, y0 + h * 0.05 + 2 * r), fill=WHITE)
    d.pieslice((x0 + w * 0.08, y0 + h * 0.56, x1 - w * 0.08, y1 + h * 0.42), 180, 360, fill=WHITE)


def render(size: int, *, maskable: bool, mark=draw_mark, mark_scale: float | None = None) -> Image.Image:
    big = size * SS
    img = Image.new("RGBA", (big, big), CLEAR)
    d = ImageDraw.Draw(img)
    if maskable:
        # Full-bleed background; the platform applies its own mask.
        d.rectangle((0, 0, big, big), fill=THEME)
        # Safe zone is a circle of radius 40% (central 80%); keep the mark
        # well within it.
        scale = mark_scale or 0.50
    else:
        d.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.22, fill=THEME)
        scale = mark_scale or 0.62
    m = big * scale
    off = (big - m) / 2
    mark(img, (off, off, off + m, off + m))
    return img.resize((size, size), Image.LANCZOS)


def save_png(img: Image.Image, name: str) -> None:
    # Palette quantisation keeps the files tiny (flat two-colour artwork).
    q = img.quantize(colors=64, method=Image.FASTOCTREE, dither=Image.NONE)
    buf = io.BytesIO()
    q.save(buf, format="PNG", optimize=True)
    data = buf.getvalue()
    if len(data) > MAX_BYTES:
        raise SystemExit(f"{name} is {len(data)} bytes (> {MAX_BYTES})")
    (OUT / name).write_bytes(data)
    print(f"wrote {name} ({img.size[0]}x{img.size[1]}, {len(data)} bytes)")


FAVICON_SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
  <rect width="64" height="64" rx="14" fill="#1f5f5b"/>
  <path fill="#fff"
        d="M22 13h20a10 10 0 0 1 10 10v12a10 10 0 0 1-10 10H28l-10 8 2-8h0a10 10 0 0 1-8-10V23a10 10 0 0 1 10-10z"/>
  <path fill="#1f5f5b" d="M24 38c0-10 8-16 17-17 0 10-7 17-17 17z"/>
</svg>
"""


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for s in (192, 512):
        save_png(render(s, maskable=False), f"icon-{s}.png")
        save_png(render(s, maskable=True), f"maskable-{s}.png")
    save_png(render(180, maskable=True, mark_scale=0.60), "apple-touch-icon.png")
    save_png(render(96, maskable=False, mark=draw_lifebuoy, mark_scale=0.66), "shortcut-help.png")
    save_png(render(96, maskable=False, mark=draw_person, mark_scale=0.62), "shortcut-login.png")
    (OUT / "favicon.svg").write_text(FAVICON_SVG, encoding="utf-8")
    print("wrote favicon.svg")


if __name__ == "__main__":
    main()
