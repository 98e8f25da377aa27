"""The one place pictures are read: robust decoding, EXIF orientation, every mode to RGB,
and the preprocessing that turns a picture into the tensor a backbone expects.

Everything that can go wrong with a file becomes a `BadPicture` with a reason in plain words.
No torch here: pictures become uint8 arrays, and whichever engine runs the network takes them.
"""
from __future__ import annotations

import math
import os
import random
import stat
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from monster_studio.core.errors import UserError

PICTURE_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
OS_LITTER = frozenset({".ds_store", "thumbs.db", "desktop.ini", "icon\r", "__macosx", "$recycle.bin"})

# Checked by hand in _open (the warnings machinery is process-wide, not thread-safe).
warnings.simplefilter("ignore", Image.DecompressionBombWarning)
# "Corrupt EXIF data", "Tag data larger than file": Pillow reads past them, and so do we.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")


NOT_A_FILE = "not a picture file (a pipe, a device or a socket)"
MAX_ASPECT = 30  # longer and thinner than this is not a photo to classify (and would not fit in memory)


class BadPicture(UserError):
    """A file that cannot be used as a picture; str() is the reason for the user. `transient`:
    the file itself may be fine (permissions, memory), so the verdict must not be remembered."""

    kind = "picture"

    def __init__(self, reason: str, transient: bool = False) -> None:
        super().__init__(reason)
        self.transient = transient


def is_litter(path: Path) -> bool:
    """Hidden files and operating-system droppings, ignored without a word."""
    return is_litter_name(path.name)


def is_litter_name(name: str) -> bool:
    return name.startswith(".") or name.lower() in OS_LITTER


def looks_like_picture(path: Path) -> bool:
    return path.suffix.lower() in PICTURE_SUFFIXES


def _open(path: Path) -> Image.Image:
    try:
        st = path.stat()
    except OSError as exc:
        raise BadPicture(f"cannot be read ({exc.strerror or exc})", transient=True) from exc
    if not stat.S_ISREG(st.st_mode):  # a pipe would block the run forever, a device read endlessly
        raise BadPicture(NOT_A_FILE)
    size = st.st_size
    if size == 0:
        raise BadPicture("empty file (0 bytes)")
    try:
        img = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise BadPicture("too large to open safely (more pixels than the safety limit)") from exc
    except UnidentifiedImageError as exc:
        raise BadPicture("not a picture in a format that can be read") from exc
    except PermissionError as exc:
        raise BadPicture("cannot be read (permission denied)", transient=True) from exc
    except OSError as exc:
        raise BadPicture(f"cannot be read ({exc})", transient=True) from exc
    except Exception as exc:  # noqa: BLE001 - a malformed header may raise anything; it is still a bad file
        raise BadPicture(f"damaged: the header cannot be read ({type(exc).__name__})") from exc
    w, h = img.size
    limit = Image.MAX_IMAGE_PIXELS
    if limit and w * h > limit:
        img.close()
        raise BadPicture(f"too large to open safely ({w} x {h} pixels)")
    if w >= 1 and h >= 1 and max(w, h) > MAX_ASPECT * min(w, h):
        img.close()
        raise BadPicture(f"too long and thin to classify ({w} x {h} pixels)")
    return img


