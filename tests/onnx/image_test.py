#!/usr/bin/env python3
"""ImageDecoder end to end: images made here with Pillow in every format dlc decodes
(BMP, JPEG, JPEG 2000, PNG, PNM, TIFF, WebP), of several sizes and modes (RGB, L,
palette, RGBA, bitmaps; JPEG subsampled and progressive; PNG interlaced; PNM plain and
with maxval other than 255), each decoded to RGB, BGR and Grayscale by `dlc run` and
compared exactly with onnx's reference evaluator (ONNX Runtime 1.32 has no
ImageDecoder), which decodes with Pillow.  Where the reference returns Pillow's own mode
instead of the [H, W, 3] the operator specifies (a palette, RGBA, L or a bitmap read as
RGB), the oracle is Pillow's convert("RGB"); Grayscale is Pillow's convert("L") for
every image, which is also what the reference computes.  Then the refusals: an
encoded_stream known only at run time, and the same bound with --const-input; a
pixel_format dlc does not know; a corrupt image; an image over --max-elements.

    image_test.py --dlc build/tools/dlc
"""
import argparse
import io
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_bad import many_scans_jpeg  # noqa: E402  (the corrupt-image corpus builds the same JPEG)

FORMATS = ("RGB", "BGR", "Grayscale")


def picture(w, h, mode, seed):
    """A w x h image of mode: smooth gradients plus blocks of noise, so that lossy
    codecs and chroma subsampling meet edges as well as flat areas."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x + y) * 127 // max(w + h - 2, 1)], -1)
    noise = rng.integers(0, 256, (h // 4 + 1, w // 4 + 1, 3))
    rgb = (rgb + noise.repeat(4, 0).repeat(4, 1)[:h, :w]) % 256
    im = Image.fromarray(rgb.astype(np.uint8), "RGB")
    if mode == "RGBA":
        a = Image.fromarray(rng.integers(0, 256, (h, w)).astype(np.uint8), "L")
        im = im.copy()
        im.putalpha(a)
        return im
    if mode == "P":
        return im.quantize(colors=37)
    return im.convert(mode)


def encode(im, fmt, **kw):
    f = io.BytesIO()
    im.save(f, format=fmt, **kw)
    return f.getvalue()


def cases():
    """(name, encoded bytes)."""
    out = []
    sizes = ((1, 1), (7, 5), (33, 17), (64, 48))
    for i, (w, h) in enumerate(sizes):
        rgb, gray = picture(w, h, "RGB", i), picture(w, h, "L", i)
        out += [("png_rgb_%dx%d" % (w, h), encode(rgb, "PNG")),
                ("bmp_rgb_%dx%d" % (w, h), encode(rgb, "BMP")),
                ("ppm_%dx%d" % (w, h), encode(rgb, "PPM")),
                ("tiff_rgb_%dx%d" % (w, h), encode(rgb, "TIFF")),
                ("webp_%dx%d" % (w, h), encode(rgb, "WEBP", quality=80)),
                ("jp2_rgb_%dx%d" % (w, h), encode(rgb, "JPEG2000")),
                ("jpeg_420_%dx%d" % (w, h), encode(rgb, "JPEG", quality=90, subsampling=2)),
                ("jpeg_gray_%dx%d" % (w, h), encode(gray, "JPEG", quality=75))]
    rgb, seed = picture(45, 31, "RGB", 9), 10
    for mode in ("L", "P", "RGBA", "1", "LA"):
        im = picture(45, 31, mode, seed)
        seed += 1
        out.append(("png_%s" % mode, encode(im, "PNG")))
        if mode in ("L", "P", "1"):
            out.append(("bmp_%s" % mode, encode(im, "BMP")))
            out.append(("tiff_%s" % mode, encode(im, "TIFF")))
        if mode in ("L", "1"):
            out.append(("pnm_%s" % mode, encode(im, "PPM")))
        if mode in ("L", "RGBA"):
            out.append(("jp2_%s" % mode, encode(im, "JPEG2000")))
    out += [("png_interlaced", encode_interlaced(rgb)),
            ("png_4bit_palette", encode(picture(9, 4, "P", 3), "PNG", bits=4)),
            ("jpeg_444", encode(rgb, "JPEG", quality=95, subsampling=0)),
            ("jpeg_422", encode(rgb, "JPEG", quality=85, subsampling=1)),
            ("jpeg_progressive", encode(rgb, "JPEG", quality=80, progressive=True)),
            ("jpeg_extraneous", extraneous(encode(rgb, "JPEG"))),
            ("jpeg_896_scans", many_scans_jpeg(1)),  # under dlc's limit of 1000 scans
            ("webp_lossless", encode(rgb, "WEBP", lossless=True)),
            ("webp_rgba", encode(picture(45, 31, "RGBA", 20), "WEBP", quality=70)),
            ("tiff_lzw", encode(rgb, "TIFF", compression="tiff_lzw")),
            ("tiff_deflate", encode(rgb, "TIFF", compression="tiff_adobe_deflate")),
            ("tiff_packbits", encode(rgb, "TIFF", compression="packbits")),
            ("j2k_codestream", encode(rgb, "JPEG2000", no_jp2=True)),
            ("bmp_top_down_32", bmp32_top_down(rgb)),
            ("bmp_16_555", bmp_raw(16, 40, 0, [], bytes(range(0, 256, 3))[:8 * 2 * 3])),
            ("bmp_16_565", bmp_raw(16, 56, 3, [0xf800, 0x7e0, 0x1f, 0], bytes(range(7, 256, 5))[:8 * 2 * 3])),
            ("bmp_4bit", bmp_raw(4, 40, 0, [], bytes(range(0, 96, 2))[:12], pal=bytes(range(64)))),
            ("pnm_plain_p3", b"P3\n# a comment\n3 2\n7\n0 1 2  3 4 5  6 7 0\n7 6 5 4 3 2 1 0 7\n"),
            ("pnm_plain_p2", b"P2 4 1 200 0 1 199 200"),
            ("pnm_plain_p1", b"P1\n5 2\n10101\n0 1 1 0 0\n"),
            ("pnm_16bit", b"P6 2 1 65535\n" + bytes([0, 0, 0x80, 0, 0xff, 0xff, 0x12, 0x34, 0, 1, 0xff, 0x7f])),
            ("pnm_maxval_100", b"P5\n3 1\n100\n" + bytes([0, 50, 100]))]
    return out


def encode_interlaced(im):
    """Pillow writes no interlaced PNG; Adam7 is written here, filter type 0 on every row."""
    a = np.asarray(im)
    h, w = a.shape[:2]
    passes = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
    raw = b""
    for x0, y0, dx, dy in passes:
        sub = a[y0::dy, x0::dx]
        if sub.size:
            raw += b"".join(b"\0" + row.tobytes() for row in sub)

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 1)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def bmp32_top_down(im):
    """A 32-bit BI_RGB BMP stored top-down (negative height), written by hand."""
    a = np.asarray(im)
    h, w = a.shape[:2]
    px = np.concatenate([a[:, :, ::-1], np.full((h, w, 1), 0x5a, np.uint8)], -1).tobytes()
    head = struct.pack("<IiiHHIIiiII", 40, w, -h, 1, 32, 0, len(px), 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + len(px), 0, 0, 54) + head + px


def extraneous(jpeg):
    """Two bytes between the header's segments and the scan: libjpeg warns and skips them."""
    sos = jpeg.index(b"\xff\xda")
    return jpeg[:sos] + b"\x12\x34" + jpeg[sos:]


