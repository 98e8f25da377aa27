"""Stop, closing while training, errors in plain words, and the window staying responsive while
the worker thread trains."""
# ruff: noqa: F811  (the fixtures are imported from test_app_support and used as parameters)
from __future__ import annotations

import time
import urllib.error
import urllib.request

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu
from test_app_support import (  # noqa: F401
    TRAIN_MS,
    Events,
    GapProbe,
    app_settings,
    choose_folder,
    fresh_pictures,
    open_window,
    window,
)

from monster_studio.ui.main_window import CLASSIFY


def first_feature_batch(events) -> bool:
    def mid_features(stage, done, total, unit):
        return stage == "features" and 0 < done < total

    return events.first("progress", mid_features) is not None


def test_stop_during_feature_extraction(qtbot, window, tmp_path):
    w, tp = window, window.train_page
    folder = fresh_pictures(tmp_path, per_class=20, seed=101)  # 100 pictures nobody has looked at yet
    choose_folder(qtbot, w, folder)
    events = Events(w.studio)
    tp.options.epochs.setValue(5)
    tp.start_training()
    qtbot.waitUntil(lambda: first_feature_batch(events), timeout=TRAIN_MS)

    t0 = time.perf_counter()
    qtbot.keyClick(tp.stop_button, Qt.Key.Key_Space)  # press Stop
    # the window is back to idle at once ...
    assert not tp.training and tp.train_button.isEnabled() and not tp.stop_button.isEnabled()
    assert "Stopped" in tp.result.progress.words.text()
    # ... and the worker drops the job within a batch
    events.wait(qtbot, "idle", lambda task, outcome: task == "train", timeout=10_000)
    worker_s = time.perf_counter() - t0
    print(f"\nworker idle {worker_s * 1000:.0f} ms after Stop")
    assert events.first("idle", lambda task, outcome: task == "train") == ("train", "stopped")
    assert worker_s < 3.0
    assert not events.of("finished") and not w.studio.runner.busy
    assert tp.result.plot.point_count() == 0

    # nothing of the stopped run leaks into the next one
    events.clear()
    tp.start_training()
    events.wait(qtbot, "finished")
    qtbot.waitUntil(lambda: tp.has_model and not tp.training)  # the summary is drawn once the job is idle
    assert tp.result.plot.point_count() == len(events.of("epochEnd"))


def test_close_the_window_while_training(qtbot, app_settings, tmp_path):
    w = open_window(qtbot)
    folder = fresh_pictures(tmp_path, per_class=16, seed=202)
    choose_folder(qtbot, w, folder)
    events = Events(w.studio)
    w.train_page.start_training()
    qtbot.waitUntil(lambda: first_feature_batch(events), timeout=TRAIN_MS)
    thread = w.host.thread
    t0 = time.perf_counter()
    w.close()
    took = time.perf_counter() - t0
    print(f"\nclosed in {took * 1000:.0f} ms while training")
    assert not thread.isRunning() and thread.isFinished()
    assert took < 5.0


def test_window_stays_responsive_while_training(qtbot, window, tmp_path):
    w, tp = window, window.train_page
    folder = fresh_pictures(tmp_path, per_class=12, seed=303)
    choose_folder(qtbot, w, folder)
    events = Events(w.studio)
    probe = GapProbe(10)
    probe.start()
    tp.start_training()
    events.wait(qtbot, "finished")
    largest = probe.stop()
    assert events.of("progress") and any(p == "features" for p, *_ in events.of("progress"))
    print(f"\nlargest gap between GUI timer ticks while training: {largest * 1000:.0f} ms "
          f"({len(probe.gaps)} ticks)")
    assert largest < 0.25


def test_fewer_than_two_classes_and_missing_folder(qtbot, window, tmp_path):
    tp = window.train_page
    lonely = tmp_path / "only-cats"
    (lonely / "cat").mkdir(parents=True)
    fresh = fresh_pictures(tmp_path, per_class=2, seed=404)
    for f in (fresh / "ghost").iterdir():
        f.rename(lonely / "cat" / f.name)
    tp.set_folder(str(lonely))
    qtbot.waitUntil(lambda: not tp.banner.isHidden(), timeout=30_000)
    text = tp.banner.text.text()
    assert "at least 2 subfolders" in text and "Traceback" not in text
    assert tp.banner.action_labels() == ["Choose another folder…", "Try the sample monsters"]
    assert not tp.train_button.isEnabled() and not tp.folder_ok

    tp.set_folder(str(tmp_path / "gone"))
    qtbot.waitUntil(lambda: "does not exist" in tp.banner.text.text(), timeout=30_000)