def probe(path: Path) -> None:
    """Cheap check (header only) that a file is a picture we can open; raises BadPicture."""
    img = _open(path)
    try:
        w, h = img.size
        if w < 1 or h < 1:
            raise BadPicture("picture has no pixels")
    finally:
        img.close()


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode to 8-bit RGB; transparency is laid on white, deep greys are rescaled."""
    mode = img.mode
    if "transparency" in img.info and mode in ("P", "L", "RGB", "I;16", "I"):
        img, mode = img.convert("RGBA"), "RGBA"  # one colour marked transparent
    if mode == "RGB":
        return img
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode.startswith("I") or mode == "F":
        arr = np.asarray(img).astype(np.float32)
        top = float(arr.max()) if arr.size else 0.0
        scale = 65535.0 if top > 255 else 255.0
        if mode == "F" and 0 < top <= 1.0:
            scale = 1.0
        grey = np.clip(arr * (255.0 / scale), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    return img.convert("RGB")


def load_rgb(path: str | os.PathLike, min_side: int | None = None) -> Image.Image:
    """Decode a picture fully into RGB, upright. With `min_side`, big JPEGs are decoded at a
    reduced scale (Pillow draft mode) that still leaves at least that many pixels on each side."""
    path = Path(path)
    src = _open(path)
    try:
        if min_side and src.format == "JPEG":
            src.draft("RGB", (min_side, min_side))
        src.load()  # GIF/WebP/TIFF: the first frame
        upright = ImageOps.exif_transpose(src)  # a new image either way, so src can be closed
        rgb = _to_rgb(upright)
        rgb.load()
        return rgb
    except BadPicture:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        text = str(exc)
        if "truncated" in text:
            raise BadPicture("damaged: the file is cut short (truncated)") from exc
        raise BadPicture(f"damaged: cannot be decoded ({text or type(exc).__name__})") from exc
    except Image.DecompressionBombError as exc:
        raise BadPicture("too large to open safely (more pixels than the safety limit)") from exc
    except MemoryError as exc:
        raise BadPicture("too large to decode in memory", transient=True) from exc
    except Exception as exc:  # noqa: BLE001 - 2,700 fuzzed files raised nothing else, but one must not stop a run
        raise BadPicture(f"damaged: cannot be decoded ({type(exc).__name__}: {exc})") from exc
    finally:
        src.close()


MAX_CROP = 1024  # the largest input any backbone here takes is 299 px; a model file may not ask for more
MAX_RESIZE = 2048


@dataclass(frozen=True)
class Preprocess:
    """How a backbone wants its input: resize the short side, crop the centre, normalize."""

    resize_size: int
    crop_size: int
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    interpolation: str = "bilinear"  # "bilinear" or "bicubic"

    def to_dict(self) -> dict:
        return {"resize_size": self.resize_size, "crop_size": self.crop_size, "mean": list(self.mean),
                "std": list(self.std), "interpolation": self.interpolation}

    @classmethod
    def from_dict(cls, d: dict) -> "Preprocess":
        """Checked: a model file's metadata is outside data. Raises ValueError (or KeyError/TypeError)."""
        if not isinstance(d, dict):
            raise ValueError("preprocessing must be a mapping")
        for key in ("resize_size", "crop_size"):
            if not isinstance(d[key], int) or isinstance(d[key], bool):
                raise ValueError(f"{key} must be a whole number")
        if not isinstance(d["mean"], list) or not isinstance(d["std"], list) or len(d["mean"]) != 3 \
                or len(d["std"]) != 3:
            raise ValueError("mean and std need three numbers each")
        try:
            mean, std = tuple(float(x) for x in d["mean"]), tuple(float(x) for x in d["std"])
        except OverflowError as exc:  # a whole number of 400 digits is valid JSON but no float
            raise ValueError("mean and std need three finite numbers each") from exc
        pre = cls(d["resize_size"], d["crop_size"], mean, std, str(d.get("interpolation", "bilinear")))
        if not all(math.isfinite(v) for v in mean + std) or not all(v > 0 for v in std):
            raise ValueError("mean and std need three finite numbers each, std above zero")
        if not (16 <= pre.crop_size <= MAX_CROP and pre.crop_size <= pre.resize_size <= MAX_RESIZE):
            raise ValueError("sizes out of range")
        if pre.interpolation not in ("bilinear", "bicubic"):
            raise ValueError(f"unknown interpolation {pre.interpolation!r}")
        return pre

    @property
    def _resample(self) -> int:
        return Image.BICUBIC if self.interpolation == "bicubic" else Image.BILINEAR

    def center(self, img: Image.Image) -> np.ndarray:
        """Resize + centre crop -> uint8 CHW array (normalization happens batched, later)."""
        w, h = img.size
        s = self.resize_size / min(w, h)
        nw, nh = max(self.crop_size, round(w * s)), max(self.crop_size, round(h * s))
        img = img.resize((nw, nh), self._resample, reducing_gap=3.0)
        left, top = (nw - self.crop_size) // 2, (nh - self.crop_size) // 2
        img = img.crop((left, top, left + self.crop_size, top + self.crop_size))
        return to_chw(img)

    def augmented(self, img: Image.Image, rng: random.Random) -> np.ndarray:
        """A random resized crop and a coin-flip mirror: one augmented view, reproducible by rng."""
        w, h = img.size
        area = w * h
        for _ in range(10):
            target = area * rng.uniform(0.35, 1.0)
            ratio = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
            cw, ch = round(math.sqrt(target * ratio)), round(math.sqrt(target / ratio))
            if 0 < cw <= w and 0 < ch <= h:
                left, top = rng.randint(0, w - cw), rng.randint(0, h - ch)
                break
        else:
            cw = ch = min(w, h)
            left, top = (w - cw) // 2, (h - ch) // 2
        img = img.resize((self.crop_size, self.crop_size), self._resample,
                         box=(left, top, left + cw, top + ch), reducing_gap=3.0)
        if rng.random() < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        return to_chw(img)

    def normalize(self, batch: np.ndarray) -> np.ndarray:
        """uint8 NCHW -> float32 NCHW, normalized (for an engine that takes arrays)."""
        mean = np.asarray(self.mean, np.float32).reshape(1, 3, 1, 1) * 255.0
        inv = 1.0 / (np.asarray(self.std, np.float32).reshape(1, 3, 1, 1) * 255.0)
        return (batch.astype(np.float32) - mean) * inv


