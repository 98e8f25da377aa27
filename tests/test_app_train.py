"""The Train page on the real main window: choose the sample folder, train, watch the plot and
the summary, save the model and open it again, and the one-click sample run."""
# ruff: noqa: F811  (the fixtures are imported from test_app_support and used as parameters)
from __future__ import annotations

import shutil
import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QThread
from test_app_support import TRAIN_MS, Events, app_settings, choose_folder, open_window, window  # noqa: F401

from monster_studio.core import modelfile
from monster_studio.ui.main_window import CLASSIFY, TRAIN


def test_train_on_the_sample_then_save_and_reopen(qtbot, window, sample_dir, tmp_path):
    w, tp, cp = window, window.train_page, window.classify_page
    choose_folder(qtbot, w, sample_dir)
    assert tp.classes.class_names() == ["cyclops", "ghost", "mummy", "slime", "vampire"]
    assert "120 pictures" in tp.classes.summary.text()
    assert tp.train_button.isEnabled()

    events, threads = Events(w.studio), set()
    # DirectConnection on purpose: this records the thread the worker's tasks really run on
    w.studio.runner.started.connect(lambda request: threads.add(QThread.currentThread()),
                                    Qt.ConnectionType.DirectConnection)
    tp.options.epochs.setValue(6)
    assert w.train_action.shortcut().toString() == "Ctrl+T"
    w.train_action.trigger()
    assert tp.training and tp.stop_button.isEnabled() and not tp.train_button.isEnabled()
    (summary,) = events.wait(qtbot, "finished")
    qtbot.waitUntil(lambda: not tp.training and tp.has_model)
    assert threads == {w.host.thread}, "model work must run on the worker thread only"
    epochs = [e for (e,) in events.of("epochEnd")]
    phases = [name for name, _ in events.of("phase")]
    assert phases[:2] == ["scan", "scan"] and "features" in phases and "train" in phases
    assert 1 <= len(epochs) <= 6
    assert tp.result.plot.point_count() == len(epochs)  # one point per epoch, on all three curves
    assert len(tp.result.plot.val_accuracy) == len(tp.result.plot.val_loss) == len(epochs)
    text = tp.result.summary.text()
    assert "of 25" in text and "cyclops" in text and "Right when it says so" in text
    assert summary.metrics["val_accuracy"] >= 0.6  # five very different monsters
    assert tp.result.save_button.isEnabled() and tp.result.try_button.isEnabled() and w.save_action.isEnabled()
    # the Classify page lists the fresh model first and uses it
    assert cp.selected_key() == "trained"

    target = tmp_path / "monsters.monster"
    tp.request_save(str(tmp_path / "monsters"))  # the suffix is added
    (saved,) = events.wait(qtbot, "saved", timeout=30_000)
    assert saved == str(target) and target.is_file()
    assert str(target) in QSettings().value("models/recent", [])
    assert modelfile.load(target).classes == ["cyclops", "ghost", "mummy", "slime", "vampire"]

    # "Try it" opens the Classify page; then open the saved file as a model
    qtbot.mouseClick(tp.result.try_button, Qt.MouseButton.LeftButton)
    assert w.current_page() == CLASSIFY
    cp.open_model(str(target))
    (ready,) = events.wait(qtbot, "modelReady", lambda info: info.kind == "file", timeout=30_000)
    assert ready.classes == ["cyclops", "ghost", "mummy", "slime", "vampire"]
    assert "Knows 5 classes" in cp.model_label.text()
    assert cp.selected_key() == f"file:{target}"


def test_try_the_sample_monsters_ends_on_the_classify_page(qtbot, window, tmp_path):
    w, tp, cp = window, window.train_page, window.classify_page
    w.show_page(TRAIN)
    events = Events(w.studio)
    tp.start_sample(str(tmp_path / "sample-monsters"), per_class=8)
    assert tp.training and not tp.sample_button.isEnabled()
    events.wait(qtbot, "classifyDone")
    assert (tmp_path / "sample-monsters" / "vampire").is_dir()
    assert tp.classes.class_names() == ["cyclops", "ghost", "mummy", "slime", "vampire"]
    assert w.current_page() == CLASSIFY
    assert cp.selected_key() == "trained"
    qtbot.waitUntil(lambda: len(cp.card_order) == 10 and all(c.result for c in cp.card_order))
    assert all(c.labels and c.labels[0] in tp.classes.class_names() for c in cp.card_order)


