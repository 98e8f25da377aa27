"""Training on a folder, and the one-click sample run (draw the monsters, read them, train)."""
from __future__ import annotations

from pathlib import Path

from monster_studio.app import model_keys
from monster_studio.app.jobs import doing
from monster_studio.app.jobs.folder import scan
from monster_studio.app.jobs.models import info_of
from monster_studio.app.results import ModelReady, SampleWritten, TrainSummary
from monster_studio.core.events import ClassTable, EpochEnd, Finished, Phase


def settings_from(settings: dict):
    from monster_studio.core.settings import TrainSettings

    known = TrainSettings.__dataclass_fields__
    return TrainSettings(**{k: v for k, v in settings.items() if k in known})


@doing("training")
def train(ctx, folder: str, settings: dict):
    from monster_studio.core import catalogue, training

    s = settings_from(settings)
    epochs_run = 0
    for event in training.fit(folder, s, ctx.cancel):
        if isinstance(event, EpochEnd):
            if event.stage == "head":
                epochs_run = event.epoch
            yield event
        elif isinstance(event, Finished):
            ctx.shelf.put(model_keys.TRAINED, event.model, activate=False)
            info = info_of(model_keys.TRAINED, event.model)
            metrics = event.metrics
            gain = None
            if s.finetune and metrics.get("head_val_accuracy") is not None and metrics.get("val_accuracy") is not None:
                gain = metrics["val_accuracy"] - metrics["head_val_accuracy"]
            yield TrainSummary(metrics, event.seconds, event.model.name, list(event.skipped),
                               catalogue.backbone(s.backbone).display_name, s.to_dict(), epochs_run, info,
                               metrics.get("finetune_seconds") or 0.0, gain, str(folder), event.evaluation)
            if ctx.shelf.active == model_keys.TRAINED:
                yield ModelReady(info)
        elif isinstance(event, ClassTable):
            yield event
            yield Phase("scan", f"{event.n_train} pictures to learn from, {event.n_val} to check on")
        else:
            yield event


@doing("writing the sample pictures")
def sample_and_train(ctx, folder: str, per_class: int, settings: dict):
    """The built-in sample: `folder` to train on, and a few unseen monsters beside it to try."""
    from monster_studio.core import dataset, sample
    from monster_studio.core.errors import UserError, os_error_words

    yield Phase("sample", "Drawing the sample monsters")
    root = Path(folder).expanduser()
    try_root = root.parent / (root.name + "-to-try")
    try:
        sample.write_sample(root, per_class=per_class, seed=0)
        sample.write_sample(try_root, per_class=2, seed=1)
    except OSError as exc:
        raise UserError(f"Could not write the sample pictures to {root}: {os_error_words(exc)}. "
                        "Choose another folder.") from exc
    ctx.check()
    try_files = sorted(str(f) for f in dataset.expand([try_root])[0])
    yield SampleWritten(str(root), str(try_root), try_files)
    s = settings_from(settings)
    yield from scan(ctx, str(root), s.val_split, s.seed)  # the class table and its examples, as for any folder
    yield from train(ctx, str(root), settings)
