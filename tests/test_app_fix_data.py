"""Fix the data from inside the window (issue 10): Check my pictures lists a planted wrong label
first and moves it where it belongs, Undo (Ctrl+Z) puts it back byte for byte; a class renamed
from the class table and undone; Sort… previews without writing, copies each picture once, a
rerun copies nothing, and a Stop half-way leaves only whole copies; "This is actually…" copies an answered picture into its class and Retrain
now trains again on the remembered pictures. Pictures are generated; the system's trash and the
app's data folder are temporary ones."""
# ruff: noqa: F811  (the fixtures are imported from test_app_support and used as parameters)
from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import pytest
from PySide6.QtGui import QKeySequence
from test_app_support import TRAIN_MS, Events, app_settings, choose_folder, window  # noqa: F401

from monster_studio.core.sample import write_sample
from monster_studio.core.sort import MANIFEST
from monster_studio.ui import fix_actions
from monster_studio.ui.main_window import CLASSIFY


def snapshot(root: Path) -> dict:
    """Every file below root: content hash and modification time."""
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            p = Path(dirpath) / name
            out[str(p.relative_to(root))] = (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def trained_on(tmp_path_factory) -> Path:
    """A small folder the sort and teach tests train on (its pictures' features are then remembered)."""
    return write_sample(tmp_path_factory.mktemp("fix_train") / "monsters", per_class=8, seed=11, size=96)


def train(qtbot, w, folder: Path, epochs: int = 8):
    choose_folder(qtbot, w, folder)
    events = Events(w.studio)
    w.train_page.options.epochs.setValue(epochs)
    w.train_page.start_training()
    (summary,) = [events.wait(qtbot, "finished")[0]]
    qtbot.waitUntil(lambda: not w.train_page.training and w.state.model.info is not None
                    and w.state.model.info.key == "trained", timeout=60_000)
    return summary


def table_counts(w) -> dict:
    table = w.state.folder.table
    return dict(table.counts) if table is not None else {}


def test_check_lists_a_planted_wrong_label_first_and_undo_puts_it_back(qtbot, window, trash, tmp_path):
    folder = write_sample(tmp_path / "monsters", per_class=12, seed=3, size=96)
    planted = folder / "slime" / "ghost_004.png"  # a ghost in the slime folder
    shutil.move(folder / "ghost" / "ghost_004.png", planted)
    w, tp, view = window, window.train_page, window.fixes.check_view
    choose_folder(qtbot, w, folder)
    before, original = snapshot(folder), planted.read_bytes()
    assert w.fixes.check_button.isEnabled() and not w.undo_action.isEnabled()

    w.fixes.check_button.click()
    assert tp.result.tabs.currentWidget() is view and w.fixes.check_button.text() == "Stop checking"
    qtbot.waitUntil(lambda: view.checked is not None, timeout=TRAIN_MS)
    assert snapshot(folder) == before  # the check changes no file
    first = view.checked.report.label_issues[0]
    assert (first.path, first.given, first.suggested) == (str(planted), "slime", "ghost")
    row = view.rows[0]
    assert row.paths == [str(planted)] and "ghost_004.png" in row.text.text()
    assert "wrong class" in view.summary.text() and w.fixes.check_button.text() == "Check my pictures"
    entries = dict(fix_actions.offer_actions(tp, str(planted), "slime"))  # for other views (the gallery)
    assert "Move to 'ghost'" in entries and "Set aside (to the trash)" in entries and "Move to 'slime'" not in entries

    row.button("Move to 'ghost'").click()
    moved = folder / "ghost" / "ghost_004.png"
    qtbot.waitUntil(lambda: row.state == "done" and w.undo_action.isEnabled(), timeout=30_000)
    assert moved.read_bytes() == original and not planted.exists()
    assert w.undo_action.text() == "&Undo: move ghost_004.png to ghost"
    assert w.undo_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)  # Ctrl+Z
    qtbot.waitUntil(lambda: table_counts(w).get("ghost") == 12 and table_counts(w).get("slime") == 12)
    assert "Undo" in tp.banner.action_labels() and "ghost_004.png" in tp.banner.text.text()

    w.undo_action.trigger()
    qtbot.waitUntil(lambda: planted.is_file() and row.state == "open", timeout=30_000)
    assert snapshot(folder) == before  # byte-identical, modification times too
    qtbot.waitUntil(lambda: table_counts(w).get("slime") == 13 and not w.undo_action.isEnabled())
    assert w.undo_action.text() == "&Undo"

    row.button("Set aside").click()  # to the (temporary) trash, and back
    qtbot.waitUntil(lambda: row.state == "done" and not planted.exists(), timeout=30_000)
    assert any(trash.glob("files/ghost_004*.png"))
    qtbot.waitUntil(w.undo_action.isEnabled)
    assert w.undo_action.text() == "&Undo: set ghost_004.png aside"
    w.undo_action.trigger()
    qtbot.waitUntil(lambda: planted.is_file() and row.state == "open", timeout=30_000)
    assert snapshot(folder) == before

    other = write_sample(tmp_path / "other", per_class=3, size=48)
    choose_folder(qtbot, w, other)  # nothing stale: another folder clears the findings
    assert view.checked is None and not view.rows


