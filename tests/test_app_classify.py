"""The Classify page on the real main window: drops of picture files and of a folder, cards and
table, CSV export, paste, and a model file that is refused."""
# ruff: noqa: F811  (the fixtures are imported from test_app_support and used as parameters)
from __future__ import annotations

import csv
import os
import urllib.error
import urllib.request

import pytest
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog
from test_app_support import Events, app_settings, drop, window  # noqa: F401

from monster_studio.ui import settings as store
from monster_studio.ui.classify_page import ClassifyPage
from monster_studio.ui.main_window import CLASSIFY, TRAIN

IMAGENET = "imagenet:efficientnet_lite0"


def pictures(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_drop_pictures_and_a_folder(qtbot, window, sample_dir, tmp_path):
    w, cp = window, window.classify_page
    events = Events(w.studio)
    w.show_page(CLASSIFY)
    cp.select_model(IMAGENET, load=True)  # the pretrained network as it is: no training needed
    events.wait(qtbot, "modelReady", timeout=60_000)
    assert "1000 everyday things" in cp.model_label.text()

    files = [sample_dir / "ghost" / "ghost_000.png", sample_dir / "slime" / "slime_002.jpg",
             sample_dir / "mummy" / "mummy_001.png"]
    not_a_picture = tmp_path / "notes.txt"
    not_a_picture.write_text("shopping list")
    assert drop(cp.drop_zone, files + [not_a_picture])
    assert len(cp.card_order) == 4  # a card appears at once for each picture, waiting for its result
    qtbot.waitUntil(lambda: all(c.result for c in cp.card_order), timeout=60_000)
    events.wait(qtbot, "classifyDone", timeout=60_000)
    good = [c for c in cp.card_order if hasattr(c.result.result, "top")]
    assert [Path(c.path).name for c in good] == [f.name for f in files]
    for card in good:
        assert len(card.labels) == 3 and len(card.bars) == 3
        assert card.bars[0].property("role") == "winner"  # the winner is highlighted
        assert all(b.property("role") == "confidence" for b in card.bars[1:])
        values = [b.value() for b in card.bars]
        assert values == sorted(values, reverse=True)
        assert card.verdict.text() == card.labels[0]
    bad = [c for c in cp.card_order if not hasattr(c.result.result, "top")]
    assert len(bad) == 1 and bad[0].verdict.text() == "Not classified"
    assert cp.results.currentIndex() == 0 and cp.results.tabText(0) == "Pictures (4)"

    # a folder fills the table, results arriving as they are computed
    events.clear()
    assert drop(cp.drop_zone, [sample_dir / "vampire", sample_dir / "cyclops"])
    assert cp.results.currentIndex() == 1
    events.wait(qtbot, "idle", lambda task, outcome: task == "classify", timeout=60_000)
    ((done,),) = events.of("classifyDone")
    expected = len(pictures(sample_dir / "vampire")) + len(pictures(sample_dir / "cyclops"))
    assert done.classified == expected
    qtbot.waitUntil(lambda: cp.table_model.rowCount() == 4 + expected)
    assert len(cp.card_order) == 4  # folders go to the table only
    progress_phases = {stage for stage, *_ in events.of("progress")}
    assert "classify" in progress_phases

    # sortable by confidence (the number, not the text)
    cp.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    shown = [cp.proxy.index(r, 2).data(Qt.ItemDataRole.UserRole) for r in range(cp.proxy.rowCount())]
    assert shown == sorted(shown, reverse=True)
    cp.filter.setText("vampire_00")
    assert 0 < cp.proxy.rowCount() <= 10

    out = tmp_path / "results.csv"
    assert cp.export_csv(str(out))
    rows = list(csv.reader(out.open(encoding="utf-8-sig", newline="")))
    assert rows[0][:3] == ["path", "class", "confidence"] and len(rows) == 1 + 4 + expected
    assert any(r[0].endswith("notes.txt") and r[-1] for r in rows[1:])  # the unreadable file, with its reason


def test_drops_outside_the_drop_zone(qtbot, window, sample_dir):
    w, tp, cp = window, window.train_page, window.classify_page
    w.show_page(TRAIN)
    assert drop(w.centralWidget(), [sample_dir])  # a folder dropped anywhere on the Train page becomes the data folder
    assert tp.folder == str(sample_dir)
    qtbot.waitUntil(lambda: tp.folder_ok, timeout=30_000)
    # a picture dropped there: the page says where it goes
    assert drop(w.centralWidget(), [sample_dir / "ghost" / "ghost_000.png"])
    assert tp.banner.isVisible() and "Classify these pictures" in tp.banner.action_labels()

    w.show_page(CLASSIFY)
    events = Events(w.studio)
    assert drop(cp.model_label, [sample_dir / "ghost" / "ghost_001.png"])  # on the page, not on the zone
    events.wait(qtbot, "classifyDone", timeout=60_000)
    assert [Path(c.path).name for c in cp.card_order] == ["ghost_001.png"]


def test_paste_files_and_a_picture(qtbot, window, sample_dir):
    w, cp = window, window.classify_page
    events = Events(w.studio)
    clipboard = QGuiApplication.clipboard()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(sample_dir / "slime" / "slime_000.png"))])
    clipboard.setMimeData(mime)
    assert w.paste_action.shortcut().toString() == "Ctrl+V"
    w.paste_action.trigger()
    assert w.current_page() == CLASSIFY
    events.wait(qtbot, "classifyDone", timeout=60_000)

    image = QImage(str(sample_dir / "vampire" / "vampire_000.png"))
    assert not image.isNull()
    clipboard.setImage(image)
    events.clear()
    w.paste_action.trigger()
    events.wait(qtbot, "classifyDone", timeout=60_000)
    qtbot.waitUntil(lambda: len(cp.card_order) == 2 and all(c.result for c in cp.card_order))
    assert Path(cp.card_order[1].path).name.startswith("pasted-")
    assert cp.card_order[1].labels


