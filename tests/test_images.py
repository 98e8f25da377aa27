"""images.py: every file becomes an upright 8-bit RGB picture or a BadPicture with a reason."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from monster_studio.core import images
from monster_studio.core.images import BadPicture, Preprocess, is_litter, load_rgb, probe
from monster_studio.core.sample import CLASSES, draw_picture, write_sample


def pixels(path) -> np.ndarray:
    return np.asarray(load_rgb(path))


def near(actual, expected, tol: int = 12) -> bool:
    return all(abs(int(a) - int(e)) <= tol for a, e in zip(actual, expected))


# ---------------------------------------------------------------- bad files

def test_every_bad_file_is_a_bad_picture_with_a_reason(bad_corpus):
    for path, words in {**bad_corpus.bad, **bad_corpus.broken}.items():
        with pytest.raises(BadPicture) as caught:
            load_rgb(path)
        assert words in str(caught.value).lower(), (path.name, str(caught.value))


def test_probe_reads_only_the_header(bad_corpus):
    for path, words in bad_corpus.bad.items():
        with pytest.raises(BadPicture, match=words):
            probe(path)
    for path in [*bad_corpus.good, *bad_corpus.broken]:  # a cut-short JPEG has a good header
        probe(path)


def test_missing_file_is_a_bad_picture(tmp_path):
    with pytest.raises(BadPicture, match="cannot be read"):
        load_rgb(tmp_path / "gone.jpg")


def test_litter_is_recognised(bad_corpus):
    assert all(is_litter(p) for p in bad_corpus.litter)
    assert not any(is_litter(p) for p in bad_corpus.good)
    assert is_litter(Path("THUMBS.DB")) and is_litter(Path("desktop.ini"))


# ---------------------------------------------------------------- good files, any mode

def test_every_good_picture_decodes_to_rgb_uint8(bad_corpus):
    for path, good in bad_corpus.good.items():
        img = load_rgb(path)
        arr = np.asarray(img)
        assert img.mode == "RGB", path.name
        assert img.size == good.size, path.name
        assert arr.dtype == np.uint8 and arr.shape == (good.size[1], good.size[0], 3), path.name
        if good.colour is not None:
            centre = arr[arr.shape[0] // 2, arr.shape[1] // 2]
            assert near(centre, good.colour), (path.name, centre, good.colour)


def test_exif_orientation_is_applied(bad_corpus):
    arr = pixels(bad_corpus.path("phone.jpg"))
    assert arr.shape[:2] == (60, 40)  # stored 60 wide, 40 high; upright it stands 40 x 60
    assert near(arr[3, -4], (255, 0, 0)), arr[3, -4]  # the marker moved to the top-right corner
    for y, x in ((3, 3), (-4, 3), (-4, -4)):
        assert near(arr[y, x], (0, 0, 255)), (y, x, arr[y, x])


def test_sixteen_bit_grey_is_rescaled_not_clipped(bad_corpus):
    row = pixels(bad_corpus.path("deep.png"))[15, :, 0].astype(int)
    assert row[0] <= 2
    assert abs(row[-1] - round(40000 * 255 / 65535)) <= 2  # 156, not 255
    assert (np.diff(row) >= 0).all() and len(set(row)) > 20  # a ramp survived


@pytest.mark.parametrize("name, right", [("rgba.png", (255, 0, 0)), ("grey_alpha.png", (0, 0, 0)),
                                         ("palette.png", (0, 0, 255))])
def test_transparency_is_laid_on_white(bad_corpus, name, right):
    arr = pixels(bad_corpus.path(name))
    h, w, _ = arr.shape
    assert near(arr[h // 2, 2], (255, 255, 255), tol=0)  # left half was fully transparent
    assert near(arr[h // 2, w - 3], right, tol=0)


def test_animated_gif_gives_its_first_frame(bad_corpus):
    path = bad_corpus.path("animated.gif")
    with Image.open(path) as gif:
        assert getattr(gif, "n_frames", 1) == 2  # the corpus really holds an animation
    assert near(pixels(path)[15, 27], (255, 0, 0))


def test_cmyk_jpeg_keeps_its_colour(bad_corpus):
    path = bad_corpus.path("print.jpg")
    with Image.open(path) as raw:
        assert raw.mode == "CMYK"
    assert near(pixels(path)[15, 23], (255, 0, 0), tol=20)


def test_big_jpeg_is_decoded_at_reduced_scale(tmp_path):
    path = tmp_path / "big.jpg"
    Image.new("RGB", (2400, 1800), (90, 120, 200)).save(path, quality=80)
    assert load_rgb(path).size == (2400, 1800)
    small = load_rgb(path, min_side=224)
    assert small.mode == "RGB"
    assert small.size[0] < 2400 and small.size[1] < 1800  # draft mode did its job
    assert min(small.size) >= 224
    assert small.size[0] * 1800 == small.size[1] * 2400  # same shape


def test_min_side_leaves_other_formats_alone(tmp_path):
    path = tmp_path / "big.png"
    Image.new("RGB", (900, 600), (10, 20, 30)).save(path)
    assert load_rgb(path, min_side=100).size == (900, 600)


def test_thumbnail_fits_the_box(bad_corpus):
    thumb = images.thumbnail(bad_corpus.path("phone.jpg"), size=24)
    assert thumb.mode == "RGB" and max(thumb.size) == 24 and thumb.size[1] > thumb.size[0]


# ---------------------------------------------------------------- preprocessing

PRE = Preprocess(resize_size=64, crop_size=56, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))


def _target(size=(120, 80)) -> Image.Image:
    img = Image.new("RGB", size, (0, 0, 255))
    cx, cy, r = size[0] // 2, size[1] // 2, min(size) // 8
    ImageDraw.Draw(img).rectangle((cx - r, cy - r, cx + r, cy + r), fill=(255, 0, 0))
    return img


@pytest.mark.parametrize("size", [(120, 80), (80, 120), (30, 20), (56, 56)])
def test_center_gives_a_square_uint8_tensor(size):
    t = PRE.center(_target(size))
    assert t.dtype == np.uint8 and tuple(t.shape) == (3, 56, 56)
    assert near(t[:, 28, 28].tolist(), (255, 0, 0))
    assert near(t[:, 1, 28].tolist(), (0, 0, 255))


def test_augmented_is_reproducible_for_a_seed():
    img = draw_picture("ghost", random.Random(3), size=96)
    first = [PRE.augmented(img, random.Random(42)) for _ in range(2)]
    assert first[0].dtype == np.uint8 and tuple(first[0].shape) == (3, 56, 56)
    assert np.array_equal(first[0], first[1])
    rng = random.Random(42)
    views = [PRE.augmented(img, rng) for _ in range(4)]
    assert np.array_equal(views[0], first[0])
    assert any(not np.array_equal(views[0], v) for v in views[1:])  # the views do vary


def test_normalize_maps_bytes_to_the_backbone_range():
    batch = np.broadcast_to(np.array([0, 255], dtype=np.uint8).reshape(1, 1, 1, 2), (2, 3, 1, 2))
    out = PRE.normalize(batch)
    assert out.dtype == np.float32
    assert np.allclose(out[..., 0], -1.0) and np.allclose(out[..., 1], 1.0)


def test_preprocess_round_trips_through_a_dict():
    pre = Preprocess(256, 224, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), "bicubic")
    assert Preprocess.from_dict(pre.to_dict()) == pre


# ---------------------------------------------------------------- the built-in sample

def test_sample_has_every_class_and_every_picture_decodes(sample_dir):
    assert sorted(d.name for d in sample_dir.iterdir()) == sorted(CLASSES)
    suffixes = set()
    for cls in CLASSES:
        files = sorted((sample_dir / cls).iterdir())
        assert len(files) == 24, cls
        for f in files:
            assert f.name.startswith(f"{cls}_")
            suffixes.add(f.suffix)
            img = load_rgb(f)
            assert img.mode == "RGB" and img.size == (160, 160)
    assert suffixes == {".png", ".jpg"}


def test_sample_is_deterministic_for_a_seed(tmp_path):
    def contents(folder: Path) -> dict[str, bytes]:
        return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

    a = contents(write_sample(tmp_path / "a", per_class=3, seed=5, size=64))
    b = contents(write_sample(tmp_path / "b", per_class=3, seed=5, size=64))
    c = contents(write_sample(tmp_path / "c", per_class=3, seed=6, size=64))
    assert len(a) == 15 and a == b
    assert a.keys() == c.keys() and all(a[k] != c[k] for k in a)
    assert all(Image.open(tmp_path / "a" / k).size == (64, 64) for k in a)


def test_sample_pictures_vary_within_a_class():
    pics = [np.asarray(draw_picture("slime", random.Random(i), size=64), dtype=np.int16) for i in range(3)]
    assert all(np.abs(pics[0] - p).mean() > 10 for p in pics[1:])


def test_unknown_monster_kind_is_refused():
    with pytest.raises(ValueError, match="werewolf"):
        draw_picture("werewolf", random.Random(0))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "TIFF", "WEBP", "BMP"])
def test_mangled_files_are_bad_pictures_never_crashes(tmp_path, fmt):
    """Flipped and cut bytes in every format: a picture or a BadPicture, nothing else escapes."""
    import io
    import random

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(buf, fmt)
    data = buf.getvalue()
    rng = random.Random(fmt)
    outcomes = {"ok": 0, "bad": 0}
    for i in range(60):
        mangled = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            mangled[rng.randrange(len(mangled))] = rng.randrange(256)
        if rng.random() < 0.3:
            mangled = mangled[:rng.randrange(8, len(mangled))]
        path = tmp_path / f"m{i}.{fmt.lower()}"
        path.write_bytes(bytes(mangled))
        try:
            images.probe(path)
            img = images.load_rgb(path, min_side=16)
            assert img.mode == "RGB"
            outcomes["ok"] += 1
        except images.BadPicture as exc:
            assert str(exc)
            outcomes["bad"] += 1
    assert outcomes["bad"] > 0  # the mangling does break files
