"""The feature store: read back in bulk, keyed by the file as it was decoded, safe with two
processes and when killed mid-write, healing damaged entries and files by itself, and the scan
that opens no file it has already checked (issue 7, item 13)."""
from __future__ import annotations

import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from monster_studio.core import catalogue, dataset, features, images, sample, store, training, weights
from monster_studio.core.events import Finished, Progress, run_to_end
from monster_studio.core.settings import TrainSettings

LITE0 = catalogue.backbone(catalogue.DEFAULT_BACKBONE)
CPU = torch.device("cpu")


def pictures(folder: Path, n: int, seed: str = "store") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    return [sample.write_picture(sample.CLASSES[i % 5], folder / f"p{i}.png", rng, 96) for i in range(n)]


def gather(items, cache=None):
    events = []
    cache = cache or features.FeatureCache(LITE0)
    feats, bad, _ = run_to_end(features.gather(lambda: weights.load_pretrained(LITE0), LITE0, items, cache, CPU),
                               events.append)
    first = next(e for e in events if isinstance(e, Progress))
    return feats, bad, first.done  # how many came from the store


def rows(n: int, width: int = 4, start: int = 0):
    return [((b"/p/%d" % i, 0, 0), (100 + i, 7), np.full(width, i, np.float32)) for i in range(start, start + n)]


# ---------------------------------------------------------------- the store itself

def test_entries_come_back_in_bulk_only_for_the_same_file(tmp_path):
    s = store.FeatureStore(tmp_path / "f.sqlite3", 4)
    assert s.put_many(rows(1200) + [((b"/p/bad", 0, 0), (1, 1), "damaged: cannot be decoded")])
    asked = [(k, ident) for k, ident, _ in rows(1200)]
    got = s.get_many(asked)
    assert len(got) == 1200 and all(np.array_equal(got[k], np.full(4, i, np.float32)) for i, (k, _) in enumerate(asked))
    assert s.get_many([((b"/p/bad", 0, 0), (1, 1))]) == {(b"/p/bad", 0, 0): "damaged: cannot be decoded"}
    # Another size or time: another file, whatever its name.
    assert s.get_many([((b"/p/3", 0, 0), (103, 8)), ((b"/p/4", 0, 0), (999, 7))]) == {}
    # Another view or seed of the same file is another entry.
    assert s.get_many([((b"/p/3", 1, 0), (103, 7))]) == {}


def test_entries_come_back_into_the_rows_asked_for(tmp_path):
    """get_into: row i of the array for keys[i] (keys unique), in any order asked, nothing for another version of a
    file, the reasons of bad pictures by row, and invalid numbers in the store left for recomputing."""
    s = store.FeatureStore(tmp_path / "f.sqlite3", 4)
    assert s.put_many(rows(1200) + [((b"/p/bad", 0, 0), (1, 1), "damaged: cannot be decoded")])
    s.db.write("UPDATE entries SET features = ? WHERE path = ?", [(np.full(4, np.nan, "<f4").tobytes(), b"/p/7")])
    asked = [(k, ident) for k, ident, _ in reversed(rows(1200)) if k != (b"/p/3", 0, 0)] + [
        ((b"/p/bad", 0, 0), (1, 1)), ((b"/p/3", 0, 0), (103, 8))]  # /p/3 changed since (another time)
    out = np.full((len(asked), 4), -1.0, np.float32)
    filled, bad = s.get_into(asked, out)
    kept = [i for i in reversed(range(1200)) if i != 3]
    assert filled.tolist() == [i != 7 for i in kept] + [False, False]
    assert np.array_equal(out[:1199][filled[:1199], 0], np.array([i for i in kept if i != 7], np.float32))
    assert bad == {1199: "damaged: cannot be decoded"} and (out[1200] == -1).all()


@pytest.mark.parametrize("path", ["/a/b.png", "/a//b.png", "//a/b", "/a/./b", "/a/../b", "/a/b/", "/a/b/.",
                                  "/a/b/..", "/", "/.hidden/x", "/a/..b/c", "/a/b..", "rel/x.png", "./x",
                                  "/a/.../b", "/a/b\udcff.png", "/a/b/../../../.."])
def test_a_path_key_is_the_absolute_normal_path(path):
    """The store's key for a path is its absolute, normalized form as bytes, whether it takes
    the quick way (a scan's own plain absolute paths) or not."""
    assert store.path_key(path) == os.fsencode(os.path.abspath(path)) == store.path_key(Path(path))


def test_the_cache_fills_the_rows_block_by_block(tmp_path):
    """FeatureCache.get_into asks the store a block at a time: rows past the first block, a file
    that cannot be looked at in the middle of a block, augmented views beside centre crops in one
    block, and a view the store does not hold each come back in their own row, or not at all."""
    cache = features.FeatureCache(LITE0, seed=5, root=tmp_path)
    files = [f"/nowhere/p{i}.png" for i in range(store.CHUNK + 37)]
    idents = {f: (i + 1, 7) for i, f in enumerate(files)}
    cache.put_many([((f, v), idents[f], np.full(1280, 10 * i + v, np.float32)) for i, f in enumerate(files) for v in (0, 2)])
    items = ([(f, 0) for f in files[:300]] + [("/nowhere/never-scanned.png", 0)] + [(f, 0) for f in files[300:]]
             + [(f, 2) for f in files[::7]] + [(files[1], 1)])
    out = np.full((len(items), 1280), -1, np.float32)
    filled, bad = cache.get_into(items, out, idents)
    want = [10 * files.index(f) + v for f, v in items if f in idents and v != 1]
    assert filled.tolist() == [f in idents and v != 1 for f, v in items]
    assert out[filled, 0].tolist() == want and (out[~filled] == -1).all()
    assert list(bad) == [300] and bad[300].startswith("cannot be read")


