"""Nothing lost, nothing stale: quitting asks first, a failed job keeps the last good result, the
mouse wheel scrolls instead of changing settings, each model's answers stand apart, and the small
things a user trips on (issue 7, the window)."""
# ruff: noqa: F811  (the fixtures are imported from test_app_support and used as parameters)
from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication, QFileDialog
from test_app_support import Events, app_settings, choose_folder, drop, fresh_pictures, open_window, window  # noqa: F401

from monster_studio.ui.main_window import CLASSIFY, TRAIN


def train(qtbot, w, folder, epochs=3):
    choose_folder(qtbot, w, folder)
    events = Events(w.studio)
    w.train_page.options.epochs.setValue(epochs)
    w.train_page.start_training()
    events.wait(qtbot, "finished")
    qtbot.waitUntil(lambda: w.train_page.has_model and not w.train_page.training)
    qtbot.waitUntil(lambda: not w.state.jobs.pending, timeout=60_000)  # the Classify page takes the new model too
    return events


def test_quitting_with_an_unsaved_model_asks_first(qtbot, app_settings, quit_answers, sample_dir, tmp_path,
                                                   monkeypatch):
    w = open_window(qtbot)
    train(qtbot, w, sample_dir)
    quit_answers.next = ["cancel"]
    assert not w.close()  # Cancel: the window stays, the model with it
    assert quit_answers.asked == ["Save the model before quitting?"] and w.isVisible()

    target = tmp_path / "kept.monster"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "")))
    quit_answers.next = ["save"]
    assert w.close()  # Save…: written, then closed
    assert target.is_file() and not w.host.thread.isRunning()


def test_quitting_while_training_asks_and_cancel_keeps_it_running(qtbot, app_settings, quit_answers, tmp_path):
    w = open_window(qtbot)
    folder = fresh_pictures(tmp_path, per_class=16, seed=505)
    choose_folder(qtbot, w, folder)
    w.train_page.start_training()
    quit_answers.next = ["cancel"]
    assert not w.close()
    assert quit_answers.asked == ["Stop training and quit?"] and w.train_page.training
    assert w.close()  # "Stop training and quit" (the default answer here), and no second question
    assert quit_answers.asked == ["Stop training and quit?", "Stop training and quit?"]
    assert not w.host.thread.isRunning()


def test_a_failed_training_keeps_the_last_good_result(qtbot, window, sample_dir, monkeypatch):
    w, tp = window, window.train_page
    train(qtbot, w, sample_dir)
    good_text, points = tp.result.summary.text(), tp.result.plot.point_count()
    assert points > 0 and "check pictures" in good_text

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: (_ for _ in ()).throw(urllib.error.URLError("x")))
    tp.backbone.select("resnet18")  # its weights cannot be downloaded here
    events = Events(w.studio)
    tp.start_training()
    events.wait(qtbot, "error")
    qtbot.waitUntil(lambda: not tp.training and not tp.banner.isHidden())
    assert tp.result.summary.text() == good_text and tp.result.plot.point_count() == points
    assert tp.result.save_button.isEnabled() and w.save_action.isEnabled()
    combo = w.classify_page.model_combo
    assert combo.findData("trained") >= 0  # still listed on the Classify page


