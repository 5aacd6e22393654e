"""Generates test images with Pillow and hashes them the way python-threatexchange does.

Run by matcher/tests/pytx_parity.rs with the private venv's python (scripts/pytx-venv):

    python hash_images.py OUT_DIR [EXTRA_IMAGE ...]

Writes generated images of many sizes, formats and colour modes into OUT_DIR, then prints one
JSON object a line for each generated and each extra image:
    {"path", "pillow_rgb": [hex, quality], "pytx": [hex, quality]}
`pillow_rgb` is pdqhash on Pillow's RGB decode (`Image.convert("RGB")`); `pytx` is pytx's own
PDQ hasher (threatexchange.signal_type.pdq.pdq_hasher.pdq_from_file), what its lists hold.
"""

import json
import random
import sys
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image, ImageDraw, ImageFilter
from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_file


def bits_to_hex(bits):
    return "".join(
        "%x" % int("".join(str(b) for b in bits[i : i + 4]), 2) for i in range(0, len(bits), 4)
    )


def picture(rng, width, height):
    """A photo-like RGB picture: a gradient, shapes, blur and noise."""
    x = np.linspace(0, 1, width)[None, :]
    y = np.linspace(0, 1, height)[:, None]
    phase = rng.random() * 6.28
    r = 127 + 120 * np.sin(6 * x + phase) * np.cos(4 * y)
    g = 255 * (x * y) ** rng.uniform(0.3, 2)
    b = 127 + 100 * np.cos(9 * (x - y) + phase)
    base = np.stack([r, g, b], axis=2).clip(0, 255).astype(np.uint8)
    img = Image.fromarray(base, "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1, y1 = x0 + rng.randrange(1, width), y0 + rng.randrange(1, height)
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse([x0, y0, x1, y1], fill=colour)
        else:
            draw.rectangle([x0, y0, x1, y1], fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0, 3)))
    noise = np.asarray(img).astype(np.int16) + np.random.default_rng(
        rng.randrange(2**32)
    ).integers(-12, 13, size=(height, width, 3), dtype=np.int16)
    return Image.fromarray(noise.clip(0, 255).astype(np.uint8), "RGB")


def generate(out, rng):
    sizes = [(64, 64), (100, 37), (255, 257), (511, 512), (512, 513), (640, 480), (800, 600),
             (1023, 767), (1280, 720), (333, 1500), (1600, 1200), (2000, 130)]
    variants = [
        ("jpeg-q95-444", "JPEG", dict(quality=95, subsampling=0)),
        ("jpeg-q85-420", "JPEG", dict(quality=85, subsampling=2)),
        ("jpeg-q75-422", "JPEG", dict(quality=75, subsampling=1)),
        ("jpeg-q60-prog", "JPEG", dict(quality=60, progressive=True)),
        ("jpeg-q90-grey", "JPEG-L", dict(quality=90)),
        ("png-rgb", "PNG", {}),
        ("png-rgba", "PNG-RGBA", {}),
        ("png-grey", "PNG-L", {}),
        ("png-palette", "PNG-P", {}),
        ("webp-lossless", "WEBP", dict(lossless=True)),
        ("webp-q80", "WEBP", dict(quality=80)),
        ("bmp", "BMP", {}),
        ("tiff", "TIFF", {}),
        ("gif", "GIF", {}),
    ]
    paths = []
    for w, h in sizes:
        img = picture(rng, w, h)
        for name, kind, opts in variants:
            fmt, _, mode = kind.partition("-")
            im = img
            if mode == "L":
                im = img.convert("L")
            elif mode == "RGBA":
                im = img.copy()
                im.putalpha(Image.linear_gradient("L").resize((w, h)))
            elif mode == "P" or fmt == "GIF":
                im = img.quantize(colors=200, dither=Image.Dither.NONE)
            ext = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "BMP": "bmp",
                   "TIFF": "tif", "GIF": "gif"}[fmt]
            path = out / f"{w}x{h}-{name}.{ext}"
            im.save(path, fmt, **opts)
            paths.append(path)
    # A checkerboard (the worst case for decoders' rounding) and a CMYK JPEG.
    board = Image.fromarray(
        (np.indices((600, 600)).sum(axis=0) % 2 * 255).astype(np.uint8), "L"
    ).convert("RGB")
    for q in (90, 75):
        path = out / f"600x600-checkerboard-q{q}.jpg"
        board.save(path, "JPEG", quality=q)
        paths.append(path)
    path = out / "700x500-jpeg-cmyk.jpg"
    picture(rng, 700, 500).convert("CMYK").save(path, "JPEG", quality=90)
    paths.append(path)
    return paths


def main():
    out = Path(sys.argv[1])
    rng = random.Random(0x7A6B)
    paths = generate(out, rng) + [Path(p) for p in sys.argv[2:]]
    for path in paths:
        with Image.open(path) as img:
            mode = img.mode
            bits, quality = pdqhash.compute(np.asarray(img.convert("RGB")))
        pytx_hash, pytx_quality = pdq_from_file(path)
        print(json.dumps({
            "path": str(path),
            "pillow_rgb": [bits_to_hex(list(bits)), int(quality)],
            "pytx": [pytx_hash, int(pytx_quality)],
            "mode": mode,
        }))


main()
