"""The built-in sample dataset: five kinds of monster, drawn with Pillow, nothing downloaded.

Each kind has one trait a pretrained network sees at a glance (one big eye, a white sheet,
bandage stripes, a translucent green puddle, a black cape with a red collar); everything else
(colour within the kind's range, size, place, tilt, pose, background) varies per picture so a
model has to learn the trait, not the picture.
"""
from __future__ import annotations

import colorsys
import math
import os
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

CLASSES = ("cyclops", "ghost", "mummy", "slime", "vampire")


def write_sample(folder: str | os.PathLike, per_class: int = 40, seed: int = 0, size: int = 160) -> Path:
    """Write folder/<class>/<class>_NNN.png|.jpg, `per_class` of each kind; the same seed gives the same files."""
    folder = Path(folder)
    for cls in CLASSES:
        (folder / cls).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            rng = random.Random(f"{seed}/{cls}/{i}")  # str seeds are stable across runs
            suffix = ".jpg" if i % 3 == 2 else ".png"  # mixed formats, like a real folder
            write_picture(cls, folder / cls / f"{cls}_{i:03d}{suffix}", rng, size)
    return folder


def write_picture(cls: str, path: str | os.PathLike, rng: random.Random, size: int = 160) -> Path:
    path = Path(path)
    img = draw_picture(cls, rng, size)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        img.save(path, quality=90)
    else:
        img.save(path, compress_level=1)  # noise compresses badly anyway; favour speed
    return path


def draw_picture(cls: str, rng: random.Random, size: int = 160) -> Image.Image:
    """One RGB picture of a monster of kind `cls` on a random background."""
    if cls not in _DRAWERS:
        raise ValueError(f"unknown monster kind {cls!r}; expected one of {', '.join(CLASSES)}")
    s = size * 2  # drawn at twice the size, then halved: cheap anti-aliasing
    canvas = _background(rng, s)
    layer = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    r = s * rng.uniform(0.2, 0.28)
    cx, cy = s * rng.uniform(0.4, 0.6), s * rng.uniform(0.43, 0.57)
    _DRAWERS[cls](layer, cx, cy, r, rng)
    box = layer.getbbox() or (0, 0, s, s)
    monster = layer.crop(box).rotate(rng.uniform(-14, 14), Image.BILINEAR, expand=True)  # tilt only the drawn part: faster
    if rng.random() < 0.5:
        monster = monster.transpose(Image.FLIP_LEFT_RIGHT)
    layer = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    layer.paste(monster, ((box[0] + box[2] - monster.width) // 2, (box[1] + box[3] - monster.height) // 2))
    arr = np.asarray(Image.alpha_composite(canvas, layer).convert("RGB").reduce(2), np.float32)
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0.0, rng.uniform(0, 8), (size, size, 1))
    return Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8), "RGB")


def _hsv(h: float, s: float, v: float, a: int = 255) -> tuple[int, int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0), 1), min(max(v, 0), 1))
    return round(r * 255), round(g * 255), round(b * 255), a


def _background(rng: random.Random, s: int) -> Image.Image:
    """A gradient in two muted colours and a few faint shapes (noise comes last, on the whole picture)."""
    top = np.array(_hsv(rng.random(), rng.uniform(0.05, 0.5), rng.uniform(0.3, 0.95))[:3], np.float32)
    bottom = np.array(_hsv(rng.random(), rng.uniform(0.05, 0.5), rng.uniform(0.3, 0.95))[:3], np.float32)
    t = np.linspace(0.0, 1.0, s, dtype=np.float32)[:, None, None]
    column = Image.fromarray((top * (1 - t) + bottom * t).astype(np.uint8), "RGB")
    img = column.resize((s, s), Image.NEAREST)
    d = ImageDraw.Draw(img, "RGBA")  # on an RGB picture, "RGBA" mode blends the translucent fills
    for _ in range(rng.randint(1, 5)):
        x, y, w = rng.uniform(0, s), rng.uniform(0, s), rng.uniform(0.03, 0.15) * s
        fill = _hsv(rng.random(), rng.uniform(0.1, 0.6), rng.uniform(0.3, 1.0), rng.randint(50, 130))
        kind = rng.randrange(3)
        if kind == 0:
            d.ellipse((x - w, y - w, x + w, y + w), fill=fill)
        elif kind == 1:
            d.rectangle((x - w, y - w / 2, x + w, y + w / 2), fill=fill)
        else:
            d.line((x, y, x + rng.uniform(-3, 3) * w, y + rng.uniform(-3, 3) * w), fill=fill, width=max(2, round(w / 5)))
    return img.convert("RGBA")