def test_rename_a_class_from_the_class_table_and_undo(qtbot, window, trash, tmp_path, monkeypatch):
    folder = write_sample(tmp_path / "monsters", per_class=4, size=48)
    w, tp = window, window.train_page
    choose_folder(qtbot, w, folder)
    before = snapshot(folder)
    entries = dict(tp.classes.menu_entries("ghost"))
    assert list(entries) == ["Rename 'ghost'…", "New class…"]
    assert list(dict(tp.classes.menu_entries(""))) == ["New class…"]

    monkeypatch.setattr(fix_actions, "ask_name", lambda *a, **k: "a/b")
    entries["Rename 'ghost'…"]()
    assert tp.banner.level == "error" and "cannot be a class" in tp.banner.text.text()
    assert snapshot(folder) == before

    monkeypatch.setattr(fix_actions, "ask_name", lambda *a, **k: "spook")
    entries["Rename 'ghost'…"]()
    qtbot.waitUntil(lambda: "spook" in tp.classes.class_names(), timeout=30_000)
    assert (folder / "spook").is_dir() and not (folder / "ghost").exists() and "ghost" not in tp.classes.class_names()
    qtbot.waitUntil(w.undo_action.isEnabled)
    assert w.undo_action.text() == "&Undo: rename ghost to spook"

    w.undo_action.trigger()
    qtbot.waitUntil(lambda: "ghost" in tp.classes.class_names(), timeout=30_000)
    assert snapshot(folder) == before and not (folder / "spook").exists()

    monkeypatch.setattr(fix_actions, "ask_name", lambda *a, **k: "werewolf")
    dict(tp.classes.menu_entries(""))["New class…"]()
    qtbot.waitUntil(lambda: (folder / "werewolf").is_dir() and w.undo_action.isEnabled(), timeout=30_000)
    assert w.undo_action.text() == "&Undo: new class werewolf"


def test_sort_previews_then_copies_each_picture_once_and_a_rerun_copies_nothing(qtbot, window, trained_on,
                                                                                 trash, tmp_path, monkeypatch):
    w, cp = window, window.classify_page
    train(qtbot, w, trained_on)
    unsorted = write_sample(tmp_path / "new pictures", per_class=3, seed=21, size=96)
    out = tmp_path / "sorted"
    w.show_page(CLASSIFY)
    w.fixes.sort_button.click()
    dialog = cp._sort_dialog
    assert dialog.isVisible() and not dialog.isModal()
    dialog.in_edit.setText(str(unsorted))
    assert dialog.out_edit.text() == str(tmp_path / "new pictures sorted")  # suggested beside it
    dialog.out_edit.setText(str(out))
    assert not dialog.sort_button.isEnabled()  # a preview first

    dialog.preview_button.click()
    qtbot.waitUntil(lambda: dialog.plan is not None and dialog.request is None, timeout=60_000)  # the preview job ended
    assert dialog.plan.n_new == 15 and sum(dialog.plan.counts.values()) == 15
    assert "nothing has been written" in dialog.words.text() and "15 pictures to sort" in dialog.words.text()
    assert not out.exists()  # the preview writes nothing
    assert dialog.sort_button.isEnabled() and dialog.sort_button.text() == "Copy 15 pictures"

    before = snapshot(unsorted)
    dialog.sort_button.click()
    qtbot.waitUntil(lambda: "Done" in dialog.words.text() and dialog.request is None, timeout=60_000)
    copies = [Path(d) / f for d, _, names in os.walk(out) for f in names if f != MANIFEST]
    assert len(copies) == 15 and (out / MANIFEST).is_file()
    assert sorted(h for h, _ in snapshot(unsorted).values()) == sorted(
        hashlib.sha256(p.read_bytes()).hexdigest() for p in copies)  # each picture once
    assert snapshot(unsorted) == before  # copied, not moved
    assert dialog.show_button.isVisible() and "Copied 15 pictures" in dialog.words.text()

    dialog.preview_button.click()
    qtbot.waitUntil(lambda: dialog.plan is not None and dialog.request is None, timeout=60_000)  # the preview job ended
    assert dialog.plan.n_new == 0 and dialog.plan.n_already == 15 and not dialog.sort_button.isEnabled()
    assert "No new picture to sort" in dialog.words.text()

    from monster_studio.core import sort

    copy_file = sort.copy_file
    monkeypatch.setattr(sort, "copy_file", lambda *a, **k: (time.sleep(0.3), copy_file(*a, **k))[1])
    more, out = write_sample(tmp_path / "more", per_class=2, seed=41, size=96), tmp_path / "sorted more"
    dialog.in_edit.setText(str(more))
    dialog.out_edit.setText(str(out))
    dialog.preview_button.click()
    qtbot.waitUntil(lambda: dialog.plan is not None and dialog.request is None, timeout=60_000)  # the preview job ended
    events = Events(w.studio)
    dialog.sort_button.click()
    events.wait(qtbot, "progress", lambda stage, done, total, unit: stage == "sort" and done >= 2, timeout=30_000)
    dialog.stop_button.click()  # Stop half-way: what is there is whole
    qtbot.waitUntil(lambda: "Stopped" in dialog.words.text(), timeout=30_000)
    qtbot.waitUntil(lambda: not w.studio.runner.busy, timeout=30_000)  # the job's own clean-up has run
    copies = [Path(d) / f for d, _, names in os.walk(out) for f in names if f != MANIFEST]
    assert 1 <= len(copies) < 10
    assert {hashlib.sha256(p.read_bytes()).hexdigest() for p in copies} <= {h for h, _ in snapshot(more).values()}
    dialog.preview_button.click()
    qtbot.waitUntil(lambda: dialog.plan is not None and dialog.request is None, timeout=60_000)  # the preview job ended
    assert (dialog.plan.n_new, dialog.plan.n_already) == (10 - len(copies), len(copies))

    cp.model_combo.setCurrentIndex(cp.model_combo.findData("imagenet:efficientnet_lite0"))  # refused in words
    assert "ImageNet labels" in dialog.model_label.text() and not dialog.preview_button.isEnabled()
    dialog.close()


