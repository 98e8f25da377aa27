"""Safe actions on a training folder: each one recorded and undone to byte-identical files, the
trash used (never a permanent delete), nothing overwritten, and paths and names from outside
refused in plain words. The system's trash is send2trash's own freedesktop.org implementation,
pointed at a temporary folder."""
from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import pytest

from monster_studio.core import actions, dataset
from monster_studio.core.actions import Journal, Request
from monster_studio.core.errors import UserError
from monster_studio.core.events import Progress, run_to_end
from monster_studio.core.sample import write_picture


def snapshot(root: Path) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[str((Path(dirpath) / d).relative_to(root)) + "/"] = None
        for f in filenames:
            p = Path(dirpath) / f
            st = p.stat()
            out[str(p.relative_to(root))] = (hashlib.sha256(p.read_bytes()).hexdigest(), st.st_size, st.st_mtime_ns)
    return out


def pictures(folder: Path, kind: str, n: int, seed: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [write_picture(kind, folder / f"{kind}_{i}.png", random.Random(f"{seed}/{kind}/{i}"), size=48)
            for i in range(n)]


@pytest.fixture
def folder(tmp_path, trash):
    root = tmp_path / "pictures"
    pictures(root / "ghost", "ghost", 3, "a")
    pictures(root / "slime", "slime", 3, "a")
    return root


def test_move_then_undo_gives_back_the_same_bytes_and_times(folder):
    before = snapshot(folder)
    j = Journal(folder)
    a = j.move_to_class(folder / "ghost" / "ghost_1.png", "slime")
    assert not (folder / "ghost" / "ghost_1.png").exists()
    moved = folder / "slime" / "ghost_1.png"
    assert Path(a.destination) == moved.resolve() and moved.is_file()
    assert a.words == "Moved ghost_1.png from 'ghost' to 'slime'." and j.can_undo
    result = j.undo()
    assert [u.id for u in result.undone] == [a.id] and not j.can_undo
    assert snapshot(folder) == before


def test_a_taken_name_gets_a_suffix_and_nothing_is_overwritten(folder):
    j = Journal(folder)
    taken = folder / "slime" / "ghost_0.png"
    taken.write_bytes(b"someone else's picture")
    before = snapshot(folder)
    a = j.move_to_class(folder / "ghost" / "ghost_0.png", "slime")
    assert Path(a.destination).name == "ghost_0 (2).png"
    assert taken.read_bytes() == b"someone else's picture"
    j.undo()
    assert snapshot(folder) == before


def test_set_aside_goes_to_the_trash_and_comes_back_from_it(folder, trash):
    before = snapshot(folder)
    original = folder / "slime" / "slime_2.png"
    data = original.read_bytes()
    j = Journal(folder)
    a = j.set_aside(original)
    assert not original.exists()
    in_trash = list((trash / "files").iterdir())
    assert [p.read_bytes() for p in in_trash] == [data]  # in the trash, not deleted
    info = (trash / "info" / (in_trash[0].name + ".trashinfo")).read_text()
    assert f"Path={original.resolve()}" in info
    assert Path(a.kept).read_bytes() == data  # and the app's own checked copy, outside the folder
    assert not Path(a.kept).is_relative_to(folder)
    result = j.undo()
    assert snapshot(folder) == before
    assert list((trash / "files").iterdir()) == [] and list((trash / "info").iterdir()) == []
    assert not Path(a.kept).exists() and result.changes[0].kind == "restore"


def test_set_aside_comes_back_from_the_kept_copy_when_the_trash_was_emptied(folder, trash):
    before = snapshot(folder)
    j = Journal(folder)
    j.set_aside(folder / "ghost" / "ghost_0.png")
    for sub in ("files", "info"):  # the user empties the trash
        for p in (trash / sub).iterdir():
            p.unlink()
    j.undo()
    assert snapshot(folder) == before


def test_create_and_rename_a_class_undone_in_turn(folder):
    before = snapshot(folder)
    j = Journal(folder)
    j.create_class("mummy")
    assert (folder / "mummy").is_dir() and "mummy" in j.classes()
    j.move_to_class(folder / "ghost" / "ghost_2.png", "mummy")
    done = j.rename_class("mummy", "bandaged ones")
    assert len(done) == 1 and (folder / "bandaged ones" / "ghost_2.png").is_file()
    assert not (folder / "mummy").exists()
    for _ in range(3):
        j.undo()
    assert snapshot(folder) == before and not j.can_undo


def test_undoing_a_class_that_now_holds_pictures_is_refused(folder):
    j = Journal(folder)
    j.create_class("mummy")
    (folder / "mummy" / "note.png").write_bytes(b"x")
    with pytest.raises(actions.CannotUndo, match="now holds 1 file"):
        j.undo()
    assert (folder / "mummy" / "note.png").read_bytes() == b"x" and j.can_undo


def test_rename_in_a_split_folder_renames_both_parts_in_one_undo(tmp_path, trash):
    root = tmp_path / "split"
    for part in ("train", "val"):
        pictures(root / part / "ghost", "ghost", 2, part)
        pictures(root / part / "slime", "slime", 2, part)
    before = snapshot(root)
    j = Journal(root)
    done = j.rename_class("ghost", "spook")
    assert len(done) == 2 and (root / "train" / "spook").is_dir() and (root / "val" / "spook").is_dir()
    assert dataset.scan(root).classes == ["slime", "spook"]
    a = j.move_to_class(root / "val" / "slime" / "slime_0.png", "spook")
    assert Path(a.destination).parent == (root / "val" / "spook").resolve()  # stays a check picture
    j.undo()
    j.undo()
    assert snapshot(root) == before


def test_teach_adds_a_copy_once_and_undo_removes_only_the_copy(folder, tmp_path):
    outside = pictures(tmp_path / "dropped", "ghost", 1, "outside")[0]
    data = outside.read_bytes()
    before = snapshot(folder)
    j = Journal(folder)
    a = j.teach(outside, "ghost")
    copy = Path(a.destination)
    assert copy.parent == (folder / "ghost").resolve() and copy.read_bytes() == data
    assert copy.stat().st_mtime_ns == outside.stat().st_mtime_ns
    with pytest.raises(actions.AlreadyThere):
        j.teach(outside, "ghost")
    j.undo()
    assert snapshot(folder) == before and outside.read_bytes() == data


def test_teach_into_a_new_class_makes_it_and_undo_takes_it_away(folder, tmp_path):
    outside = pictures(tmp_path / "dropped", "slime", 1, "new")[0]
    before = snapshot(folder)
    j = Journal(folder)
    j.teach(outside, "blob")
    assert [p.name for p in (folder / "blob").iterdir()] == [outside.name]
    j.undo()
    assert snapshot(folder) == before


def test_teach_keeps_the_only_copy_when_the_original_is_gone(folder, tmp_path):
    outside = pictures(tmp_path / "dropped", "ghost", 1, "gone")[0]
    data = outside.read_bytes()
    j = Journal(folder)
    a = j.teach(outside, "ghost")
    outside.unlink()
    result = j.undo()
    assert not Path(a.destination).exists()
    kept = [p for p in (j.store / "kept").iterdir()]
    assert [p.read_bytes() for p in kept] == [data] and "kept" in result.words[-1]


def test_undo_refuses_when_the_file_was_changed_since(folder):
    j = Journal(folder)
    a = j.move_to_class(folder / "ghost" / "ghost_0.png", "slime")
    Path(a.destination).write_bytes(b"edited since")
    with pytest.raises(actions.CannotUndo, match="changed since"):
        j.undo()
    assert Path(a.destination).read_bytes() == b"edited since" and not (folder / "ghost" / "ghost_0.png").exists()


def test_the_journal_survives_a_restart(folder):
    before = snapshot(folder)
    Journal(folder).move_to_class(folder / "slime" / "slime_0.png", "ghost")
    Journal(folder).set_aside(folder / "slime" / "slime_1.png")
    again = Journal(folder)
    assert [a.kind for a in again.history()] == ["move", "set_aside"]
    again.undo()
    Journal(folder).undo()
    assert snapshot(folder) == before and not Journal(folder).can_undo


def test_a_batch_is_undone_in_one_step(folder):
    before = snapshot(folder)
    j = Journal(folder)
    events = []
    done = run_to_end(j.batch_steps([Request("move", str(folder / "ghost" / "ghost_0.png"), "slime"),
                                     Request("set_aside", str(folder / "ghost" / "ghost_1.png"))]), events.append)
    assert [a.kind for a in done] == ["move", "set_aside"] and len({a.group for a in done}) == 1
    assert [(e.done, e.total) for e in events if isinstance(e, Progress)] == [(1, 2), (2, 2)]
    assert len(j.undo().undone) == 2
    assert snapshot(folder) == before


@pytest.mark.parametrize("name, words", [
    ("../escape", "cannot hold '/'"), ("a/b", "cannot hold '/'"), ("..", "not a name"), (".hidden", "cannot start"),
    ("red\x1b[31m", "control characters"), ("", "needs a name"), (" spaced", "space"), ("con", "Windows"),
    ("what?", "cannot hold '?'"), ("x" * 101, "at most 100"), ("Thumbs.db", "operating system"),
])
def test_odd_class_names_are_refused_in_plain_words(folder, name, words):
    before = snapshot(folder)
    j = Journal(folder)
    with pytest.raises(actions.BadName, match=words.replace("?", r"\?")) as caught:
        j.create_class(name)
    assert isinstance(caught.value, UserError) and "Choose another name" in str(caught.value)
    with pytest.raises(actions.BadName):
        j.move_to_class(folder / "ghost" / "ghost_0.png", name)
    assert snapshot(folder) == before and not j.can_undo


def test_a_class_called_train_beside_the_others_is_refused(folder):
    with pytest.raises(actions.BadName, match="split"):
        Journal(folder).create_class("train")


def test_paths_outside_the_training_folder_are_refused(folder, tmp_path):
    outside = pictures(tmp_path / "elsewhere", "ghost", 1, "out")[0]
    link = folder / "ghost" / "link.png"
    link.symlink_to(outside)
    before = snapshot(folder)
    j = Journal(folder)
    for bad in (outside, folder / "ghost" / ".." / ".." / "elsewhere" / outside.name):
        with pytest.raises(actions.UnsafePath, match="not inside the training folder"):
            j.set_aside(bad)
        with pytest.raises(actions.UnsafePath):
            j.move_to_class(bad, "slime")
    with pytest.raises(actions.UnsafePath, match="link"):
        j.set_aside(link)
    with pytest.raises(actions.ActionError, match="already in the training folder"):
        j.teach(folder / "ghost" / "ghost_0.png", "slime")
    assert snapshot(folder) == before and outside.is_file() and not j.can_undo
    stray = folder / "stray.png"  # beside the class folders, not in one
    stray.write_bytes(b"x")
    with pytest.raises(actions.UnsafePath, match="class folder"):
        j.set_aside(stray)
    assert stray.read_bytes() == b"x"


def test_the_class_table_follows_without_a_rescan(folder, tmp_path):
    ds = dataset.scan(folder, val_split=0.0)
    j = Journal(folder)
    changes = [j.move_to_class(folder / "ghost" / "ghost_0.png", "slime"), j.set_aside(folder / "ghost" / "ghost_1.png"),
               j.teach(pictures(tmp_path / "in", "slime", 1, "t")[0], "blob")]
    followed = actions.follow(ds, changes)
    assert followed.counts() == dataset.scan(folder, val_split=0.0).counts() == {"blob": 1, "ghost": 1, "slime": 4}
    back = actions.follow(followed, j.undo().changes)  # the teach undone (and its new class), the others stay
    assert back.counts() == dataset.scan(folder, val_split=0.0).counts() == {"ghost": 1, "slime": 4}
