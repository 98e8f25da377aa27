"""The Classify page on the real main window: drops of picture files and of a folder, cards and
table, CSV export, paste, and a model file that is refused."""
# ruff: noqa: F811  (the fixtures are imported from test_app_support and used as parameters)
from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QGuiApplication, QImage
from test_app_support import Events, app_settings, drop, window  # noqa: F401

from monster_studio.ui.main_window import CLASSIFY, TRAIN

IMAGENET = "imagenet:efficientnet_lite0"


def pictures(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_drop_pictures_and_a_folder(qtbot, window, sample_dir, tmp_path):
    w, cp = window, window.classify_page
    events = Events(w.worker)
    w.show_page(CLASSIFY)
    cp.select_model(IMAGENET)  # the pretrained network as it is: no training needed
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
    good = [c for c in cp.card_order if "reason" not in c.result]
    assert [Path(c.path).name for c in good] == [f.name for f in files]
    for card in good:
        assert len(card.labels) == 3 and len(card.bars) == 3
        assert card.bars[0].property("role") == "winner"  # the winner is highlighted
        assert all(b.property("role") == "confidence" for b in card.bars[1:])
        values = [b.value() for b in card.bars]
        assert values == sorted(values, reverse=True)
        assert card.verdict.text() == card.labels[0]
    bad = [c for c in cp.card_order if "reason" in c.result]
    assert len(bad) == 1 and bad[0].verdict.text() == "Not classified"
    assert cp.results.currentIndex() == 0 and cp.results.tabText(0) == "Pictures (4)"

    # a folder fills the table, results arriving as they are computed
    events.clear()
    assert drop(cp.drop_zone, [sample_dir / "vampire", sample_dir / "cyclops"])
    assert cp.results.currentIndex() == 1
    request = cp._next_request - 1
    (done,) = events.wait(qtbot, "classifyDone", lambda info: info["request"] == request, timeout=60_000)
    expected = len(pictures(sample_dir / "vampire")) + len(pictures(sample_dir / "cyclops"))
    assert done["classified"] == expected
    qtbot.waitUntil(lambda: cp.table_model.rowCount() == 4 + expected)
    assert len(cp.card_order) == 4  # folders go to the table only
    progress_phases = {p for p, *_ in events.of("progress")}
    assert "classify" in progress_phases

    # sortable by confidence (the number, not the text)
    cp.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    shown = [cp.proxy.index(r, 2).data(Qt.ItemDataRole.UserRole) for r in range(cp.proxy.rowCount())]
    assert shown == sorted(shown, reverse=True)
    cp.filter.setText("vampire_00")
    assert 0 < cp.proxy.rowCount() <= 10

    out = tmp_path / "results.csv"
    assert cp.export_csv(str(out))
    rows = list(csv.reader(out.open()))
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
    events = Events(w.worker)
    assert drop(cp.model_label, [sample_dir / "ghost" / "ghost_001.png"])  # on the page, not on the zone
    events.wait(qtbot, "classifyDone", timeout=60_000)
    assert [Path(c.path).name for c in cp.card_order] == ["ghost_001.png"]


def test_paste_files_and_a_picture(qtbot, window, sample_dir):
    w, cp = window, window.classify_page
    events = Events(w.worker)
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
    events = Events(w.worker)
    fake = tmp_path / "holiday.monster"
    fake.write_bytes(b"\x00" * 64)
    w.show_page(CLASSIFY)
    cp.open_model(str(fake))
    (info,) = events.wait(qtbot, "error", timeout=30_000)
    assert info["kind"] == "modelfile" and info["task"] == "model"
    qtbot.waitUntil(cp.banner.isVisible)
    assert "holiday.monster" in cp.banner.text.text() and "Traceback" not in cp.banner.text.text()
    assert "Open another model file…" in cp.banner.action_labels()
    assert cp.model_combo.findData(f"file:{fake}") < 0  # not kept among the recent models
    assert cp.selected_key() == IMAGENET
