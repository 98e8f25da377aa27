"""Shared fixtures. Pictures are generated here, never downloaded, and every cache the app (or
torch) might write to points at a temporary folder, so no test touches the user's files or the net.
"""
from __future__ import annotations

import io
import os
import random
import shutil
import struct
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Guard for import time: test modules are imported (and may import the app) before any fixture
# runs, so the caches already point away from the user's home here; the session fixture below
# then gives each its own pytest-managed folder. QSettings on Linux follows XDG_CONFIG_HOME.
_IMPORT_TIME_HOME = Path(tempfile.mkdtemp(prefix="monster-studio-tests-"))
os.environ["MONSTER_STUDIO_CACHE"] = str(_IMPORT_TIME_HOME / "cache")
os.environ["TORCH_HOME"] = str(_IMPORT_TIME_HOME / "torch")
os.environ["XDG_CONFIG_HOME"] = str(_IMPORT_TIME_HOME / "config")
# No window's start job leaves a child making an engine behind it (tests that want one ask).
os.environ["MONSTER_STUDIO_PREPARE_AHEAD"] = "0"

from PIL import Image, ImageDraw  # noqa: E402

from monster_studio.core.sample import write_picture, write_sample  # noqa: E402


@dataclass
class Caches:
    cache: Path  # MONSTER_STUDIO_CACHE
    torch_home: Path  # TORCH_HOME (torch hub puts weights in torch_home / "hub" / "checkpoints")


@pytest.fixture
def trash(tmp_path, monkeypatch):
    """send2trash's freedesktop.org trash in a temporary home, and the app's data folder (the
    journal of changes) temporary too: nothing a test sets aside reaches the real trash."""
    from send2trash import plat_other

    home = tmp_path / "xdg"
    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", os.fsencode(home))
    monkeypatch.setattr(plat_other, "HOMETRASH_B", os.fsencode(home / "Trash"))
    monkeypatch.setattr(plat_other, "get_dev", lambda path: 0)  # every file "on the home disk": one trash
    monkeypatch.setenv("MONSTER_STUDIO_DATA", str(tmp_path / "data"))
    return home / "Trash"


@pytest.fixture(autouse=True)
def engine_in_this_process():
    """A window's start job has engines prepared in a child process (core.engine_process); a test
    after it gets the default again, so what it patches in this process is what runs."""
    yield
    from monster_studio.core import engine_process

    engine_process.use(False)


@pytest.fixture(scope="session", autouse=True)
def isolated_caches(tmp_path_factory) -> Caches:
    caches = Caches(tmp_path_factory.mktemp("monster_cache"), tmp_path_factory.mktemp("torch_home"))
    os.environ["MONSTER_STUDIO_CACHE"] = str(caches.cache)
    os.environ["TORCH_HOME"] = str(caches.torch_home)
    yield caches
    shutil.rmtree(_IMPORT_TIME_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    """The built-in sample dataset, 24 pictures of each of the 5 monsters (read-only, shared)."""
    return write_sample(tmp_path_factory.mktemp("sample") / "monsters", per_class=24)


# ---------------------------------------------------------------- the bad-file corpus

@dataclass
class Good:
    size: tuple[int, int]  # (width, height) once decoded upright
    colour: tuple[int, int, int] | None = None  # expected RGB at the centre, if uniform there


@dataclass
class Corpus:
    root: Path
    classes: list[str]
    bad: dict[Path, str] = field(default_factory=dict)  # fails the header check; path -> words in the reason
    broken: dict[Path, str] = field(default_factory=dict)  # header fine, fails when decoded
    litter: list[Path] = field(default_factory=list)  # ignored without a word
    stray: list[Path] = field(default_factory=list)  # files beside the class folders
    good: dict[Path, Good] = field(default_factory=dict)
    label: dict[Path, str] = field(default_factory=dict)  # every usable file (good + broken) -> its class

    def path(self, name: str) -> Path:
        """The one file of the corpus with this name."""
        hits = [p for p in (*self.bad, *self.broken, *self.litter, *self.stray, *self.good) if p.name == name]
        assert len(hits) == 1, name
        return hits[0]


RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 200, 0), (0, 0, 255), (255, 255, 255)