def test_the_wheel_scrolls_the_page_not_the_settings(qtbot, window):
    tp = window.train_page
    window.show_page(TRAIN)
    epochs = tp.options.epochs
    epochs.setValue(40)
    tp.setFocus()

    def wheel(widget, notches):
        centre = QPointF(widget.width() / 2, widget.height() / 2)
        event = QWheelEvent(centre, widget.mapToGlobal(centre), QPoint(0, 0), QPoint(0, 120 * notches),
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(widget, event)

    wheel(epochs, -3)
    assert epochs.value() == 40  # the pointer only passed over it
    epochs.setFocus()
    qtbot.waitUntil(epochs.hasFocus)
    wheel(epochs, -3)
    assert epochs.value() == 37  # clicked into, it takes the wheel
    combo = tp.backbone.combo
    before = combo.currentIndex()
    tp.setFocus()
    wheel(combo, -1)
    assert combo.currentIndex() == before


def test_each_models_answers_stand_apart(qtbot, window, sample_dir, tmp_path):
    w, cp = window, window.classify_page
    train(qtbot, w, sample_dir)
    w.try_it([str(sample_dir / "ghost" / "ghost_000.png")])
    events = Events(w.studio)
    qtbot.waitUntil(lambda: len(cp.card_order) == 1 and cp.card_order[0].result is not None, timeout=60_000)
    answered = cp.card_order[0].result.result
    assert answered.model and "answered by" in cp.card_order[0].toolTip()

    cp.select_model("imagenet:efficientnet_lite0", load=True)
    events.wait(qtbot, "modelReady", lambda info: info.kind == "imagenet", timeout=60_000)
    assert not cp.card_order and cp.table_model.rowCount() == 0  # a new model starts a clean view
    drop(cp.drop_zone, [sample_dir / "slime" / "slime_000.png"])
    qtbot.waitUntil(lambda: len(cp.card_order) == 1 and cp.card_order[0].result is not None, timeout=60_000)
    cp.table_model.flush()
    assert [a.result.model for a in cp.table_model.rows] != [answered.model]  # no monster rows among ImageNet's
    history = cp.view.history
    assert not history.isHidden() and history.count() == 2 and "just trained" in history.itemText(1)
    history.setCurrentIndex(1)  # the earlier answers are still there, apart
    assert [a.path for a in cp.table_model.rows] == [str(sample_dir / "ghost" / "ghost_000.png")]
    model_column = cp.table_model.columns.index("Model")
    assert cp.proxy.index(0, model_column).data() == answered.model


def test_a_new_folder_starts_a_clean_train_view(qtbot, window, sample_dir, tmp_path):
    w, tp = window, window.train_page
    train(qtbot, w, sample_dir)
    other = fresh_pictures(tmp_path, per_class=3, seed=606)
    choose_folder(qtbot, w, other)
    assert tp.result.plot.point_count() == 0
    text = tp.result.summary.text()
    assert "still on the Classify page" in text and Path(sample_dir).name in text
    assert tp.result.save_button.isEnabled()  # that model can still be saved
    assert "Reading the folder" not in tp.classes.summary.text()
    assert not w.status_words.text().startswith("Classified")


def test_small_things(qtbot, window, sample_dir, tmp_path, monkeypatch):
    w, cp = window, window.classify_page
    w.show_page(CLASSIFY)
    events = Events(w.studio)
    cp.select_model("imagenet:efficientnet_lite0", load=True)
    events.wait(qtbot, "modelReady", timeout=60_000)
    drop(cp.drop_zone, [sample_dir / "ghost", sample_dir / "slime" / "slime_000.png"])
    qtbot.waitUntil(lambda: not cp.pending, timeout=60_000)
    cp.table_model.flush()

    # the counts line follows the filter
    cp.results.setCurrentIndex(1)
    cp.filter.setText("ghost_00")
    assert cp.counts_label.text().startswith(f"{cp.proxy.rowCount()} pictures of {cp.table_model.rowCount()}")

    # Ctrl+E works with the focus in the filter, where a line edit would take it for itself
    asked = []
    monkeypatch.setattr(cp, "ask_export", lambda: asked.append(True))
    cp.filter.setFocus()
    qtbot.waitUntil(cp.filter.hasFocus)
    qtbot.keyClick(cp.filter, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert asked == [True]

    # a card opens its picture on a double-click; the table's rows too
    opened = []
    import monster_studio.ui.prediction_card as card_module
    import monster_studio.ui.results_view as view_module

    monkeypatch.setattr(card_module, "open_picture", lambda path: opened.append(path))
    monkeypatch.setattr(view_module, "open_picture", lambda path: opened.append(path))
    card = cp.card_order[0]
    qtbot.mouseDClick(card, Qt.MouseButton.LeftButton)
    cp.table.doubleClicked.emit(cp.proxy.index(0, 0))
    assert opened == [card.path, cp.view.shown_rows()[0].path]

    # a successful paste leaves no stale "the clipboard holds no picture"
    QGuiApplication.clipboard().clear()
    cp.paste()
    assert "holds no picture" in cp.banner.text.text() and cp.banner.isVisibleTo(cp)
    QGuiApplication.clipboard().setImage(QImage(str(sample_dir / "mummy" / "mummy_000.png")))
    cp.paste()
    assert not cp.banner.isVisibleTo(cp)

    # the weights dialog starts in a folder that exists, and the guide is in Help
    seen = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda parent, title, folder, *a: (
        seen.append(folder), ("", ""))[1]))
    w.train_page.ask_import_weights("resnet18")
    cp.ask_import_weights("resnet18")
    assert len(seen) == 2 and all(Path(f).is_dir() for f in seen)
    assert any(a.text().replace("&", "") == "Guide" for m in w.menuBar().actions() for a in m.menu().actions())


def test_the_about_box_names_the_versions_and_the_log(qapp):
    from monster_studio.ui.about import about_text

    text = about_text()
    assert "Python" in text and "onnxruntime" in text and "Log file" in text


def test_clear_cached_features_from_help(qtbot, window, quit_answers, sample_dir, tmp_path, monkeypatch):
    import shutil

    from monster_studio.core import paths

    engines = paths.cache_dir() / "engines"  # this test's own cache (the others keep theirs), engine ready
    if engines.is_dir():
        shutil.copytree(engines, tmp_path / "cache" / "engines")
    monkeypatch.setenv("MONSTER_STUDIO_CACHE", str(tmp_path / "cache"))
    w = window
    choose_folder(qtbot, w, sample_dir)
    events = Events(w.studio)
    w.train_page.options.epochs.setValue(2)
    w.train_page.start_training()
    events.wait(qtbot, "finished")
    qtbot.waitUntil(lambda: not w.train_page.training)
    stores = list((paths.cache_dir() / "features").glob("*.sqlite3"))
    assert stores
    quit_answers.next = ["cancel"]
    w.clear_cache()
    assert quit_answers.asked[-1] == "Clear the cached features?" and all(p.exists() for p in stores)
    quit_answers.next = ["clear"]
    w.clear_cache()
    events.wait(qtbot, "idle", lambda task, outcome: task == "clear", timeout=30_000)
    qtbot.waitUntil(lambda: "cached features were cleared" in w.train_page.banner.text.text())
    assert not list((paths.cache_dir() / "features").glob("*.sqlite3"))
    events.clear()
    w.train_page.start_training()  # and training still works: it looks at each picture again
    events.wait(qtbot, "finished")
    assert any(stage == "features" for stage, *_ in events.of("progress"))