def test_a_refused_model_file_says_why(qtbot, window, tmp_path):
    w, cp = window, window.classify_page
    events = Events(w.studio)
    fake = tmp_path / "holiday.monster"
    fake.write_bytes(b"\x00" * 64)
    w.show_page(CLASSIFY)
    cp.open_model(str(fake))
    (info,) = events.wait(qtbot, "error", timeout=30_000)
    assert info.kind == "modelfile" and info.task == "model"
    qtbot.waitUntil(cp.banner.isVisible)
    assert "holiday.monster" in cp.banner.text.text() and "Traceback" not in cp.banner.text.text()
    assert "Open another model file…" in cp.banner.action_labels()
    assert cp.model_combo.findData(f"file:{fake}") < 0  # not kept among the recent models
    assert cp.selected_key() == IMAGENET


def test_a_model_file_whose_backbone_weights_are_missing(qtbot, window, tmp_path, monkeypatch):
    """A good model file built on a backbone whose weights are not here: the page says how to get
    them in its own words and buttons, keeps the file among the recent models, and once the weights
    file is imported, opens the model again."""
    import torch

    from monster_studio.core import backbones, catalogue, modelfile
    from monster_studio.core.model import TrainedModel

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network in this test")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty torch home"))
    spec = catalogue.backbone("resnet18")
    g = torch.Generator().manual_seed(0)
    head = {"weight": torch.randn(2, spec.feature_size, generator=g), "bias": torch.randn(2, generator=g)}
    path = Path(modelfile.save(TrainedModel(spec.id, ["cat", "dog"], spec.preprocess, head), tmp_path / "pets.monster"))
    key = f"file:{path}"

    w, cp = window, window.classify_page
    events = Events(w.studio)
    w.show_page(CLASSIFY)
    cp.open_model(str(path))
    (info,) = events.wait(qtbot, "error", timeout=60_000)
    assert info.kind == "weights" and info.task == "model" and info["backbone"] == spec.id
    events.wait(qtbot, "idle", lambda task, outcome: task == "model")  # the error comes before the job's end
    qtbot.waitUntil(lambda: not cp.banner.isHidden())
    text = cp.banner.text.text()
    assert spec.display_name in text and spec.weights_filename in text and "Traceback" not in text
    assert "monster-studio import-weights" not in text and "bundled starting model" not in text
    assert cp.banner.action_labels() == ["Import weights file…", "Open another model file…", "Use ImageNet labels"]
    assert str(path) in store.recent_models()  # the file is fine: it stays in the list, and chosen
    assert cp.model_combo.findData(key) >= 0 and cp.selected_key() == key and cp.model_info is None

    # the way out: a weights file (random numbers under the real loading code), then the model again
    file = tmp_path / "from-a-usb-stick.pth"
    torch.save(backbones.architecture(spec).state_dict(), file)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(file), "")))
    events.clear()
    cp.banner.trigger("Import weights file…")
    (ready,) = events.wait(qtbot, "modelReady", timeout=120_000)
    assert ready.kind == "file" and ready.classes == ["cat", "dog"]
    events.wait(qtbot, "idle", lambda name, outcome: name == "model")  # modelReady comes before the job's end
    assert events.of("idle")[:2] == [("import", "ok"), ("model", "ok")]
    qtbot.waitUntil(lambda: "Knows 2 classes" in cp.model_label.text())
    assert cp.banner.isVisible() and "weights file is installed" in cp.banner.text.text()


