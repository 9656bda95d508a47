#!/usr/bin/env python3
"""Converts a binary grey PGM (P5, 8-bit: what `dlc train` writes as samples.pgm and
models/dcgan_train.c as samples_<epoch>.pgm) to a PNG, so that it renders in the docs.

    python3 tools/pgm2png.py IN.pgm OUT.png [--scale N]

--scale N repeats every pixel N times across and down (nearest neighbour), to make a
grid of 28x28 images readable.  Only the standard library: struct and zlib write the
PNG (IHDR, one IDAT, IEND; filter 0 on every row), the same bytes on every machine.
"""
import argparse
import struct
import sys
import zlib


def read_pgm(path):
    """(width, height, pixels as bytes, one per pixel, row by row)."""
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:  # magic, width, height, maxval; '#' starts a comment
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while end < len(data) and not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P5" or int(fields[3]) != 255:
        sys.exit(f"{path}: not an 8-bit binary PGM (P5, maxval 255)")
    w, h = int(fields[1]), int(fields[2])
    pixels = data[pos + 1:pos + 1 + w * h]  # one whitespace byte after maxval
    if len(pixels) != w * h:
        sys.exit(f"{path}: {len(pixels)} bytes of pixels, {w}x{h} expected")
    return w, h, pixels


def scale_rows(w, h, pixels, n):
    """The image's rows, each pixel repeated n times across and each row n times down."""
    rows = []
    for y in range(h):
        row = bytes(b for b in pixels[y * w:(y + 1) * w] for _ in range(n))
        rows.extend([row] * n)
    return rows


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def write_png(path, w, h, rows):
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)  # 8-bit grey, no interlace
    raw = b"".join(b"\0" + r for r in rows)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9))
                + chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pgm")
    ap.add_argument("png")
    ap.add_argument("--scale", type=int, default=1)
    a = ap.parse_args()
    if a.scale < 1:
        sys.exit("--scale must be 1 or more")
    w, h, pixels = read_pgm(a.pgm)
    write_png(a.png, w * a.scale, h * a.scale, scale_rows(w, h, pixels, a.scale))


if __name__ == "__main__":
    main()