def _eye(d: ImageDraw.ImageDraw, x: float, y: float, er: float, rng: random.Random, iris=None) -> None:
    d.ellipse((x - er, y - er, x + er, y + er), fill=(250, 250, 245, 255), outline=(30, 30, 30, 255), width=max(1, round(er / 10)))
    look = rng.uniform(0, 2 * math.pi)
    ix, iy = x + math.cos(look) * er * 0.3, y + math.sin(look) * er * 0.3
    ir = er * 0.55
    d.ellipse((ix - ir, iy - ir, ix + ir, iy + ir), fill=iris or _hsv(rng.random(), 0.7, 0.7))
    d.ellipse((ix - ir / 2, iy - ir / 2, ix + ir / 2, iy + ir / 2), fill=(10, 10, 10, 255))
    d.ellipse((ix - ir * 0.55, iy - ir * 0.6, ix - ir * 0.2, iy - ir * 0.25), fill=(255, 255, 255, 255))


def _cyclops(layer: Image.Image, cx: float, cy: float, r: float, rng: random.Random) -> None:
    d = ImageDraw.Draw(layer)
    hue = rng.choice((rng.uniform(0.22, 0.4), rng.uniform(0.72, 0.9), rng.uniform(0.02, 0.1)))
    body = _hsv(hue, rng.uniform(0.45, 0.8), rng.uniform(0.5, 0.85))
    dark = _hsv(hue, 0.8, 0.3)
    ivory = _hsv(0.12, rng.uniform(0.1, 0.3), 0.95)
    for side in (-1, 1):
        tip = (cx + side * r * rng.uniform(0.6, 0.95), cy - r * rng.uniform(1.3, 1.6))
        d.polygon([(cx + side * r * 0.25, cy - r * 0.8), tip, (cx + side * r * 0.75, cy - r * 0.55)], fill=ivory, outline=dark)
        fy = cy + r * 0.8
        d.ellipse((cx + side * r * 0.55 - r * 0.3, fy, cx + side * r * 0.55 + r * 0.3, fy + r * 0.35), fill=dark)
        arm = rng.uniform(-0.6, 0.6)
        ax, ay = cx + side * r * 1.2, cy + r * arm
        d.line((cx + side * r * 0.8, cy + r * 0.1, ax, ay), fill=body, width=round(r * 0.2))
    d.ellipse((cx - r, cy - r * 0.95, cx + r, cy + r * 0.95), fill=body, outline=dark, width=max(2, round(r / 20)))
    _eye(d, cx, cy - r * 0.2, r * rng.uniform(0.4, 0.5), rng)
    my, mw = cy + r * 0.5, r * rng.uniform(0.3, 0.55)
    d.chord((cx - mw, my - mw * 0.5, cx + mw, my + mw * 0.5), 0, 180, fill=(60, 10, 20, 255))
    for k in range(3):
        tx = cx - mw * 0.6 + k * mw * 0.6
        d.polygon([(tx - r * 0.07, my), (tx + r * 0.07, my), (tx, my + r * 0.1)], fill=(255, 255, 255, 255))


