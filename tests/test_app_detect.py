"""Finding things with a COCO detector on the Classify page of the real main window: random weights
planted through the real loading code (as in test_detect), a dropped picture becomes a card with
its boxes, a dropped folder becomes one table row per picture, and a detector whose weights are not
on this computer says so in plain words with the way out."""
# ruff: noqa: F811  (the fixtures are imported from test_app_support and used as parameters)
from __future__ import annotations

import csv
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog
from test_app_support import Events, app_settings, drop, window  # noqa: F401

from monster_studio.app import pictures
from monster_studio.core import catalogue, detect, images, weights
from monster_studio.ui.detection_card import LISTED, DetectionCard
from monster_studio.ui.main_window import CLASSIFY

KEY = "detector:" + catalogue.DEFAULT_DETECTOR


def random_weights(spec, folder: Path) -> Path:
    import torch

    torch.manual_seed(0)
    file = folder / "from-a-usb-stick.pth"
    torch.save(weights.import_architecture(spec).state_dict(), file)
    return file


@pytest.fixture
def planted(tmp_path, monkeypatch):
    """The default detector's weights on disk (random numbers under the official name), before the
    window starts; every box it finds is kept, so random weights find some."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(detect, "MIN_SCORE", 0.0)
    spec = catalogue.DETECTORS[catalogue.DEFAULT_DETECTOR]
    weights.import_weights(spec, random_weights(spec, tmp_path))
    assert weights.status(spec) == "on disk"
    return spec


def test_find_things_in_a_dropped_picture_and_a_folder(qtbot, planted, window, sample_dir, tmp_path):
    w, cp = window, window.classify_page
    events = Events(w.studio)
    w.show_page(CLASSIFY)
    texts = [cp.model_combo.itemText(i) for i in range(cp.model_combo.count())]
    assert f"Find objects: {planted.display_name} (COCO, no training) — on disk" in texts
    other = next(d for d in catalogue.DETECTORS.values() if d.id != planted.id)
    assert any(t.startswith(f"Find objects: {other.display_name}") and "download of" in t for t in texts)
    assert texts.index("ImageNet labels (no training)") < texts.index(
        f"Find objects: {planted.display_name} (COCO, no training) — on disk")

    cp.select_model(KEY, load=True)
    (info,) = events.wait(qtbot, "modelReady", timeout=60_000)
    assert info.kind == "detector" and info.key == KEY
    assert "Finds and boxes" in cp.model_label.text() and planted.display_name in cp.model_label.text()

    picture = sample_dir / "ghost" / "ghost_000.png"
    assert drop(cp.drop_zone, [picture])
    assert len(cp.card_order) == 1 and isinstance(cp.card_order[0], DetectionCard)
    (done,) = events.wait(qtbot, "classifyDone", timeout=60_000)
    assert done.detection and done.classified == 1
    ((answer,),) = events.of("prediction")
    card = cp.card_order[0]
    qtbot.waitUntil(lambda: card.result is not None)
    result = answer.result
    found = result.found
    size = images.load_rgb(picture).size
    assert isinstance(result, detect.Detections) and result.size == size and len(found) > 0
    assert done.found == len(found)
    scores = [f.score for f in found]
    assert scores == sorted(scores, reverse=True)
    for f in found:
        assert f.label in detect.categories(planted) and pictures.box_colour(f.label).startswith("#")
        x0, y0, x1, y1 = f.box
        assert 0 <= x0 <= x1 <= size[0] * 1.01 and 0 <= y0 <= y1 <= size[1] * 1.01

    # the card: the boxed picture, how many things, the best few with their scores
    assert card.verdict.text() == f"{len(found)} thing{'s' if len(found) != 1 else ''} found"
    assert card.labels == [f.label for f in found[:LISTED]]
    assert [b.value() for b in card.bars] == [round(f.score * 1000) for f in found[:LISTED]]
    assert card.bars[0].property("role") == "winner"
    thumb = answer.thumb
    assert isinstance(thumb, QImage) and not thumb.isNull() and max(thumb.width(), thumb.height()) <= 192
    plain = pictures.qimage(images.thumbnail(picture, pictures.CARD_THUMB_PX))
    assert thumb.convertToFormat(QImage.Format.Format_RGB888) != plain  # the boxes are drawn on it
    assert card.picture.pixmap() is not None and not card.picture.pixmap().isNull()
    assert "thing" in cp.progress.words.text()

    # a pasted picture gets a detection card too
    events.clear()
    QGuiApplication.clipboard().setImage(QImage(str(sample_dir / "vampire" / "vampire_000.png")))
    w.paste_action.trigger()
    events.wait(qtbot, "classifyDone", timeout=60_000)
    qtbot.waitUntil(lambda: len(cp.card_order) == 2 and cp.card_order[1].result is not None)
    pasted = cp.card_order[1]
    assert isinstance(pasted, DetectionCard) and Path(pasted.path).name.startswith("pasted-")
    assert pasted.labels == [f.label for f in pasted.result.result.found[:LISTED]]

    # a folder: one row per picture, the things found and how many
    folder = tmp_path / "holiday"
    folder.mkdir()
    for name in ("slime/slime_000.png", "mummy/mummy_001.png"):
        shutil.copy(sample_dir / name, folder)
    (folder / "notes.txt").write_text("shopping list")
    events.clear()
    assert drop(cp.drop_zone, [folder])
    events.wait(qtbot, "idle", lambda task, outcome: task == "classify", timeout=60_000)
    qtbot.waitUntil(lambda: cp.table_model.rowCount() == 2 + 3)
    assert cp.table_model.kind == "objects" and len(cp.card_order) == 2
    headers = [cp.proxy.headerData(c, Qt.Orientation.Horizontal) for c in range(cp.proxy.columnCount())]
    assert headers == ["File", "Things found", "Count", "Folder", "Note", "Model"]
    rows = {cp.proxy.index(r, 0).data(): [cp.proxy.index(r, c).data() for c in range(4)]
            for r in range(cp.proxy.rowCount())}
    row = rows["ghost_000.png"]
    assert row[1].startswith(f"{found[0].label} {found[0].score * 100:.0f}%") and row[2] == str(len(found))
    assert rows["notes.txt"][1] == "(not classified)"
    assert "5 pictures" in cp.counts_label.text() and "things found" in cp.counts_label.text()

    out = tmp_path / "found.csv"
    assert cp.export_csv(str(out))
    lines = list(csv.reader(out.open(encoding="utf-8-sig", newline="")))
    assert lines[0] == ["path", "count", "found", "model", "note"] and len(lines) == 1 + 5
    ghost = next(r for r in lines[1:] if r[0].endswith("ghost_000.png"))
    assert int(ghost[1]) == len(found) and ghost[2].startswith(found[0].label)
    assert any(r[0].endswith("notes.txt") and r[-1] for r in lines[1:])

    # Stop: the run ends at the next picture and the page is idle at once
    events.clear()
    rows_before = cp.table_model.rowCount()
    assert drop(cp.drop_zone, [sample_dir])
    events.wait(qtbot, "prediction", timeout=60_000)
    cp.stop_button.click()
    assert cp.pending == 0 and cp.progress.words.text() == "Stopped"
    events.wait(qtbot, "idle", lambda task, outcome: task == "classify", timeout=60_000)
    assert events.first("idle", lambda task, outcome: task == "classify") == ("classify", "stopped")
    cp.table_model.flush()
    assert cp.table_model.rowCount() - rows_before < len([p for p in sample_dir.rglob("*") if p.is_file()])

    # the classifier's table comes back with its model
    cp.select_model("imagenet:efficientnet_lite0", load=True)
    assert cp.table_model.kind == "classes" and cp.table_model.rowCount() == 0


def test_a_detector_whose_weights_are_not_here(qtbot, window, tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network in this test")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty torch home"))
    spec = catalogue.DETECTORS[catalogue.DEFAULT_DETECTOR]
    w, cp = window, window.classify_page
    events = Events(w.studio)
    w.show_page(CLASSIFY)
    cp.select_model(KEY, load=True)
    (info,) = events.wait(qtbot, "error", timeout=60_000)
    assert info["kind"] == "weights" and info["task"] == "model"
    events.wait(qtbot, "idle", lambda task, outcome: task == "model")  # the error comes before the job's end
    assert f"import-weights {spec.id}" in info["command"] and spec.weights_filename == info["filename"]
    qtbot.waitUntil(lambda: not cp.banner.isHidden())
    text = cp.banner.text.text()
    assert spec.display_name in text and spec.weights_filename in text and "Traceback" not in text
    assert cp.banner.action_labels() == ["Import weights file…", "Use ImageNet labels"]
    assert cp.selected_key() == KEY and cp.model_info is None  # still chosen, so it can be tried again
    assert cp.progress_row.isVisible() and cp.progress.words.text() == "The download did not finish"

    # the way out: choose a file; the page asks for it to be installed and the detector again
    file = random_weights(spec, tmp_path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(file), "")))
    asked = []
    studio_import, studio_choose = w.studio.import_weights, w.studio.choose_model
    monkeypatch.setattr(w.studio, "import_weights", lambda detector_id, path, *a, **k: (
        asked.append(("import", detector_id, path)), studio_import(detector_id, path, *a, **k))[1])
    monkeypatch.setattr(w.studio, "choose_model", lambda key: (asked.append(("use", key)), studio_choose(key))[1])
    events.clear()
    cp.banner.trigger("Import weights file…")
    assert asked == [("import", spec.id, str(file))]
    # once the file is in (and only then), the detector is chosen again
    events.wait(qtbot, "idle", lambda task, outcome: task == "model", timeout=60_000)
    assert asked == [("import", spec.id, str(file)), ("use", KEY)]
    assert events.of("idle")[:2] == [("import", "ok"), ("model", "ok")]
    # ...and now the weights really are installed, the detector is ready and the page says so.
    assert weights.status(spec) == "on disk"
    qtbot.waitUntil(lambda: cp.model_info is not None, timeout=30_000)
    assert cp.banner.isVisible() and cp.banner.level == "info"
    assert cp.banner.text.text() == "The weights file is installed; this detector works offline now."


def test_a_failed_detection_leaves_no_empty_card(qtbot, window, sample_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: (_ for _ in ()).throw(urllib.error.URLError("x")))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty torch home"))
    w, cp = window, window.classify_page
    w.show_page(CLASSIFY)
    cp.select_model(KEY)  # chosen, not loaded: it loads with the first picture, as the page says
    assert "loads when you drop the first picture" in cp.model_label.text()
    events = Events(w.studio)
    assert not events.of("started")
    drop(cp.drop_zone, [sample_dir / "ghost" / "ghost_000.png"])
    events.wait(qtbot, "idle", lambda task, outcome: task == "classify", timeout=60_000)
    qtbot.waitUntil(lambda: not cp.banner.isHidden())
    assert cp.card_order == [] and "Import weights file…" in cp.banner.action_labels()