def bmp_raw(bpp, header, comp, masks, px, pal=b""):
    """A BMP of 8 x 3 pixels (bottom-up) with the given header size, compression, masks
    (in the header from 52 bytes on, else after it), palette and pixel rows."""
    w, h = 8, 3
    head = struct.pack("<IiiHHIIiiII", header, w, h, 1, bpp, comp, len(px), 0, 0, len(pal) // 4, 0)
    head += struct.pack("<%dI" % len(masks), *masks) if masks else b""
    head += bytes(header - len(head)) if len(head) < header else b""
    off = 14 + len(head) + len(pal)
    return b"BM" + struct.pack("<IHHI", off + len(px), 0, 0, off) + head + pal + px


def oracle(data, fmt):
    """onnx's reference evaluator; Pillow's conversion where the reference keeps a mode
    the operator's [H, W, 3] does not describe."""
    node = helper.make_node("ImageDecoder", ["x"], ["y"], pixel_format=fmt)
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.UINT8, [None])],
                          [helper.make_tensor_value_info("y", TensorProto.UINT8, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 20)])
    x = np.frombuffer(data, np.uint8)
    try:
        ref = ReferenceEvaluator(m).run(None, {"x": x})[0]
    except IndexError:  # BGR of a 2-D array (L, P, a bitmap)
        ref = None
    im = Image.open(io.BytesIO(data))
    want = np.asarray(im.convert("L"))[:, :, None] if fmt == "Grayscale" else np.asarray(im.convert("RGB"))
    if fmt == "BGR":
        want = want[:, :, ::-1]
    if ref is not None and ref.shape == want.shape and ref.dtype == np.uint8:
        if not np.array_equal(ref, want):
            raise AssertionError("the reference and Pillow's conversion disagree")
    return np.ascontiguousarray(want)