def test_commits_are_durable_and_concurrent():
    s = features.FeatureCache(LITE0).store
    conn = s.db._open()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == b"wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: fsynced before COMMIT returns


def test_entries_with_invalid_numbers_are_never_kept(tmp_path):
    s = store.FeatureStore(tmp_path / "f.sqlite3", 4)
    s.put_many([((b"/nan", 0, 0), (1, 1), np.array([1, np.nan, 0, 0], np.float32)),
                ((b"/short", 0, 0), (1, 1), np.zeros(3, np.float32))])
    assert s.count() == 0


WRITER = """
import sys, time, numpy as np
from monster_studio.core import store
s = store.FeatureStore(sys.argv[1], 1280)
name, n = sys.argv[2].encode(), int(sys.argv[3])
for i in range(0, n, 8):
    if not s.put_many([((b"/%s/%d" % (name, j), 0, 0), (j, j), np.full(1280, j, np.float32))
                       for j in range(i, min(n, i + 8))]):
        sys.exit(f"batch {i} was not kept")
    print(i, flush=True)
"""


def test_two_processes_write_at_once(tmp_path):
    file = tmp_path / "f.sqlite3"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(file), name, "400"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for name in ("a", "b")]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    s = store.FeatureStore(file, 1280)
    for name in (b"a", b"b"):
        got = s.get_many([((b"/%s/%d" % (name, j), 0, 0), (j, j)) for j in range(400)])
        assert len(got) == 400 and all(v[0] == int(k[0].split(b"/")[-1]) for k, v in got.items())


def test_killed_mid_write_keeps_every_committed_entry(tmp_path):
    file = tmp_path / "f.sqlite3"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(file), "k", "1000000"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    done = -1
    for line in proc.stdout:
        done = int(line)
        if done >= 160:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    s = store.FeatureStore(file, 1280)
    assert s.db._open().execute("PRAGMA integrity_check").fetchone()[0] == b"ok"
    n = s.count()
    assert n >= done + 8  # every batch it reported was already on disk
    got = s.get_many([((b"/k/%d" % j, 0, 0), (j, j)) for j in range(n)])
    assert len(got) == n and all(np.isfinite(v).all() for v in got.values())
    assert s.put_many(rows(3))  # and it takes new entries


# ---------------------------------------------------------------- healing (issue 7, item 13)

def _entry(cache: features.FeatureCache, item, **columns) -> None:
    """Overwrite an entry's stored columns directly, as a damaged disk or an old bug would."""
    conn = sqlite3.connect(cache.store.file)
    sets = ", ".join(f"{k} = ?" for k in columns)
    conn.execute(f"UPDATE entries SET {sets} WHERE path = ? AND view = ?",
                 (*columns.values(), store.path_key(item[0]), item[1]))
    conn.commit()
    conn.close()


def test_damaged_entries_are_looked_at_again(tmp_path):
    items = [(p, 0) for p in pictures(tmp_path / "pics", 6)]
    first, _, _ = gather(items)
    cache = features.FeatureCache(LITE0)
    _entry(cache, items[0], features=b"")  # 0 bytes
    _entry(cache, items[1], features=np.zeros(7, np.float32).tobytes())  # wrong shape
    _entry(cache, items[2], features=np.full(1280, np.nan, np.float32).tobytes())  # invalid numbers
    _entry(cache, items[3], features=b"\x01\x02\x03")  # not numbers at all
    _entry(cache, items[4], features=None, bad=b"\xff\xfe not text")  # a reason that cannot be read
    feats, bad, from_store = gather(items)
    assert from_store == 1 and not bad  # five looked at again, the sound one kept
    for it in items:
        assert np.isfinite(feats[it]).all() and np.abs(feats[it] - first[it]).max() <= 1e-5
    assert gather(items)[2] == 6  # and kept again, healed


def test_a_damaged_entry_no_longer_stops_training(tmp_path):
    folder = tmp_path / "two"
    for cls in ("ghost", "slime"):
        pictures(folder / cls, 4, cls)
    assert isinstance(list(training.fit(folder, TrainSettings(epochs=2)))[-1], Finished)
    cache = features.FeatureCache(LITE0)
    some = next((folder / "ghost").iterdir())
    _entry(cache, (some, 0), features=b"")
    events = list(training.fit(folder, TrainSettings(epochs=2)))
    assert isinstance(events[-1], Finished) and not events[-1].skipped


