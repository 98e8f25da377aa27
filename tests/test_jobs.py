"""The app's jobs are plain generator functions: run here without any thread, by iterating them
with a context (cancel flag + shelf), exactly as the runner does on its own thread."""
from __future__ import annotations

import pytest

from monster_studio.app import model_keys
from monster_studio.app.jobs import classify, folder, models, train
from monster_studio.app.jobs import weights as weights_jobs
from monster_studio.app.results import Answer, ClassifyDone, ModelReady, SampleWritten, Saved, Thumbnails, TrainSummary
from monster_studio.app.runner import JobContext
from monster_studio.app.shelf import Shelf
from monster_studio.core.errors import UserError
from monster_studio.core.events import Cancel, Cancelled, ClassTable, EpochEnd, Phase, Progress


def context() -> JobContext:
    return JobContext(Cancel(), Shelf())


def of(items, kind):
    return [i for i in items if isinstance(i, kind)]


def test_scan_gives_the_class_table_then_examples(qapp, sample_dir):
    items = list(folder.scan(context(), str(sample_dir), 0.2, 0))
    assert isinstance(items[0], Phase) and of(items, Progress)[-1].done == 120
    (table,) = of(items, ClassTable)
    assert table.classes == ["cyclops", "ghost", "mummy", "slime", "vampire"] and table.n_val == 25
    strips = of(items, Thumbnails)
    assert [t.class_name for t in strips] == table.classes
    assert all(len(t.images) == folder.THUMBS_PER_CLASS and not t.images[0].isNull() for t in strips)
    assert items.index(table) < items.index(strips[0])  # counts first, pictures after


def test_train_then_use_classify_and_save(qapp, sample_dir, tmp_path):
    ctx = context()
    items = list(train.train(ctx, str(sample_dir), {"epochs": 4, "not a setting": 1}))
    (summary,) = of(items, TrainSummary)
    assert summary.epochs_run == len(of(items, EpochEnd)) and summary.info.key == model_keys.TRAINED
    assert summary.info.classes == ["cyclops", "ghost", "mummy", "slime", "vampire"]
    assert ctx.shelf.get(model_keys.TRAINED) is not None and ctx.shelf.active is None  # kept, not yet chosen
    assert not of(items, ModelReady)

    (ready,) = of(list(models.use(ctx, model_keys.TRAINED)), ModelReady)
    assert ready.info == summary.info and ctx.shelf.active == model_keys.TRAINED
    pictures = [str(sample_dir / "ghost" / "ghost_000.png"), str(tmp_path / "gone.png")]
    answers = list(classify.classify(ctx, pictures, 2, True))
    got = {a.path: a for a in of(answers, Answer)}
    ghost, gone = got[pictures[0]], got[pictures[1]]
    assert len(got) == 2 and ghost.result.top[0][0] == "ghost" and len(ghost.result.top) == 2
    assert ghost.thumb is not None and gone.result.reason == "does not exist"  # the missing file, with its reason
    (done,) = of(answers, ClassifyDone)
    assert (done.classified, done.skipped) == (1, 1)

    (saved,) = of(list(models.save(ctx, str(tmp_path / "monsters"))), Saved)
    assert saved.path.endswith("monsters.monster") and (tmp_path / "monsters.monster").is_file()
    (opened,) = of(list(models.use(ctx, model_keys.file_key(saved.path))), ModelReady)
    assert opened.info.kind == "file" and opened.info.classes == summary.info.classes


def test_classify_without_a_model_says_so(qapp):
    with pytest.raises(classify.NoModel, match="No model is ready"):
        list(classify.classify(context(), ["x.png"]))
    with pytest.raises(UserError, match="No model has been trained"):
        list(models.use(context(), model_keys.TRAINED))


def test_sample_and_train_in_one_job(qapp, tmp_path):
    items = list(train.sample_and_train(context(), str(tmp_path / "monsters"), 6, {"epochs": 2}))
    (written,) = of(items, SampleWritten)
    assert len(written.try_files) == 10 and (tmp_path / "monsters-to-try").is_dir()
    kinds = [type(i) for i in items]
    assert kinds.index(SampleWritten) < kinds.index(ClassTable) < kinds.index(TrainSummary)
    assert of(items, Thumbnails)  # the class table gets its examples, as for a folder the user chose


def test_a_cancelled_job_stops_at_its_next_check(qapp, sample_dir):
    ctx = context()
    steps = folder.scan(ctx, str(sample_dir))
    next(steps)
    ctx.cancel.set()
    with pytest.raises(Cancelled):
        list(steps)


def test_importing_a_wrong_file_is_refused_in_words(qapp, tmp_path):
    bad = tmp_path / "holiday.pth"
    bad.write_bytes(b"not weights")
    with pytest.raises(UserError, match="cannot be read safely|not a PyTorch weights file"):
        list(weights_jobs.import_weights(context(), "resnet18", str(bad)))


def test_the_first_launch_makes_the_engine_ahead_only_where_it_will_run(tmp_path, monkeypatch):
    """The start job makes the Train page's starting model's engine when this computer has no
    accelerator, the engine is not made yet and nothing turned it off; never twice. A bundled one
    is written here (no torch); when that cannot be, a child at a lower priority exports it."""
    from monster_studio.app.jobs import start
    from monster_studio.core import engine, engine_direct, engine_process
    from monster_studio.core.catalogue import DEFAULT_BACKBONE, backbone

    started = []
    monkeypatch.setattr(engine_process, "start_ahead", lambda spec: started.append(spec.id) or True)
    monkeypatch.setenv("MONSTER_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MONSTER_STUDIO_PREPARE_AHEAD", "1")
    assert start.prepare_ahead("efficientnet_lite1", ["auto", "cpu"]) and started == []
    made = engine.cached(backbone("efficientnet_lite1"))
    assert made is not None and made.sidecar["made_by"] == engine_direct.HOW
    monkeypatch.setattr(engine_direct, "CHECKS_DIR", tmp_path / "no records")  # then it is exported
    assert start.prepare_ahead("efficientnet_lite2", ["auto", "cpu"]) and started == ["efficientnet_lite2"]
    assert start.prepare_ahead("no such model", ["auto", "cpu"]) and started[-1] == DEFAULT_BACKBONE
    assert not start.prepare_ahead(DEFAULT_BACKBONE, ["auto", "cpu", "cuda"])  # PyTorch runs it there
    monkeypatch.setenv("MONSTER_STUDIO_PREPARE_AHEAD", "0")
    assert not start.prepare_ahead(DEFAULT_BACKBONE, ["auto", "cpu"])
    monkeypatch.setenv("MONSTER_STUDIO_PREPARE_AHEAD", "1")
    base = engine._base(backbone(DEFAULT_BACKBONE))
    base.parent.mkdir(parents=True, exist_ok=True)
    engine._part(base, ".json").write_text("{}")  # made already (what it holds is for cached() to judge)
    assert not start.prepare_ahead(DEFAULT_BACKBONE, ["auto", "cpu"])
    assert len(started) == 2