def to_chw(img: Image.Image) -> np.ndarray:
    """RGB picture -> uint8 CHW array."""
    return np.ascontiguousarray(np.asarray(img, dtype=np.uint8).transpose(2, 0, 1))


def prepare(path: str | os.PathLike, pre: Preprocess, augment=None) -> np.ndarray:
    """Decode and preprocess one picture for a backbone, every failure a BadPicture: the resize
    and crop are inside the bad-picture handling, so one odd picture never stops a run.
    `augment`: a random.Random for an augmented view, None for the centre crop."""
    img = load_rgb(path, min_side=pre.resize_size)
    try:
        return pre.center(img) if augment is None else pre.augmented(img, augment)
    except MemoryError as exc:
        raise BadPicture("too large to prepare in memory", transient=True) from exc
    except Exception as exc:  # noqa: BLE001 - a picture that cannot be resized is a bad picture
        raise BadPicture(f"cannot be resized for the model ({type(exc).__name__})") from exc


def decoded_batches(items: list, decode, batch: int, pool) -> Iterator[list[tuple[object, object]]]:
    """Batches of (item, decoded or BadPicture), the next batch decoding on `pool` while the
    caller computes on the current one."""
    def one(item):
        try:
            return item, decode(item)
        except BadPicture as exc:
            return item, exc

    chunks = [items[i:i + batch] for i in range(0, len(items), batch)]
    pending = [pool.map(one, chunks[0])] if chunks else []
    for i in range(len(chunks)):
        if i + 1 < len(chunks):
            pending.append(pool.map(one, chunks[i + 1]))
        yield list(pending.pop(0))


def upright_size(path: str | os.PathLike) -> tuple[int, int] | None:
    """Width and height of the picture on disk once turned upright (EXIF), from the header alone;
    None when it cannot be read."""
    try:
        with Image.open(path) as im:
            w, h = im.size
            orientation = im.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - same as a bad header: no size
        return None
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def thumbnail(path: str | os.PathLike, size: int = 96) -> Image.Image:
    """A small RGB preview for the app's tables and cards."""
    img = load_rgb(path, min_side=size)
    img.thumbnail((size, size), Image.BILINEAR)
    return img
