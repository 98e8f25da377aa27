"""Attacks as a hostile file or an unlucky user would make them (issue 7, items 10, 11 and 12):
CSV opened as a spreadsheet would read it, names that try to drive the terminal, Ctrl+C in the
middle of a CSV, pictures that would need gigabytes, model files that lie, and a fuzz of
`modelfile.load`."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import random
import re
import struct
import subprocess
import sys
import textwrap
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from monster_studio.cli import main
from monster_studio.core import catalogue, images, modelfile, wording
from monster_studio.core.events import Skipped
from monster_studio.core.model import TrainedModel
from monster_studio.core.modelfile import ModelFileError
from monster_studio.core.predict import NOT_FINITE, Prediction
from monster_studio.core.sample import write_picture
from monster_studio.core.wording import visible

SPEC = catalogue.backbone("efficientnet_lite0")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TERMINAL_NAMES = ["\x1b]0;pwned\x07\x1b[2J", "\u202egnp.exe"]  # retitle + clear the screen; a reversed name
OBEYED = ("\x1b", "\x07", "\u202e", "\x9b")  # what a terminal would act on


def tiny_model(classes, seed=0, head=None, pre=None) -> TrainedModel:
    """A random new last layer on the bundled starting model: saved in milliseconds."""
    g = torch.Generator().manual_seed(seed)
    head = head or {"weight": torch.randn(len(classes), SPEC.feature_size, generator=g),
                    "bias": torch.randn(len(classes), generator=g)}
    return TrainedModel(SPEC.id, list(classes), pre or SPEC.preprocess, head)


def readable(reason: str) -> bool:
    """Words for a user: no exception names, no errno, no 'unexpected'."""
    return bool(reason.strip()) and not re.search(r"[A-Z]\w*(Error|Exception|Warning)\b|unexpected|Errno|Traceback",
                                                  reason)


def read_csv(path) -> list[list[str]]:
    """As a spreadsheet reads the file: UTF-8 with its byte-order mark, CSV quoting."""
    with open(path, newline="", encoding="utf-8-sig", errors="surrogateescape") as f:
        return list(csv.reader(f))


def picture_folder(root: Path, names=("ghost", "slime"), per_class=6, seed=1) -> Path:
    rng = random.Random(seed)
    for kind, name in zip(("ghost", "slime", "mummy"), names):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            write_picture(kind, root / name / f"{kind}_{i}.png", rng, size=64)
    return root


@contextlib.contextmanager
def captured():
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield out, err


# ------------------------------------------------------------------ item 10: CSV a spreadsheet can open safely

def assert_neutral(table: list[list[str]]) -> None:
    for row in table:
        for cell in row:
            assert not cell.startswith(FORMULA_START), (cell, row)


DANGEROUS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A9)", "\tTAB", "\rCR"]
FILE_NAMES = [name.replace("/", "") + ".png" for name in DANGEROUS]  # every one a legal file name


def test_cli_csv_cells_are_neutralized(tmp_path, monkeypatch, capsys):
    model = modelfile.save(tiny_model(DANGEROUS), tmp_path / "=HYPERLINK(1).monster")
    folder = tmp_path / "in"
    folder.mkdir()
    rng = random.Random(0)
    for name in FILE_NAMES:
        write_picture("ghost", folder / name, rng, size=48)
    (folder / "=bad.png").write_bytes(b"not a picture")
    monkeypatch.chdir(folder)  # paths as given: relative, so a name is what the cell starts with
    out = tmp_path / "r.csv"
    assert main(["classify", str(model), ".", "--csv", str(out), "--top", str(len(DANGEROUS))]) == 0
    table = read_csv(out)
    assert len(table) == 1 + len(DANGEROUS) + 1
    assert_neutral(table)
    cells = {c for row in table for c in row}
    for name, file_name in zip(DANGEROUS, FILE_NAMES):  # shown, not lost: the apostrophe is the only change
        assert "'" + name in cells and "'" + file_name in cells
    assert "'=HYPERLINK(1).monster" in cells and "'=bad.png" in cells


def test_window_csv_cells_are_neutralized(tmp_path):
    """The window's Export CSV (ui.results_table.ResultsModel.write_csv) writes these rows."""
    k = 3
    rows = [wording.classification_row(Prediction("=a.png", [(DANGEROUS[0], 0.5), (DANGEROUS[2], 0.3), ("@x", 0.2)],
                                                  True, "@not sure", "-model.monster"), k),
            wording.classification_row(Prediction("\ta.png", [("+1", 0.9)], False, "", "=m"), k),
            wording.classification_row(Skipped("\rb.png", "=damaged"), k)]
    out = tmp_path / "w.csv"
    assert wording.write_csv(out, wording.classification_header(k), rows) == 3
    table = read_csv(out)
    assert_neutral(table)
    assert table[1][:3] == ["'=a.png", "'" + DANGEROUS[0], "0.500000"] and table[2][0] == "'\ta.png"
    assert table[3][0] == "'\rb.png" and table[3][-1] == "'=damaged"
    # a plain cell is left as it is, and a number stays a number
    assert wording.csv_cell("ghost") == "ghost" and wording.csv_cell(0.25) == "0.25"