def test_weights_that_cannot_be_downloaded(qtbot, window, sample_dir, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network in this test")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    w, tp = window, window.train_page
    choose_folder(qtbot, w, sample_dir)
    tp.backbone.select("resnet18")
    assert "download" in tp.backbone.status.text() and tp.backbone.import_button.isVisible()
    events = Events(w.studio)
    tp.options.epochs.setValue(3)
    tp.start_training()
    (info,) = events.wait(qtbot, "error")
    assert info["kind"] == "weights"
    qtbot.waitUntil(lambda: not tp.training and not tp.banner.isHidden())
    text = tp.banner.text.text()
    assert "ResNet-18" in text and "bundled starting model" in text and "monster-studio import-weights" not in text
    assert tp.banner.action_labels() == ["Train with the bundled starting model", "Import weights file…"]

    events.clear()
    tp.banner.trigger("Train with the bundled starting model")  # the way out, in one click
    assert tp.backbone.current() == "efficientnet_lite0" and tp.training
    events.wait(qtbot, "finished")


def test_save_failure_says_where_to_go(qtbot, window, sample_dir, tmp_path):
    w, tp = window, window.train_page
    choose_folder(qtbot, w, sample_dir)
    events = Events(w.studio)
    tp.options.epochs.setValue(3)
    tp.start_training()
    events.wait(qtbot, "finished")
    tp.request_save(str(tmp_path / "no" / "such" / "folder" / "m.monster"))
    (info,) = events.wait(qtbot, "error", timeout=30_000)
    assert info["task"] == "save" and info["kind"] == "modelfile"
    qtbot.waitUntil(lambda: not tp.banner.isHidden())
    assert "Choose another folder" in tp.banner.text.text()
    assert tp.banner.action_labels() == ["Save somewhere else…"]
    w.show_page(CLASSIFY)  # a failed save leaves the model usable
    qtbot.waitUntil(lambda: w.classify_page.model_info is not None, timeout=30_000)


def test_an_unexpected_failure_reads_as_words(qtbot, window, sample_dir, monkeypatch):
    from monster_studio.core import training

    def broken(*args, **kwargs):
        raise RuntimeError("the flux capacitor melted")
        yield  # a generator, like the real one

    monkeypatch.setattr(training, "fit", broken)
    tp = window.train_page
    choose_folder(qtbot, window, sample_dir)
    tp.start_training()
    qtbot.waitUntil(lambda: not tp.training and not tp.banner.isHidden(), timeout=30_000)
    text = tp.banner.text.text()
    assert text.startswith("Something went wrong while training: RuntimeError: the flux capacitor melted.")
    assert "Traceback" not in text and tp.train_button.isEnabled()


def test_menus_and_shortcuts(qtbot, window):
    w = window
    shortcuts = {a.text().replace("&", ""): a.shortcut().toString()
                 for menu in w.menuBar().findChildren(QMenu) for a in menu.actions() if not a.isSeparator()}
    assert shortcuts["Open…"] == "Ctrl+O" and shortcuts["Save Model…"] == "Ctrl+S"
    assert shortcuts["Train"] == "Ctrl+T" and shortcuts["Stop"] == "Esc" and shortcuts["Paste Pictures"] == "Ctrl+V"
    assert shortcuts["Train Page"] == "Ctrl+1" and shortcuts["Classify Page"] == "Ctrl+2"
    assert "About Monster Studio" in shortcuts
    actions = {a.text().replace("&", ""): a for m in w.menuBar().findChildren(QMenu) for a in m.actions()}
    for text, page in (("Classify Page", CLASSIFY), ("Train Page", 0)):
        actions[text].trigger()
        assert w.current_page() == page
    assert not w.save_action.isEnabled() and not w.stop_action.isEnabled()  # nothing to save or stop yet


def test_import_a_weights_file(qtbot, window, tmp_path, monkeypatch):
    import torch

    from monster_studio.core import backbones, catalogue

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # this test's own hub cache
    spec = catalogue.BACKBONES["mobilenet_v3_large"]
    file = tmp_path / "from-a-usb-stick.pth"
    torch.save(backbones.architecture(spec).state_dict(), file)
    tp = window.train_page
    tp.backbone.select(spec.id)
    assert tp.backbone.import_button.isVisibleTo(tp)
    events = Events(window.studio)
    tp.import_weights(spec.id, str(file))
    events.wait(qtbot, "idle", lambda task, outcome: task == "import", timeout=60_000)
    qtbot.waitUntil(lambda: not tp.banner.isHidden())
    assert "are installed" in tp.banner.text.text() and tp.banner.level == "info"
    assert "on this computer" in tp.backbone.status.text() and not tp.backbone.import_button.isVisibleTo(tp)
    assert (tmp_path / "torch" / "hub" / "checkpoints" / spec.weights_filename).is_file()

    tp.import_weights(spec.id, str(tmp_path / "missing.pth"))  # a wrong file says so
    qtbot.waitUntil(lambda: tp.banner.level == "error" and not tp.banner.isHidden(), timeout=30_000)
    assert "does not exist" in tp.banner.text.text()


def test_stop_keeps_a_save_asked_for_behind_classifying(qtbot, window, sample_dir, tmp_path):
    """Stop is for classifying and training; a model file the user asked to save is still written."""
    import torch

    from monster_studio.core import catalogue
    from monster_studio.core.model import TrainedModel
    from monster_studio.ui.main_window import CLASSIFY

    w, tp, cp = window, window.train_page, window.classify_page
    spec = catalogue.backbone("efficientnet_lite0")
    classes = ["cyclops", "ghost", "mummy", "slime", "vampire"]
    head = {"weight": torch.randn(len(classes), spec.feature_size), "bias": torch.randn(len(classes))}
    w.studio.runner.shelf.models["trained"] = TrainedModel(spec.id, classes, spec.preprocess, head)  # as if just trained
    events = Events(w.studio)
    w.show_page(CLASSIFY)
    cp.select_model("imagenet:efficientnet_lite0", load=True)
    events.wait(qtbot, "modelReady", timeout=60_000)
    cp.classify_paths([str(sample_dir)])  # 120 pictures: a few seconds of work
    events.wait(qtbot, "prediction", timeout=60_000)
    target = tmp_path / "kept.monster"
    tp.request_save(str(target))  # queued behind the classifying
    cp.stop_button.click()
    assert cp.pending == 0
    (saved,) = events.wait(qtbot, "saved", timeout=30_000)
    assert saved == str(target) and target.is_file()
    events.wait(qtbot, "idle", lambda name, outcome: name == "save")  # "saved" comes before the job's end
    assert ("save", "ok") in events.of("idle") and ("classify", "stopped") in events.of("idle")


GUI_WITHOUT_TORCH = r"""
import sys
from PySide6.QtWidgets import QApplication, QFileDialog
import monster_studio.ui.main_window  # noqa: F401
from monster_studio.app.studio import Studio
from monster_studio.ui.classify_page import ClassifyPage
from monster_studio.ui.train_page import TrainPage

app = QApplication([])
QFileDialog.getOpenFileName = staticmethod(lambda *a, **k: ("", ""))
QFileDialog.getSaveFileName = staticmethod(lambda *a, **k: ("", ""))
studio = Studio()
cp, tp = ClassifyPage(studio), TrainPage(studio)
print("open model enabled before the engine:", cp.picker.open_button.isEnabled())
studio.state.engine.ready = True  # as the start job says once the engine is in
studio.state.engine.changed.emit()
print("open model enabled after:", cp.picker.open_button.isEnabled())
cp.ask_open_model()
from types import SimpleNamespace
studio.state.training.summary = SimpleNamespace(folder="")  # a trained model to save
tp.ask_save()
print("torch imported:", "torch" in sys.modules)
studio.shutdown()
"""


def test_the_window_does_not_import_torch(tmp_path):
    """torch loads on the worker thread; the GUI thread importing it freezes the window (or waits
    on the import lock while the worker imports it). The pages and their file dialogs need none."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"))
    result = subprocess.run([sys.executable, "-c", GUI_WITHOUT_TORCH], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path, env=env)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "open model enabled before the engine: False" in out and "open model enabled after: True" in out
    assert "torch imported: False" in out