def test_a_picture_replaced_while_decoded_is_not_kept_under_the_new_files_name(tmp_path, monkeypatch):
    paths = pictures(tmp_path / "pics", 3)
    target = paths[1]
    real = features.decode

    def decode(item, spec, seed):
        value = real(item, spec, seed)
        if item[0] == target:  # the user saves another picture under this name meanwhile
            sample.write_picture("ghost", target, random.Random("other"), 130)
        return value

    monkeypatch.setattr(features, "decode", decode)
    items = [(p, 0) for p in paths]
    feats, _, _ = gather(items)
    assert len(feats) == 3
    cache = features.FeatureCache(LITE0)
    assert cache.get((target, 0)) is None  # the new file is looked at afresh next time
    assert cache.get((paths[0], 0)) is not None


def test_a_damaged_database_file_is_started_afresh(tmp_path, caplog):
    items = [(p, 0) for p in pictures(tmp_path / "pics", 3)]
    gather(items)
    cache = features.FeatureCache(LITE0)
    cache.store.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{cache.store.file}{suffix}").unlink(missing_ok=True)
    cache.store.file.write_bytes(b"this is not a database " * 300)
    with caplog.at_level(logging.WARNING, logger="monster_studio.core.store"):
        feats, _, from_store = gather(items, features.FeatureCache(LITE0))
    assert len(feats) == 3 and from_store == 0
    assert any("damaged" in r.getMessage() and "afresh" in r.getMessage() for r in caplog.records)
    assert gather(items)[2] == 3


def test_damage_that_cannot_be_repaired_names_the_cache_folder(tmp_path, monkeypatch):
    file = tmp_path / "cache" / "features" / "f.sqlite3"
    file.parent.mkdir(parents=True)
    file.write_bytes(b"garbage " * 1000)
    real_unlink = Path.unlink

    def unlink(self, missing_ok=False):
        if self.name.startswith("f.sqlite3"):
            raise PermissionError(13, "Permission denied", str(self))
        return real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    with pytest.raises(store.CacheError) as err:
        store.FeatureStore(file, 4).get_many([((b"/x", 0, 0), (1, 1))])
    text = err.value.terminal_text()
    assert str(file.parent) in text and "Clear cached features" in text and "delete the folder" in text
    assert err.value.details["cache"] == str(file.parent)


def test_a_cache_that_cannot_be_written_costs_speed_not_the_result(tmp_path, monkeypatch):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("MONSTER_STUDIO_CACHE", str(blocked))
    s = store.FeatureStore(blocked / "features" / "f.sqlite3", 4)
    assert s.get_many([((b"/x", 0, 0), (1, 1))]) == {} and not s.put_many(rows(2)) and not s.writable
    ds = dataset.scan(sample.write_sample(tmp_path / "s", per_class=2, size=64))
    assert len(ds.train) + len(ds.val) == 10


def test_clear_cache_removes_features_and_engines(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    (root / "features").mkdir(parents=True)
    (root / "engines").mkdir()
    s = store.FeatureStore(root / "features" / "f.sqlite3", 4)
    s.put_many(rows(50))
    (root / "engines" / "x.onnx").write_bytes(b"\0" * 1000)
    (root / "pasted").mkdir()  # not the cache's to clear
    cleared = store.clear_cache(root)
    assert cleared.bytes_freed >= 1000 and not cleared.left
    assert not (root / "features").exists() and not (root / "engines").exists() and (root / "pasted").exists()
    monkeypatch.setenv("MONSTER_STUDIO_CACHE", str(root))
    assert features.clear_cache().folder == root


# ---------------------------------------------------------------- the scan

def test_the_scan_opens_no_file_it_has_already_checked(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    for cls in ("ghost", "slime"):
        pictures(folder / cls, 5, cls)
    (folder / "ghost" / "letter.png").write_bytes(b"not a picture at all" * 10)
    opened = []
    real = images.probe
    monkeypatch.setattr(images, "probe", lambda p: (opened.append(p), real(p))[1])
    first = dataset.scan(folder)
    assert len(opened) == 11
    opened.clear()
    again = dataset.scan(folder)
    assert opened == []  # a stat each, no header read
    assert [p.path for p in again.train] == [p.path for p in first.train] and again.skipped == first.skipped
    changed = folder / "slime" / "p2.png"
    sample.write_picture("slime", changed, random.Random("new"), 80)
    os.utime(changed, ns=(time.time_ns(), time.time_ns() + 10**9))
    dataset.scan(folder)
    assert opened == [changed]
    opened.clear()
    dataset.scan(folder, remember=False)
    assert len(opened) == 11


def test_a_picture_that_could_not_be_decoded_is_told_by_the_store_not_decoded_again(tmp_path, monkeypatch):
    good = pictures(tmp_path / "pics", 3)
    broken = tmp_path / "pics" / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    items = [(p, 0) for p in good + [broken]]
    feats, bad, from_store = gather(items)
    assert from_store == 0 and len(feats) == 3 and list(bad) == [broken]
    monkeypatch.setattr(features, "decode", lambda *a: pytest.fail("a picture was decoded again"))
    feats, bad2, from_store = gather(items)
    assert from_store == 4 and len(feats) == 3 and bad2 == bad
