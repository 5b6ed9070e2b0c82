#!/usr/bin/env python3
"""Generate static/icons/notification-192.png, the icon on every notification.

DEV-ONLY TOOL, standard library only (zlib, struct): not imported by the app; the PNG is
committed. The lock screen shows this icon next to the app's name, so it is a plain shape with no
text and no mark that hints at what the service is: a filled circle in the theme colour with a
white dot, anti-aliased, on a transparent background.

    python scripts/make_notification_icon.py
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

SIZE = 192
THEME = (0x1F, 0x5F, 0x5B)
OUT = Path(__file__).resolve().parent.parent / "static" / "icons" / "notification-192.png"
SAMPLES = 4  # per axis, for smooth edges


def coverage(x: int, y: int, radius: float) -> float:
    """How much of pixel (x, y) lies inside the centred circle of `radius` (0..1)."""
    centre, inside = SIZE / 2, 0
    for i in range(SAMPLES):
        for j in range(SAMPLES):
            dx = x + (i + 0.5) / SAMPLES - centre
            dy = y + (j + 0.5) / SAMPLES - centre
            inside += dx * dx + dy * dy <= radius * radius
    return inside / (SAMPLES * SAMPLES)


def pixels() -> bytes:
    rows = []
    for y in range(SIZE):
        row = bytearray([0])  # filter: none
        for x in range(SIZE):
            outer, dot = coverage(x, y, SIZE * 0.46), coverage(x, y, SIZE * 0.16)
            colour = [round(c * (1 - dot) + 255 * dot) for c in THEME]
            row += bytes([*colour, round(255 * outer)])
        rows.append(bytes(row))
    return b"".join(rows)


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def main() -> None:
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)  # 8-bit RGBA
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels(), 9))
           + chunk(b"IEND", b""))
    OUT.write_bytes(png)
    print(f"wrote {OUT} ({len(png)} bytes)")


if __name__ == "__main__":
    main()
