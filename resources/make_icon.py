"""Draws resources/icon.png (256x256): a friendly one-eyed monster on the app's purple.
Run: python resources/make_icon.py  (Pillow only; the PNG is committed, this is how it was made)."""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

S = 4  # draw at 4x and scale down for smooth edges
N = 256 * S


def main(out: Path | None = None) -> Path:
    out = out or Path(__file__).with_name("icon.png")
    img = Image.new("RGBA", (N, N), (0, 0, 0, 0))
    # rounded-square tile with a vertical gradient
    tile = Image.new("RGBA", (N, N))
    top, bottom = (128, 98, 230), (74, 50, 160)
    grad = ImageDraw.Draw(tile)
    for y in range(N):
        t = y / (N - 1)
        colour = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        grad.line([(0, y), (N, y)], fill=colour + (255,))
    mask = Image.new("L", (N, N), 0)
    ImageDraw.Draw(mask).rounded_rectangle([8 * S, 8 * S, N - 8 * S, N - 8 * S], radius=56 * S, fill=255)
    img.paste(tile, (0, 0), mask)

    # soft shadow under the monster
    shadow = Image.new("RGBA", (N, N), (0, 0, 0, 0))
    ImageDraw.Draw(shadow).ellipse([58 * S, 200 * S, 198 * S, 226 * S], fill=(20, 10, 50, 110))
    img.alpha_composite(shadow.filter(ImageFilter.GaussianBlur(6 * S)))

    d = ImageDraw.Draw(img)
    body, body_dark = (120, 214, 120), (76, 170, 88)
    # horns
    d.polygon([(84 * S, 92 * S), (70 * S, 40 * S), (108 * S, 78 * S)], fill=(250, 236, 200))
    d.polygon([(172 * S, 92 * S), (186 * S, 40 * S), (148 * S, 78 * S)], fill=(250, 236, 200))
    # feet and body
    d.ellipse([78 * S, 186 * S, 118 * S, 218 * S], fill=body_dark)
    d.ellipse([138 * S, 186 * S, 178 * S, 218 * S], fill=body_dark)
    d.rounded_rectangle([56 * S, 66 * S, 200 * S, 208 * S], radius=70 * S, fill=body)
    d.ellipse([70 * S, 150 * S, 186 * S, 206 * S], fill=(134, 226, 134))
    # arms
    d.ellipse([38 * S, 130 * S, 70 * S, 170 * S], fill=body_dark)
    d.ellipse([186 * S, 130 * S, 218 * S, 170 * S], fill=body_dark)
    # one big eye
    d.ellipse([88 * S, 82 * S, 168 * S, 162 * S], fill=(255, 255, 255), outline=(40, 60, 40), width=3 * S)
    d.ellipse([110 * S, 100 * S, 154 * S, 144 * S], fill=(70, 46, 170))
    d.ellipse([122 * S, 112 * S, 144 * S, 134 * S], fill=(20, 14, 40))
    d.ellipse([128 * S, 110 * S, 138 * S, 120 * S], fill=(255, 255, 255))
    # grin with two teeth
    d.chord([98 * S, 150 * S, 158 * S, 190 * S], start=10, end=170, fill=(60, 30, 50))
    d.polygon([(110 * S, 164 * S), (118 * S, 164 * S), (114 * S, 174 * S)], fill=(255, 255, 255))
    d.polygon([(138 * S, 164 * S), (146 * S, 164 * S), (142 * S, 174 * S)], fill=(255, 255, 255))
    # sparkle: "studio"
    cx, cy, r = 206 * S, 50 * S, 16 * S
    d.polygon([(cx, cy - r), (cx + r // 4, cy - r // 4), (cx + r, cy), (cx + r // 4, cy + r // 4),
               (cx, cy + r), (cx - r // 4, cy + r // 4), (cx - r, cy), (cx - r // 4, cy - r // 4)],
              fill=(255, 226, 120))
    img.resize((256, 256), Image.LANCZOS).save(out)
    return out


if __name__ == "__main__":
    print(main())