def test_this_is_actually_copies_the_picture_and_retrain_now_trains(qtbot, window, trained_on, trash, tmp_path):
    w, cp = window, window.classify_page
    first = train(qtbot, w, trained_on)
    picture = write_sample(tmp_path / "to try", per_class=1, seed=31, size=96) / "mummy" / "mummy_000.png"
    w.show_page(CLASSIFY)
    cp.classify_paths([str(picture)])
    qtbot.waitUntil(lambda: cp.card_order and cp.card_order[0].result is not None, timeout=60_000)
    answer = cp.card_order[0].result
    said = answer.result.top[0][0]
    (menu,) = cp.extras_for(answer)
    assert menu[0] == "This is actually…"  # a submenu of the other classes
    entries = dict(menu[1])
    others = [c for c in first.info.classes if c != said]
    assert list(entries) == others
    target = "mummy" if said != "mummy" else "ghost"

    entries[target]()
    copy = trained_on / target / "mummy_000.png"
    qtbot.waitUntil(lambda: copy.is_file() and "Retrain now" in cp.banner.action_labels(), timeout=30_000)
    assert copy.read_bytes() == picture.read_bytes() and picture.is_file()  # a copy; the original stays
    # The Undo entry follows from the job's next event (the change is reported first): wait for it.
    qtbot.waitUntil(lambda: w.undo_action.text() == "&Undo: add mummy_000.png to " + target, timeout=10_000)

    events = Events(w.studio)
    cp.banner.trigger("Retrain now")
    (again,) = [events.wait(qtbot, "finished")[0]]
    assert again.seconds < 10  # every other picture's features are remembered (0.4 s here, 26 s cold)
    assert again.metrics["n_train"] + again.metrics["n_val"] == first.metrics["n_train"] + first.metrics["n_val"] + 1
    qtbot.waitUntil(lambda: not w.state.training.running)
    w.undo_action.trigger()  # the module's folder as it was, for any later test
    qtbot.waitUntil(lambda: not copy.exists(), timeout=30_000)


def test_the_jobs_are_plain_generators(qapp, trash, tmp_path):
    """Run here without a thread, as the runner runs them: a change, its undo, and refusals in words."""
    from monster_studio.app.jobs import fix, sorting
    from monster_studio.app.runner import JobContext
    from monster_studio.app.shelf import Shelf
    from monster_studio.core.errors import UserError
    from monster_studio.core.events import Cancel, ClassTable

    folder = write_sample(tmp_path / "monsters", per_class=3, size=48)
    picture = folder / "ghost" / "ghost_001.png"
    ctx = JobContext(Cancel(), Shelf())
    items = list(fix.change(ctx, str(folder), [("move", str(picture), "slime")]))
    (changed,) = [i for i in items if isinstance(i, fix.Changed)]
    assert changed.kind == "move" and changed.words == ["Moved ghost_001.png from 'ghost' to 'slime'."]
    assert [i.words for i in items if isinstance(i, fix.UndoState)] == ["move ghost_001.png to slime"]
    (table,) = [i for i in items if isinstance(i, ClassTable)]
    assert table.counts["slime"] == 4 and table.counts["ghost"] == 2
    items = list(fix.undo(ctx, str(folder)))
    assert picture.is_file() and [i.words for i in items if isinstance(i, fix.UndoState)] == [""]
    assert list(fix.history(ctx, str(tmp_path / "gone"))) == [fix.UndoState(str(tmp_path / "gone"), "")]
    with pytest.raises(UserError, match="nothing to undo"):
        list(fix.undo(ctx, str(folder)))
    for key, words in (("imagenet:efficientnet_lite0", "ImageNet labels"), ("detector:ssdlite", "detector finds")):
        with pytest.raises(UserError, match=words):
            list(sorting.plan(ctx, key, str(folder), str(tmp_path / "out")))
    assert not (tmp_path / "out").exists()