def test_export_survives_file_names_that_are_not_utf8(qtbot, app_settings, tmp_path):
    """On Linux a file name may be any bytes; Python hands the undecodable ones over as lone
    surrogates. The CSV keeps them as the bytes they were, starts with the mark Excel needs to read
    UTF-8, and a failed export leaves the previous file as it was."""
    from monster_studio.app.results import Answer
    from monster_studio.app.studio import Studio
    from monster_studio.core.events import Skipped
    from monster_studio.core.predict import Prediction

    studio = Studio()
    cp = ClassifyPage(studio)
    qtbot.addWidget(cp)
    odd = str(tmp_path / "caf\udce9.png")  # b"caf\xe9.png": Latin-1, not UTF-8
    cp.table_model.append(Answer(Prediction(odd, [("cat", 0.9), ("dog", 0.1)])))
    cp.table_model.append(Answer(Skipped(str(tmp_path / "café.png"), "not a picture")))
    out = tmp_path / "results.csv"
    assert cp.export_csv(str(out)), cp.banner.text.text()
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and os.fsencode(odd) in raw and "café".encode() in raw
    rows = list(csv.reader(out.open(encoding="utf-8-sig", errors="surrogateescape", newline="")))
    assert rows[0][:3] == ["path", "class", "confidence"] and rows[1][0] == odd and rows[1][1] == "cat"
    assert rows[2][-1] == "not a picture"
    umask = os.umask(0o022)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # a file like any other, not a private temp file

    # a name that cannot be written at all: a plain message, the earlier file untouched, no litter
    cp.table_model.append(Answer(Skipped("broken\ud800.png", "not a picture")))
    assert not cp.export_csv(str(out))
    assert cp.banner.isVisibleTo(cp) and "cannot be written as text" in cp.banner.text.text()
    assert "Traceback" not in cp.banner.text.text() and "surrogate" not in cp.banner.text.text()
    assert out.read_bytes() == raw
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".csv", ".part")) == ["results.csv"]
    studio.shutdown()


def test_many_answers_fill_the_table_a_part_at_a_time(qtbot):
    """An earlier session of many answers shown again fills the table FILL_ROWS rows at a time,
    in order, the window drawing in between; every cell is read-only text with a number to sort
    by, and the page's filter and sorting see the same rows."""
    from PySide6.QtCore import QSortFilterProxyModel

    from monster_studio.app.results import Answer
    from monster_studio.core.events import Skipped
    from monster_studio.core.predict import Prediction
    from monster_studio.ui.results_table import FILL_ROWS, SORT_ROLE, ResultsModel, ResultsProxy

    model = ResultsModel()
    model.set_classes(["ghost", "slime"])
    proxy = ResultsProxy()
    proxy.setSourceModel(model)
    n = 2 * FILL_ROWS + 5
    for i in range(n):
        result = Skipped(f"/m/ghost/{i}.png", "damaged") if i == 7 else \
            Prediction(f"/m/ghost/{i}.png", [("ghost" if i % 2 else "slime", 0.5 + i / (4 * n)), ("other", 0.1)])
        model.append(Answer(result))
    parts = []
    model.rowsInserted.connect(lambda _parent, first, last: parts.append(last - first + 1))
    assert model.rowCount() == 0 and model.has_rows()
    qtbot.waitUntil(lambda: model.rowCount() == n)
    assert parts == [FILL_ROWS, FILL_ROWS, 5]  # a part at a time, each followed by the window's own events
    assert [model.index(r, 0).data() for r in range(n)] == [f"{i}.png" for i in range(n)]
    assert proxy.rowCount() == n
    right = model.columns.index("Right?")
    assert model.index(1, right).data() == "✓ right" and model.index(0, right).data() == "✗ is ghost"
    assert model.index(7, 1).data() == "(not classified)" and model.index(7, 7).data() == "damaged"
    assert model.index(3, 2).data(SORT_ROLE) == pytest.approx(0.5 + 3 / (4 * n))
    assert not model.flags(model.index(3, 1)) & Qt.ItemFlag.ItemIsEditable
    proxy.sort(2, Qt.SortOrder.DescendingOrder)
    assert proxy.index(0, 0).data() == f"{n - 1}.png" and proxy.index(n - 1, 0).data() == "7.png"
    proxy.setFilterFixedString("damaged")
    assert proxy.rowCount() == 1
    model.set_classes(["slime"])  # another model's classes, none named by the folder: no marks
    assert {model.index(r, right).data() for r in range(n)} == {""}
    model.clear()
    assert model.rowCount() == 0 and not model.has_rows() and isinstance(proxy, QSortFilterProxyModel)