def _png_declaring(width: int, height: int) -> bytes:
    """A real 1x1 PNG whose header claims width x height pixels (CRC fixed so it is well formed)."""
    buf = io.BytesIO()
    Image.new("L", (1, 1)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def _split_colour(mode: str, size, left, right) -> Image.Image:
    img = Image.new(mode, size, left)
    ImageDraw.Draw(img).rectangle((size[0] // 2, 0, size[0], size[1]), fill=right)
    return img


def _write_bad_corpus(root: Path) -> Corpus:
    classes = ["ghost", "slime"]
    c = Corpus(root, classes)
    rng = random.Random(1234)
    for cls in classes:
        (root / cls).mkdir(parents=True)
        for i in range(6):
            p = write_picture(cls, root / cls / f"{cls}_{i}{'.jpg' if i % 2 else '.png'}", rng, size=64)
            c.good[p] = Good((64, 64))
    ghost, slime = root / "ghost", root / "slime"

    # -- bad: each fails the cheap header check
    def bad(path: Path, content: bytes, reason: str) -> None:
        path.write_bytes(content)
        c.bad[path] = reason

    bad(ghost / "empty.jpg", b"", "empty")
    bad(ghost / "letter.png", b"Dear user,\nthis is a text file wearing a .png name.\n" * 4, "not a picture")
    bad(slime / "noise.jpg", b"\x00\x13\x37" + random.Random(7).randbytes(2000), "not a picture")
    bad(slime / "notes.txt", b"photos from the trip, sort later\n", "not a picture")
    bad(ghost / "bomb.png", _png_declaring(30_000, 30_000), "too large")  # 900 Mpx: past 2x Pillow's limit
    bad(slime / "bomb_small.png", _png_declaring(10_000, 10_000), "too large")  # 100 Mpx: between 1x and 2x

    # -- broken: a real JPEG cut in half passes the header check and fails on decoding
    buf = io.BytesIO()
    _split_colour("RGB", (200, 150), RED, BLUE).save(buf, "JPEG", quality=95)
    truncated = ghost / "cut_short.jpg"
    truncated.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    c.broken[truncated] = "truncated"

    # -- litter: hidden files and OS droppings
    for path, content in ((ghost / ".DS_Store", b"\x00\x00\x00\x01Bud1" + bytes(100)),
                          (slime / "Thumbs.db", bytes(512)), (slime / ".DS_Store", bytes(64))):
        path.write_bytes(content)
        c.litter.append(path)
    hidden = ghost / ".hidden_copy.jpg"
    Image.new("RGB", (32, 32), RED).save(hidden)
    c.litter.append(hidden)
    stray = root / "readme.txt"
    stray.write_text("one folder per monster\n")
    c.stray.append(stray)

    # -- good pictures in awkward modes and formats; (w, h) differ so a transposition shows
    def good(path: Path, img: Image.Image, expect: Good, **save) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        img.save(path, **save)
        c.good[path] = expect

    good(ghost / "grey.png", Image.new("L", (40, 30), 128), Good((40, 30), (128, 128, 128)))
    good(ghost / "grey_alpha.png", _split_colour("LA", (42, 30), (0, 0), (0, 255)), Good((42, 30)))
    pal = Image.new("P", (44, 30), 0)
    pal.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)  # index 0 black (transparent), 1 blue
    ImageDraw.Draw(pal).rectangle((22, 0, 44, 30), fill=1)
    good(ghost / "palette.png", pal, Good((44, 30)), transparency=0)
    good(ghost / "print.jpg", Image.new("CMYK", (46, 30), (0, 255, 255, 0)), Good((46, 30), RED), quality=95)
    ramp = np.tile(np.linspace(0, 40000, 48).astype(np.uint16), (30, 1))  # 16-bit grey, left dark -> right
    good(slime / "deep.png", Image.fromarray(ramp), Good((48, 30)))
    good(slime / "rgba.png", _split_colour("RGBA", (50, 30), (0, 0, 0, 0), (255, 0, 0, 255)), Good((50, 30)))
    good(slime / "bitmap.bmp", Image.new("RGB", (52, 30), BLUE), Good((52, 30), BLUE))
    frames = [Image.new("RGB", (54, 30), RED), Image.new("RGB", (54, 30), GREEN)]
    good(slime / "animated.gif", frames[0], Good((54, 30), RED), save_all=True, append_images=frames[1:], duration=100, loop=0)
    good(slime / "web.webp", Image.new("RGB", (56, 30), GREEN), Good((56, 30), GREEN), lossless=True)
    good(slime / "scan.tif", Image.new("RGB", (58, 30), BLUE), Good((58, 30), BLUE), compression="tiff_lzw")
    # Stored 60 wide x 40 high with a red marker in the stored top-left corner; orientation 6 means
    # "rotate 90 degrees clockwise to view": upright it is 40 x 60 with the marker top-right.
    turned = Image.new("RGB", (60, 40), BLUE)
    ImageDraw.Draw(turned).rectangle((0, 0, 14, 14), fill=RED)
    exif = Image.Exif()
    exif[0x0112] = 6
    good(ghost / "phone.jpg", turned, Good((40, 60)), exif=exif, quality=95)
    good(ghost / "trip" / "day2" / "nested.png", Image.new("RGB", (62, 30), GREEN), Good((62, 30), GREEN))

    c.label = {p: p.relative_to(root).parts[0] for p in (*c.good, *c.broken)}
    return c


@pytest.fixture
def bad_corpus(tmp_path) -> Corpus:
    """Two classes of generated pictures with bad files, litter and awkward formats mixed in."""
    return _write_bad_corpus(tmp_path / "corpus")


# ---------------------------------------------------------------- the window's questions

class QuitAnswers:
    """Answers the window's "before quitting" questions in tests (a real box would wait forever
    offscreen): quit without saving, unless a test says otherwise. Records what was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.next: list[str] = []

    def __call__(self, parent, title, text, detail, buttons) -> str:
        self.asked.append(text)
        if self.next:
            return self.next.pop(0)
        keys = [key for key, _ in buttons]
        return "quit" if "quit" in keys else "discard"


@pytest.fixture
def quit_answers(monkeypatch) -> QuitAnswers:
    from monster_studio.ui import quit_dialog

    answers = QuitAnswers()
    monkeypatch.setattr(quit_dialog, "ask", answers)
    return answers