# ------------------------------------------------------------------ item 10: names shown, never obeyed

@pytest.fixture(scope="module")
def terminal_model(tmp_path_factory) -> Path:
    """A shared model whose class names would drive the terminal."""
    return modelfile.save(tiny_model(TERMINAL_NAMES, seed=5), tmp_path_factory.mktemp("evil") / "shared.monster")


@pytest.fixture(scope="module")
def terminal_pictures(tmp_path_factory) -> Path:
    folder = picture_folder(tmp_path_factory.mktemp("pics") / "in", names=("a", "b"), per_class=2)
    (folder / "a" / "\x1b[2Jcleared.png").write_bytes(b"not a picture")  # a skipped file's name is printed
    return folder


@pytest.fixture(scope="module")
def engine_ready(terminal_model, terminal_pictures) -> None:
    """The starting model's engine prepared (once a session) before a child process needs it."""
    from monster_studio.core import predict
    from monster_studio.core.events import run_to_end

    run_to_end(predict.classify(modelfile.load(terminal_model), [terminal_pictures / "b"]))


@pytest.mark.parametrize("text", [*TERMINAL_NAMES, "\x9b31m", "caf\udce9", "a\u2028b", "\u200dx\u2066y", "\rover\bwrite"])
def test_visible_leaves_nothing_a_terminal_would_act_on(text):
    shown = visible(text)  # C1 CSI, a byte that is not UTF-8, a line separator, joiners, isolates
    assert shown.isprintable() and shown != text
    assert all(ch.isprintable() or ch == " " for ch in shown)
    assert visible(shown) == shown  # what is shown is shown as it is


def test_classify_prints_names_visibly(terminal_model, terminal_pictures, capsys):
    assert main(["classify", str(terminal_model), str(terminal_pictures)]) == 0
    shown = capsys.readouterr()
    for text in (shown.out, shown.err):
        assert not any(ch in text for ch in OBEYED), text
    assert visible(TERMINAL_NAMES[0]) in shown.out and visible(TERMINAL_NAMES[1]) in shown.out
    assert visible("\x1b[2Jcleared.png") in shown.err
    assert main(["classify", str(terminal_model), str(terminal_pictures), "--json"]) == 0
    shown = capsys.readouterr()
    assert not any(ch in shown.out + shown.err for ch in OBEYED)
    answers = [json.loads(line) for line in shown.out.splitlines()]
    assert {a["top"][0]["label"] for a in answers if a["top"]} <= set(TERMINAL_NAMES)  # the names, intact


