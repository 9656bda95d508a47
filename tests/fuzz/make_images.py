#!/usr/bin/env python3
"""Writes the seeds of fuzz_image (tests/fuzz/images/): small images of every format and
the variants the decoders branch on, made with Pillow, plus the images of onnx's
ImageDecoder node tests.

    .venv/bin/python tests/fuzz/make_images.py
"""
import io
import os
import struct

import numpy as np
from onnx.backend.test.case.node import _image_decoder_data as frozen
from PIL import Image

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "images")


def save(name, im, fmt, **kw):
    f = io.BytesIO()
    im.save(f, format=fmt, **kw)
    write(name, f.getvalue())


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(HERE, exist_ok=True)
    for f in os.listdir(HERE):
        os.remove(os.path.join(HERE, f))
    for k in ("bmp", "jpeg", "jpeg2k", "png", "pnm", "tiff", "webp"):
        write("onnx_%s" % k, bytes(getattr(frozen, "image_decoder_decode_%s_rgb" % k).data))
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (12, 16, 3)).astype(np.uint8), "RGB")
    rgba = rgb.copy()
    rgba.putalpha(Image.fromarray(rng.integers(0, 256, (12, 16)).astype(np.uint8), "L"))
    gray, pal, bit = rgb.convert("L"), rgb.quantize(colors=13), rgb.convert("1")
    save("gray.jpg", gray, "JPEG")
    save("progressive.jpg", rgb, "JPEG", progressive=True, subsampling=1)
    save("palette.png", pal, "PNG")
    save("rgba.png", rgba, "PNG")
    save("bits.png", bit, "PNG")
    save("palette.bmp", pal, "BMP")
    save("bits.bmp", bit, "BMP")
    save("gray.pgm", gray, "PPM")
    save("bits.pbm", bit, "PPM")
    save("lzw.tif", rgb, "TIFF", compression="tiff_lzw")
    save("palette.tif", pal, "TIFF")
    save("lossless.webp", rgb, "WEBP", lossless=True)
    save("rgba.webp", rgba, "WEBP")
    save("gray.jp2", gray, "JPEG2000")
    save("rgb.j2k", rgb, "JPEG2000", no_jp2=True)
    write("plain.ppm", b"P3\n# comment\n2 2 7\n0 1 2 3 4 5 6 7 0 1 2 3\n")
    write("plain.pbm", b"P1 3 2 101 010")
    head = struct.pack("<IiiHHIIiiII", 56, 2, -2, 1, 16, 3, 8, 0, 0, 0, 0) + struct.pack("<IIII", 0xf800, 0x7e0, 0x1f, 0)
    write("bitfields.bmp", b"BM" + struct.pack("<IHHI", 14 + 56 + 8, 0, 0, 70) + head + bytes(range(8)))
    print("%d seeds in %s" % (len(os.listdir(HERE)), HERE))


if __name__ == "__main__":
    main()