def test_settings_are_remembered(qtbot, app_settings, sample_dir):
    w = open_window(qtbot)
    tp = w.train_page
    choose_folder(qtbot, w, sample_dir)
    tp.options.epochs.setValue(17)
    tp.options.val_share.setValue(30)
    tp.options.advanced_toggle.setChecked(True)
    tp.options.seed.setValue(42)
    w.resize(1234, 777)
    w.show_page(CLASSIFY)
    w.close()
    assert not w.host.thread.isRunning()

    again = open_window(qtbot)
    tp2 = again.train_page
    assert tp2.folder == str(sample_dir)
    o = tp2.options
    assert (o.epochs.value(), o.val_share.value(), o.seed.value()) == (17, 30, 42)
    assert not o.advanced.isHidden() and again.current_page() == CLASSIFY
    assert not QSettings().value("window/geometry").isEmpty()  # (the offscreen screen clamps sizes)
    qtbot.waitUntil(lambda: tp2.folder_ok, timeout=30_000)  # the remembered folder is read again
    again.close()


def test_files_skipped_when_decoded_are_listed(qtbot, window, bad_corpus):
    """A damaged picture whose header looks fine is found only when training decodes it; the list
    of skipped files on the left, which the summary points to, shows it too."""
    w, tp = window, window.train_page
    choose_folder(qtbot, w, bad_corpus.root)
    (truncated,) = bad_corpus.broken
    listed = [tp.classes.skipped.item(i).text() for i in range(tp.classes.skipped.count())]
    assert listed and not any(truncated.name in t for t in listed)  # the scan cannot know yet
    events = Events(w.studio)
    tp.options.epochs.setValue(3)
    tp.start_training()
    (summary,) = events.wait(qtbot, "finished")
    qtbot.waitUntil(lambda: tp.has_model and not tp.training)  # the summary is drawn once the job is idle
    reason = {s.path: s.reason for s in summary.skipped}[str(truncated)]
    assert bad_corpus.broken[truncated] in reason
    listed = [tp.classes.skipped.item(i).text() for i in range(tp.classes.skipped.count())]
    assert f"{truncated.relative_to(bad_corpus.root)} — {reason}" in listed
    assert len(listed) == len(summary.skipped)  # the summary's count and the list agree
    n = len(listed)
    assert f"{n} files were skipped" in tp.result.summary.text() and f"{n} files were skipped" in tp.classes.warnings.text()
    assert tp.classes.skipped_toggle.text() == f"Show the {n} skipped files"


def test_choosing_another_folder_stops_the_scan(qtbot, window, sample_dir, tmp_path, monkeypatch):
    from monster_studio.core import images

    real = images.thumbnail

    def slow(*args, **kwargs):  # examples drawn slowly: the first folder's scan is still running
        time.sleep(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(images, "thumbnail", slow)
    second = tmp_path / "pets"
    for cls, source in (("cat", "ghost"), ("dog", "slime")):
        (second / cls).mkdir(parents=True)
        for f in sorted((sample_dir / source).iterdir())[:2]:
            shutil.copy(f, second / cls / f.name)
    w, tp = window, window.train_page
    events = Events(w.studio)
    tp.set_folder(str(sample_dir))
    events.wait(qtbot, "scanned", timeout=30_000)  # its classes are in; 30 examples follow, 0.3 s each
    qtbot.waitUntil(w.stop_action.isEnabled)  # Esc can stop a scan
    t0 = time.perf_counter()
    tp.set_folder(str(second))
    qtbot.waitUntil(lambda: tp.classes.class_names() == ["cat", "dog"], timeout=30_000)
    took = time.perf_counter() - t0
    assert took < 4.0, f"the second folder waited {took:.1f} s for the first"
    qtbot.waitUntil(lambda: len([t for t, _ in events.of("idle") if t == "scan"]) == 2, timeout=30_000)
    assert [o for t, o in events.of("idle") if t == "scan"] == ["stopped", "ok"]
    assert tp.folder_ok and tp.folder == str(Path(second)) and not w.state.jobs.busy("scan")
    assert not w.stop_action.isEnabled()


def test_the_result_has_its_room_before_it_arrives(qtbot, window, sample_dir):
    """Once the folder is read, the result panel has the room a training on it will need: the
    result then arrives without anything moving (the plot shrinking would redraw it whole while
    the window should answer), and it shows whole, with nothing to scroll."""
    w, tp = window, window.train_page
    w.resize(1366, 768)  # a laptop screen
    choose_folder(qtbot, w, sample_dir)
    result = tp.result
    qtbot.waitUntil(lambda: result._need > 0)
    before = result.split.sizes()
    assert before[1] >= result._need and before[0] >= 170  # the plot keeps its room too
    events = Events(w.studio)
    tp.options.epochs.setValue(3)
    w.train_action.trigger()
    events.wait(qtbot, "finished")
    qtbot.waitUntil(lambda: not tp.training and tp.has_model)
    qtbot.wait(300)  # the result's steps (STEP_MS apart)
    assert "Right when it says so" in result.summary.text()
    assert result.split.sizes() == before
    assert result.summary.verticalScrollBar().maximum() == 0, "the result needs scrolling to be read"