def test_classify_lines_stay_tab_separated(terminal_model, terminal_pictures, capsys):
    assert main(["classify", str(terminal_model), str(terminal_pictures / "b")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(len(line.split("\t")) >= 2 for line in lines)
    assert {Path(line.split("\t")[0]).parent.name for line in lines} == {"b"}


def test_train_prints_names_visibly(tmp_path, capsys):
    folder = picture_folder(tmp_path / "data", names=TERMINAL_NAMES)
    (folder / TERMINAL_NAMES[0] / "\x1b[31mred.png").write_bytes(b"not a picture")
    out_dir = tmp_path / "\x1b]0;out\x07"
    out_dir.mkdir()
    assert main(["train", str(folder), "--out", str(out_dir / "m.monster"), "--epochs", "2"]) == 0
    shown = capsys.readouterr()
    for text in (shown.out, shown.err):
        assert not any(ch in text for ch in OBEYED), text
    assert visible(TERMINAL_NAMES[0]) in shown.err and visible(TERMINAL_NAMES[1]) in shown.err  # the class table
    assert visible("\x1b[31mred.png") in shown.err  # the skipped file
    assert visible(str(out_dir)) in shown.out  # where it was saved
    assert modelfile.load(out_dir / "m.monster").classes == sorted(TERMINAL_NAMES)


# ------------------------------------------------------------------ item 10: Ctrl+C keeps the rows done

def test_ctrl_c_during_classify_csv_keeps_the_rows_done(terminal_model, terminal_pictures, tmp_path, monkeypatch,
                                                        capsys):
    out = tmp_path / "r.csv"
    out.write_text("yesterday's results\n")
    real, done = wording.classification_row, []

    def row_then_ctrl_c(result, k):
        if len(done) == 2:
            raise KeyboardInterrupt  # as if Ctrl+C came while the third picture was being written
        done.append(result.path)
        return real(result, k)

    monkeypatch.setattr(wording, "classification_row", row_then_ctrl_c)
    assert main(["classify", str(terminal_model), str(terminal_pictures), "--csv", str(out)]) == 130
    table = read_csv(out)
    assert table[0] == wording.classification_header(2)
    assert [row[0] for row in table[1:]] == done and len(done) == 2
    assert "2 rows done so far" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["r.csv"]  # no temporary file left


# ------------------------------------------------------------------ item 11: one odd picture never stops a run

def real_png(path: Path, width: int, height: int) -> Path:
    """A real, fully decodable greyscale PNG of black pixels, compressed as it is written (the
    80,000,000 x 1 one is 78 KB on disk, 80 MB in memory: never built whole here)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer, parts, row = zlib.compressobj(9), [], b"\x00" + bytes(width)
    for _ in range(height):
        for i in range(0, len(row), 1 << 22):
            parts.append(packer.compress(row[i:i + (1 << 22)]))
    parts.append(packer.flush())
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def odd_pictures(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("odd")
    return {"long": real_png(folder / "long.png", 80_000_000, 1), "wide": real_png(folder / "wide.png", 300_000, 2)}


def test_odd_pictures_are_bad_pictures_with_a_reason(odd_pictures):
    assert odd_pictures["long"].stat().st_size < 100_000 and odd_pictures["wide"].stat().st_size < 1000
    for path in odd_pictures.values():
        with pytest.raises(images.BadPicture) as exc:
            images.prepare(path, SPEC.preprocess)
        assert readable(str(exc.value)) and not exc.value.transient
        with pytest.raises(images.BadPicture):
            images.probe(path)  # found when the folder is read, before any decoding


RUN_CHILD = textwrap.dedent('''
    import json, resource, sys
    from monster_studio.cli import main
    from monster_studio.core import predict, training  # everything imported before the baseline

    def rss():
        with open("/proc/self/status") as f:
            status = dict(line.split(":", 1) for line in f)
        return int(status["VmRSS"].split()[0]) * 1024, int(status["VmSize"].split()[0]) * 1024

    base, size = rss()
    # A safety net only, far above what the run may use: a regression fails here, not the machine.
    resource.setrlimit(resource.RLIMIT_AS, (size + 6 * 2**30, resource.RLIM_INFINITY))
    plain, folder, out = sys.argv[1], sys.argv[2], sys.argv[3]

    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    # The same run without the odd pictures first: whatever the engine costs (PyTorch or ONNX Runtime,
    # an engine prepared or found ready) is in the peak before the odd pictures are met.
    main(["train", plain, "--out", out, "--epochs", "2", "--json"])
    main(["classify", out, plain, "--json"])
    before = peak()
    print("--- the odd folder", flush=True)
    codes = [main(["train", folder, "--out", out, "--epochs", "2", "--json"]),
             main(["classify", out, folder, "--json"])]
    print(json.dumps({"codes": codes, "grew": peak() - before, "base": peak() - base}), file=sys.stderr)
''')


def test_odd_pictures_never_stop_training_or_classify(tmp_path, odd_pictures, engine_ready):
    """In its own process, so its memory can be measured: train and classify a folder with both
    pictures in it."""
    import shutil

    plain = picture_folder(tmp_path / "plain")
    folder = picture_folder(tmp_path / "data")
    shutil.copy(odd_pictures["long"], folder / "ghost" / "long.png")
    shutil.copy(odd_pictures["wide"], folder / "slime" / "wide.png")
    script = tmp_path / "child.py"
    script.write_text(RUN_CHILD)
    done = subprocess.run([sys.executable, str(script), str(plain), str(folder), str(tmp_path / "m.monster")],
                          capture_output=True, text=True, timeout=300)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    odd_part = done.stdout.split("--- the odd folder", 1)[-1]
    lines = [json.loads(line) for line in odd_part.splitlines() if line.startswith("{")]
    assert report["codes"] == [0, 0], done.stderr[-2000:]
    trained, answers = lines[0], lines[1:]
    skipped = {Path(s["path"]).name: s["reason"] for s in trained["skipped"]}
    assert set(skipped) == {"long.png", "wide.png"} and all(map(readable, skipped.values())), skipped
    assert trained["n_train"] + trained["n_val"] == 12
    errors = {Path(a["path"]).name: a["error"] for a in answers if "error" in a}
    assert set(errors) == {"long.png", "wide.png"} and all(map(readable, errors.values())), errors
    assert sum(1 for a in answers if a["top"]) == 12
    # Beyond what the same run without them needed (without the checks: 2.4 GB more, or an abort)
    assert report["grew"] < 2**28, f"memory grew by {report['grew'] / 2**30:.2f} GB for two odd pictures"


# ------------------------------------------------------------------ item 12: model files that lie

@pytest.fixture
def good_file(tmp_path) -> Path:
    return modelfile.save(tiny_model(["ants", "bees"]), tmp_path / "good.monster")


def rewrite(good: Path, path: Path, meta=None, tensors=None, raw_meta: str | None = None) -> Path:
    """A copy of a good model file with its metadata or tensors changed, as an attacker would."""
    meta = modelfile.read_metadata(good) if meta is None else meta
    save_file(load_file(good) if tensors is None else tensors, str(path),
              metadata={modelfile.META_KEY: raw_meta if raw_meta is not None else json.dumps(meta)})
    return path


def raw_file(path: Path, header: str) -> Path:
    data = header.encode()
    path.write_bytes(struct.pack("<Q", len(data)) + data)
    return path


def assert_refused_in_plain_words(path: Path, capsys, words: str = "") -> str:
    with pytest.raises(ModelFileError) as exc:
        modelfile.load(path)
    message = str(exc.value)
    assert readable(message) and words in message, message
    assert main(["classify", str(path), str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and readable(err) and len(err.strip().splitlines()) == 1, err
    return message


@pytest.mark.parametrize("change", [
    {"crop_size": 100_000, "resize_size": 100_000},
    {"resize_size": 10**12},
    {"crop_size": 2},
    {"crop_size": 300, "resize_size": 200},  # a crop larger than the picture it is cut from
    {"mean": [10**400, 0, 0]},  # valid JSON, but no float can hold it
    {"std": [0, 0, 0]},
    {"std": [float("nan"), 1, 1]},
    {"crop_size": 224.0},
    {"interpolation": {"x": 1}},
])
def test_preprocessing_beyond_bounds_is_refused(good_file, tmp_path, capsys, change):
    meta = modelfile.read_metadata(good_file)
    meta["preprocess"].update(change)
    assert_refused_in_plain_words(rewrite(good_file, tmp_path / "bad.monster", meta), capsys, "preprocessing")


@pytest.mark.parametrize("where", ["header", "metadata"])
def test_json_nested_absurdly_deep_is_refused(good_file, tmp_path, capsys, where):
    deep = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = tmp_path / "deep.monster"
    if where == "header":
        raw_file(path, deep)
    else:
        rewrite(good_file, path, raw_meta=deep)
    assert "deep" in assert_refused_in_plain_words(path, capsys)


def test_metadata_nested_absurdly_deep_below_the_parser_limit_is_refused(good_file, tmp_path):
    meta = modelfile.read_metadata(good_file)
    meta["metrics"] = {"x": "@@"}  # a real file nests 3 levels
    path = rewrite(good_file, tmp_path / "deep.monster", raw_meta=json.dumps(meta).replace('"@@"', "[" * 200 + "]" * 200))
    with pytest.raises(ModelFileError, match="deep"):
        modelfile.load(path)


@pytest.mark.parametrize("attack", ["metadata list", "metadata text", "backbone list", "backbone map"])
def test_odd_json_types_are_refused(good_file, tmp_path, attack):
    if attack.startswith("metadata"):
        path = raw_file(tmp_path / "x.monster", json.dumps({"__metadata__": [1] if attack.endswith("list") else "x"}))
    else:
        meta = modelfile.read_metadata(good_file)
        meta["backbone"] = [SPEC.id] if attack.endswith("list") else {}
        path = rewrite(good_file, tmp_path / "x.monster", meta)
    with pytest.raises(ModelFileError):
        modelfile.load(path)


@pytest.mark.parametrize("dtype", [torch.float8_e4m3fn, torch.float8_e5m2, torch.complex64])
def test_float8_and_complex_weights_are_refused(good_file, tmp_path, capsys, dtype):
    tensors = load_file(good_file)
    tensors["head.weight"] = tensors["head.weight"].to(dtype)
    assert_refused_in_plain_words(rewrite(good_file, tmp_path / "odd.monster", tensors=tensors), capsys,
                                  "numbers of a kind")


@pytest.mark.parametrize("key,value", [("head.weight", float("nan")), ("head.bias", float("inf")),
                                       ("head.weight", float("-inf"))])
def test_nan_and_inf_weights_are_refused_in_a_model_file(good_file, tmp_path, capsys, key, value):
    tensors = load_file(good_file)
    tensors[key] = tensors[key].clone()
    tensors[key].view(-1)[0] = value
    assert_refused_in_plain_words(rewrite(good_file, tmp_path / "nan.monster", tensors=tensors), capsys,
                                  "invalid numbers")


@pytest.fixture
def own_torch_home(tmp_path, monkeypatch) -> Path:
    """Weights imported here land in this test's folder, not the session's."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch"


def mobilenet_state() -> dict:
    from monster_studio.core import backbones

    torch.manual_seed(0)
    return backbones.architecture_for_import(catalogue.backbone("mobilenet_v3_large")).state_dict()


def test_import_weights_refuses_nan_inf_float8_and_complex(tmp_path, own_torch_home, capsys):
    state = mobilenet_state()
    key = next(k for k, v in state.items() if v.is_floating_point() and v.dim() > 1)
    good = tmp_path / "good.pth"
    torch.save(state, good)
    assert main(["import-weights", "mobilenet_v3_large", str(good)]) == 0  # the same file, undamaged, fits
    installed = next(own_torch_home.rglob("*.pth"))
    before = installed.read_bytes()
    capsys.readouterr()
    for name, damage in [("nan", lambda t: t.index_fill(0, torch.tensor([0]), float("nan"))),
                         ("inf", lambda t: t.index_fill(0, torch.tensor([0]), float("inf"))),
                         ("float8", lambda t: t.to(torch.float8_e4m3fn)),
                         ("complex", lambda t: t.to(torch.complex64))]:
        bad = tmp_path / f"{name}.pth"
        # the whole network's weights, one of them damaged (only the first: the rest would be refused the same way)
        torch.save({**(state if name == "nan" else {}), key: damage(state[key])}, bad)
        assert main(["import-weights", "mobilenet_v3_large", str(bad)]) == 1, name
        err = capsys.readouterr().err
        assert err.startswith("error: ") and readable(err) and key in err, err
    assert installed.read_bytes() == before  # the good copy is still the one installed


@pytest.mark.parametrize("odd", ["sparse", "meta"])
def test_import_weights_refuses_odd_tensor_layouts(tmp_path, own_torch_home, capsys, odd):
    tensor = torch.tensor([[0.0, 1.0]]).to_sparse() if odd == "sparse" else torch.empty(2, device="meta")
    bad = tmp_path / f"{odd}.pth"
    torch.save({"features.0.0.weight": tensor}, bad)
    assert main(["import-weights", "mobilenet_v3_large", str(bad)]) == 1
    err = capsys.readouterr().err
    assert readable(err), err


def test_a_model_whose_answers_are_not_numbers_is_never_a_success(tmp_path, terminal_pictures, capsys):
    """Finite weights (the file passes every check) so large that every answer overflows."""
    huge = torch.full((2, SPEC.feature_size), 3e38)
    huge[1] = -3e38
    path = modelfile.save(tiny_model(["ants", "bees"], head={"weight": huge, "bias": torch.zeros(2)}),
                          tmp_path / "huge.monster")
    pictures = [str(p) for p in sorted((terminal_pictures / "a").glob("*_*.png"))]
    out = tmp_path / "r.csv"
    for extra in ([], ["--json"], ["--csv", str(out)]):
        with warnings.catch_warnings(record=True) as raised:
            warnings.simplefilter("always")  # what a terminal would show: numpy's "overflow encountered in matmul"
            assert main(["classify", str(path), *pictures, *extra]) == 1, extra
        shown = capsys.readouterr()
        text = shown.out + shown.err
        assert not re.search(r"nan|inf\b", text, re.IGNORECASE), text
        assert "no picture could be classified" in shown.err
        assert not raised, [str(w.message) for w in raised]
    table = read_csv(out)
    assert [row[-1] for row in table[1:]] == [NOT_FINITE] * len(pictures)
    assert not any("nan" in cell.lower() for row in table for cell in row)


def test_a_batch_of_big_crops_needs_no_more_memory_than_a_normal_batch(tmp_path, terminal_pictures, monkeypatch):
    from monster_studio.core import features, predict
    from monster_studio.core.device import pick
    from monster_studio.core.events import run_to_end

    pre = images.Preprocess(1024, 1024, SPEC.preprocess.mean, SPEC.preprocess.std)
    model = tiny_model(["ants", "bees"], pre=pre)
    asked = []
    monkeypatch.setattr(images, "decoded_batches", lambda items, decode, batch, pool: asked.append(batch) or iter(()))
    run_to_end(predict.classify(model, [terminal_pictures], device="cpu"))
    normal = features.batch_size_for(SPEC, pick("cpu")) * SPEC.input_size ** 2
    assert asked and (asked[0] == 1 or asked[0] * pre.crop_size ** 2 <= normal)  # one picture at least


# ------------------------------------------------------------------ fuzz: nothing but ModelFileError escapes

@pytest.fixture(scope="module")
def fuzz_seed_file(tmp_path_factory) -> bytes:
    """A real small model file with every part a file can have: classes, metrics, settings and the
    figures for "not sure"."""
    from monster_studio.core.unsure import Calibration

    rng = np.random.default_rng(0)
    model = tiny_model(["ants", "bees", "wasps"], seed=2)
    model.metrics, model.settings = {"val_accuracy": 0.5, "per_class": {"ants": 1.0}}, {"epochs": 3}
    model.unsure = Calibration(rng.standard_normal((4, SPEC.feature_size)).astype(np.float16),
                               rng.random(10).astype(np.float32), rng.random(10).astype(np.float32))
    path = modelfile.save(model, tmp_path_factory.mktemp("fuzz") / "seed.monster")
    assert modelfile.load(path).unsure is not None
    return path.read_bytes()


def _load_only_refuses(data: bytes, path: Path) -> str | None:
    """None, or what escaped other than a ModelFileError."""
    path.write_bytes(data)
    try:
        modelfile.load(path)
    except ModelFileError as exc:
        if not readable(str(exc)):
            return f"unreadable message: {exc}"
    except BaseException as exc:  # noqa: BLE001 - this is what the fuzz looks for
        return f"{type(exc).__name__}: {exc}"[:200]
    return None


def test_fuzz_byte_mangled_model_files(fuzz_seed_file, tmp_path):
    good, rng = fuzz_seed_file, random.Random(7)
    (n,) = struct.unpack("<Q", good[:8])
    escaped = []
    for i in range(300):
        data = bytearray(good)
        how = i % 5
        if how == 0:  # bytes changed anywhere
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif how == 1:  # bytes changed in the header, where the JSON is
            for _ in range(rng.randint(1, 4)):
                data[8 + rng.randrange(n)] = rng.choice(b'{}[]",:0123456789-.eE ntfa\\\x00\xff')
        elif how == 2:  # cut short
            data = data[:rng.randrange(len(data))]
        elif how == 3:  # the header's length lies
            data[:8] = struct.pack("<Q", rng.choice([0, 1, n - 1, n + 1, len(data), 2**63, rng.randrange(2**64)]))
        else:  # bytes inserted or removed inside the header
            at = 8 + rng.randrange(n)
            data[at:at + rng.randint(0, 3)] = bytes(rng.randrange(256) for _ in range(rng.randint(0, 3)))
        problem = _load_only_refuses(bytes(data), tmp_path / "f.monster")
        if problem:
            escaped.append((how, problem))
    assert not escaped, escaped[:5]


WEIRD = [None, True, -1, 0, 10**400, 1e308, float("nan"), "", "x" * 10, [], {}, [[[]]], {"a": {}}, [1, 2, 3],
         "F8_E4M3", "C64", -10**20]


def _mutated(tree, rng):
    """The JSON tree with one value replaced by an odd one, or removed."""
    tree = json.loads(json.dumps(tree))
    slots = []

    def walk(node):
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in children:
            slots.append((node, key))
            walk(child)
    walk(tree)
    parent, key = rng.choice(slots)
    if isinstance(parent, dict) and rng.random() < 0.15:
        del parent[key]
    else:
        parent[key] = json.loads(json.dumps(rng.choice(WEIRD)))
    return tree


def test_fuzz_structure_mangled_model_files(fuzz_seed_file, tmp_path):
    good, rng = fuzz_seed_file, random.Random(11)
    (n,) = struct.unpack("<Q", good[:8])
    header, body = json.loads(good[8:8 + n]), good[8 + n:]
    escaped = []
    for i in range(200):
        h = json.loads(json.dumps(header))
        if i % 2:  # the safetensors header: dtypes, shapes, offsets
            h = _mutated(h, rng)
        else:  # the Monster Studio metadata inside it
            h["__metadata__"][modelfile.META_KEY] = json.dumps(_mutated(json.loads(h["__metadata__"][modelfile.META_KEY]),
                                                                        rng))
        text = json.dumps(h).encode()
        problem = _load_only_refuses(struct.pack("<Q", len(text)) + text + body, tmp_path / "f.monster")
        if problem:
            escaped.append(problem)
    assert not escaped, sorted(set(escaped))[:6]