def _ghost(layer: Image.Image, cx: float, cy: float, r: float, rng: random.Random) -> None:
    d = ImageDraw.Draw(layer)
    sheet = _hsv(rng.uniform(0.5, 0.75), rng.uniform(0.0, 0.12), rng.uniform(0.92, 1.0), rng.randint(215, 255))
    w, top, bottom = r * rng.uniform(0.75, 0.95), cy - r * 1.2, cy + r * rng.uniform(0.9, 1.2)
    waves, amp, phase = rng.randint(3, 5), r * rng.uniform(0.08, 0.16), rng.uniform(0, math.pi)
    edge = [(cx + w - 2 * w * k / 40, bottom + amp * math.sin(phase + 2 * math.pi * waves * k / 40)) for k in range(41)]
    d.polygon([(cx - w, top + w), (cx + w, top + w)] + edge, fill=sheet)
    d.ellipse((cx - w, top, cx + w, top + 2 * w), fill=sheet)
    for side in (-1, 1):
        lift = rng.uniform(-0.5, 0.4) * r
        d.ellipse((cx + side * w - r * 0.25, cy + lift - r * 0.15, cx + side * w + r * 0.25, cy + lift + r * 0.15), fill=sheet)
    ink = _hsv(0.65, rng.uniform(0.2, 0.6), rng.uniform(0.05, 0.2))
    ey, ew, eh = top + w * rng.uniform(0.8, 1.0), r * 0.13, r * rng.uniform(0.2, 0.28)
    for side in (-1, 1):
        ex = cx + side * w * 0.38
        d.ellipse((ex - ew, ey - eh, ex + ew, ey + eh), fill=ink)
    if rng.random() < 0.7:
        mw = r * rng.uniform(0.08, 0.2)
        d.ellipse((cx - mw, ey + r * 0.4, cx + mw, ey + r * 0.4 + mw * 1.6), fill=ink)


def _mummy(layer: Image.Image, cx: float, cy: float, r: float, rng: random.Random) -> None:
    s = layer.size[0]
    linen = _hsv(rng.uniform(0.08, 0.14), rng.uniform(0.12, 0.35), rng.uniform(0.72, 0.93))
    mask = Image.new("L", layer.size, 0)
    m = ImageDraw.Draw(mask)
    m.rounded_rectangle((cx - 0.45 * r, cy - 1.3 * r, cx + 0.45 * r, cy - 0.45 * r), radius=round(0.3 * r), fill=255)
    m.rounded_rectangle((cx - 0.6 * r, cy - 0.5 * r, cx + 0.6 * r, cy + 0.75 * r), radius=round(0.15 * r), fill=255)
    for side in (-1, 1):
        m.rectangle((cx + side * 0.3 * r - 0.22 * r, cy + 0.6 * r, cx + side * 0.3 * r + 0.22 * r, cy + 1.35 * r), fill=255)
        reach, drop = rng.uniform(0.9, 1.3) * r, rng.uniform(-0.3, 0.5) * r
        m.line((cx + side * 0.45 * r, cy - 0.3 * r, cx + side * 0.45 * r + reach * rng.choice((-1, 1)) * 0.9, cy - 0.3 * r + drop),
               fill=255, width=round(0.28 * r))
    cloth = Image.new("RGBA", layer.size, linen)
    c = ImageDraw.Draw(cloth)
    shade = tuple(round(v * 0.62) for v in linen[:3]) + (255,)
    y, step = cy - 1.4 * r, r * rng.uniform(0.13, 0.18)
    while y < cy + 1.5 * r:
        tilt = rng.uniform(-0.12, 0.12) * r
        c.line((0, y - tilt, s, y + tilt), fill=shade, width=max(2, round(r * 0.045)))
        y += step * rng.uniform(0.8, 1.2)
    layer.paste(cloth, (0, 0), mask)
    d = ImageDraw.Draw(layer)
    ey = cy - 0.9 * r
    d.rectangle((cx - 0.42 * r, ey - 0.1 * r, cx + 0.42 * r, ey + 0.1 * r), fill=(25, 20, 15, 255))
    glow = _hsv(rng.choice((0.0, 0.15, 0.33)), 0.9, 1.0)
    for side in (-1, 1):
        ex = cx + side * 0.18 * r
        d.ellipse((ex - 0.06 * r, ey - 0.06 * r, ex + 0.06 * r, ey + 0.06 * r), fill=glow)