def model(items):
    """One model: an initializer and an ImageDecoder per (name, bytes, format)."""
    nodes, inits, outs = [], [], []
    for name, data, fmt in items:
        inits.append(numpy_helper.from_array(np.frombuffer(data, np.uint8).copy(), "enc_" + name))
        nodes.append(helper.make_node("ImageDecoder", ["enc_" + name], [name], name="dec_" + name, pixel_format=fmt))
        outs.append(helper.make_tensor_value_info(name, TensorProto.UINT8, None))
    g = helper.make_graph(nodes, "images", [], outs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 20)])
    m.ir_version = 9
    return m


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def decode_all(dlc, tmp):
    items, want = [], {}
    for name, data in cases():
        for fmt in FORMATS:
            key = "%s_%s" % (name, fmt.lower())
            items.append((key, data, fmt))
            want[key] = oracle(data, fmt)
    path = os.path.join(tmp, "images.onnx")
    onnx.save(model(items), path)
    out = os.path.join(tmp, "out")
    os.makedirs(out)
    p = run([dlc, "run", path, "--output", out])
    if p.returncode:
        print("FAIL dlc run: %s" % p.stderr.strip())
        return len(items)
    bad = 0
    for key, w in want.items():
        got = np.load(os.path.join(out, key + ".npy"))
        if got.shape != w.shape or got.dtype != w.dtype or not np.array_equal(got, w):
            diff = int((got != w).sum()) if got.shape == w.shape else -1
            print("FAIL %s: %s %s, want %s %s (%d values differ)" % (key, got.dtype, got.shape, w.dtype, w.shape, diff))
            bad += 1
    print("%s %d decodings (%d images x %d pixel formats) equal the reference" %
          ("ok" if not bad else "FAIL", len(want) - bad, len(want) // 3, 3))
    return bad


def refusals(dlc, tmp):
    """(what, dlc arguments after the model, model, substring of the one-line error)."""
    png = encode(picture(20, 10, "RGB", 1), "PNG")
    node = helper.make_node("ImageDecoder", ["x"], ["y"], name="dec", pixel_format="RGB")
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.UINT8, [len(png)])],
                          [helper.make_tensor_value_info("y", TensorProto.UINT8, None)])
    runtime = helper.make_model(g, opset_imports=[helper.make_opsetid("", 20)])
    npy = os.path.join(tmp, "x.npy")
    np.save(npy, np.frombuffer(png, np.uint8))
    bad = 0
    cases = [
        ("run-time input", runtime, [], "must be a constant known at compile time"),
        ("pixel_format", model([("y", png, "HSV")]), [], "pixel_format 'HSV' is not supported"),
        ("corrupt", model([("y", png[:len(png) // 2], "RGB")]), [], "PNG:"),
        ("--max-elements", model([("y", png, "RGB")]), ["--max-elements", "500"], "over the limit of 166 pixels"),
    ]
    for what, m, extra, want in cases:
        path = os.path.join(tmp, "refused.onnx")
        onnx.save(m, path)
        p = run([dlc, "compile", path, "-o", os.path.join(tmp, "r.c")] + extra)
        err = p.stderr.strip()
        ok = p.returncode == 1 and len(err.splitlines()) == 1 and want in err and "refused.onnx" in err
        bad += not ok
        print("%s refused (%s): %s" % ("ok" if ok else "FAIL", what, err))
    # the run-time input bound as a constant decodes
    out = os.path.join(tmp, "bound")
    os.makedirs(out)
    path = os.path.join(tmp, "runtime.onnx")
    onnx.save(runtime, path)
    p = run([dlc, "run", path, "--const-input", "x=" + npy, "--output", out])
    ok = p.returncode == 0 and np.array_equal(np.load(os.path.join(out, "y.npy")), oracle(png, "RGB"))
    bad += not ok
    print("%s --const-input: %s" % ("ok" if ok else "FAIL", p.stderr.strip() or "decoded"))
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dlc", required=True)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="dlc-image-") as tmp:
        bad = decode_all(a.dlc, tmp) + refusals(a.dlc, tmp)
    print("image_test: %s" % ("FAILED" if bad else "passed"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