def _slime(layer: Image.Image, cx: float, cy: float, r: float, rng: random.Random) -> None:
    d = ImageDraw.Draw(layer)
    hue = rng.uniform(0.27, 0.55)
    goo = _hsv(hue, rng.uniform(0.6, 0.9), rng.uniform(0.65, 0.95), rng.randint(150, 200))
    base, height, width = cy + r * 0.9, r * rng.uniform(0.9, 1.5), r * rng.uniform(0.8, 1.05)
    d.ellipse((cx - 1.4 * r, base - 0.35 * r, cx + 1.4 * r, base + 0.25 * r), fill=goo)
    d.ellipse((cx - width, base - height, cx + width, base + 0.2 * r), fill=goo)
    for _ in range(rng.randint(1, 3)):
        bx, br = cx + rng.uniform(-1.2, 1.2) * r, r * rng.uniform(0.15, 0.3)
        d.ellipse((bx - br, base - br, bx + br, base + br * 0.6), fill=goo)
    shine = (255, 255, 255, 150)
    d.ellipse((cx - width * 0.6, base - height * 0.85, cx - width * 0.2, base - height * 0.55), fill=shine)
    light = _hsv(hue, 0.3, 1.0, 170)
    for _ in range(rng.randint(4, 9)):
        bx, by = cx + rng.uniform(-0.7, 0.7) * width, base - rng.uniform(0.1, 0.7) * height
        br = r * rng.uniform(0.04, 0.12)
        d.ellipse((bx - br, by - br, bx + br, by + br), fill=light, outline=(255, 255, 255, 200))
    ey = base - height * rng.uniform(0.55, 0.7)
    for side in (-1, 1):
        ex, er = cx + side * width * 0.3, r * 0.1
        d.ellipse((ex - er, ey - er, ex + er, ey + er), fill=(15, 30, 15, 255))


def _vampire(layer: Image.Image, cx: float, cy: float, r: float, rng: random.Random) -> None:
    d = ImageDraw.Draw(layer)
    cape = _hsv(rng.uniform(0.65, 0.85), rng.uniform(0.2, 0.6), rng.uniform(0.04, 0.16))
    red = _hsv(rng.uniform(-0.03, 0.02), rng.uniform(0.75, 0.95), rng.uniform(0.6, 0.9))
    spread = rng.uniform(1.0, 1.5) * r
    d.polygon([(cx - 0.5 * r, cy - 0.2 * r), (cx + 0.5 * r, cy - 0.2 * r), (cx + spread, cy + 1.4 * r),
               (cx, cy + 1.25 * r), (cx - spread, cy + 1.4 * r)], fill=cape)
    d.polygon([(cx - 0.25 * r, cy - 0.1 * r), (cx + 0.25 * r, cy - 0.1 * r), (cx, cy + 0.6 * r)], fill=(240, 240, 240, 255))
    high = rng.uniform(0.9, 1.2) * r
    for side in (-1, 1):
        d.polygon([(cx + side * 0.2 * r, cy - 0.2 * r), (cx + side * 0.95 * r, cy - high), (cx + side * 0.75 * r, cy + 0.1 * r)], fill=red)
    skin = _hsv(rng.uniform(0.25, 0.6), rng.uniform(0.03, 0.15), rng.uniform(0.82, 0.97))
    d.ellipse((cx - 0.5 * r, cy - 1.15 * r, cx + 0.5 * r, cy - 0.05 * r), fill=skin)
    hair = (15, 12, 18, 255)
    d.chord((cx - 0.52 * r, cy - 1.22 * r, cx + 0.52 * r, cy - 0.5 * r), 180, 360, fill=hair)
    d.polygon([(cx - 0.3 * r, cy - 0.86 * r), (cx + 0.3 * r, cy - 0.86 * r), (cx, cy - 0.68 * r)], fill=hair)
    ey = cy - 0.6 * r
    for side in (-1, 1):
        ex = cx + side * 0.2 * r
        d.ellipse((ex - 0.07 * r, ey - 0.05 * r, ex + 0.07 * r, ey + 0.05 * r), fill=red)
        d.line((ex - side * 0.12 * r, ey - 0.1 * r, ex + side * 0.1 * r, ey - 0.16 * r), fill=hair, width=max(2, round(r * 0.04)))
    my = cy - 0.3 * r
    d.chord((cx - 0.18 * r, my - 0.08 * r, cx + 0.18 * r, my + 0.1 * r), 0, 180, fill=(120, 0, 20, 255))
    for side in (-1, 1):
        fx = cx + side * 0.1 * r
        d.polygon([(fx - 0.04 * r, my), (fx + 0.04 * r, my), (fx, my + 0.13 * r)], fill=(255, 255, 255, 255))


_DRAWERS = {"cyclops": _cyclops, "ghost": _ghost, "mummy": _mummy, "slime": _slime, "vampire": _vampire}
