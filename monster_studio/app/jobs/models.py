"""Choosing the model that classifies (trained, from a file, ImageNet or a detector), and saving
the trained one. A model's network is built when it is chosen, so the first picture is quick and a
missing weights file shows up at once, not when a picture is dropped."""
from __future__ import annotations

from pathlib import Path

from monster_studio.app import model_keys
from monster_studio.app.jobs import doing
from monster_studio.app.model_keys import ModelInfo
from monster_studio.app.results import ModelReady, Saved
from monster_studio.core.errors import UserError
from monster_studio.core.events import Phase


def info_of(key: str, model) -> ModelInfo:
    """What the window knows of a classifier (a core TrainedModel)."""
    imagenet = model.head is None
    kind = "imagenet" if imagenet else model_keys.kind(key)
    return ModelInfo(key, kind, model.name, [] if imagenet else list(model.classes), len(model.classes),
                     model.spec.display_name, model.source, dict(model.metrics or {}),
                     can_say_unsure=bool(getattr(model, "unsure", None)), created=model.created)


def detector_info(key: str, spec) -> ModelInfo:
    from monster_studio.core import weights

    return ModelInfo(key, "detector", spec.display_name, [], 80, spec.display_name, "", {}, spec.guidance,
                     weights.status_text(spec))


def _mtime(path) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0


@doing("opening the model")
def use(ctx, key: str):
    """Make the model named by `key` the one that classifies (see model_keys)."""
    kind = model_keys.kind(key)
    ctx.shelf.active = None
    if kind == "detector":
        yield from _use_detector(ctx, key)
        return
    if kind == "trained":
        model = ctx.shelf.get(key)
        if model is None:
            raise UserError("No model has been trained in this session yet. Train one, or open a model file.")
    elif kind == "imagenet":
        from monster_studio.core.model import TrainedModel

        model = ctx.shelf.get(key) or TrainedModel.imagenet(model_keys.value(key))
    elif kind == "file":
        model = yield from _open_file(ctx, key)
    else:
        raise UserError(f"There is no model called {key!r}. Choose one in the Model list.")
    # What classifying will use, made ready now (weights fetched with their download's progress; on a
    # CPU the prepared engine, which needs no torch network), so the first picture is answered at once.
    from monster_studio.core import engine
    from monster_studio.core.device import pick

    embed, _, _ = yield from engine.classifier(model, pick("auto"), ctx.cancel)
    embed.close()
    ctx.check()
    ctx.shelf.put(key, model)
    yield ModelReady(info_of(key, model))


def _open_file(ctx, key: str):
    from monster_studio.core import modelfile

    path = model_keys.value(key)
    model = ctx.shelf.get(key)
    if model is None or _mtime(path) != getattr(model, "_loaded_mtime", None):
        yield Phase("load", f"Opening {Path(path).name}")
        model = modelfile.load(path)
        model._loaded_mtime = _mtime(path)
    return model


def _use_detector(ctx, key: str):
    from monster_studio.core import catalogue, detect

    detector_id = model_keys.value(key)
    spec = catalogue.detector(detector_id)
    net = yield from detect.load(detector_id, ctx.cancel)  # once here: a missing file shows when chosen
    ctx.check()
    ctx.shelf.put(key, spec)
    ctx.shelf.detector_net = (detector_id, net)  # kept for every request while it is chosen
    yield ModelReady(detector_info(key, spec))


@doing("saving the model")
def save(ctx, path: str):
    from monster_studio.core import modelfile

    model = ctx.shelf.get(model_keys.TRAINED)
    if model is None:
        raise UserError("There is no trained model to save yet. Train one on the Train page first.")
    yield Phase("save", f"Saving {Path(path).name}")
    written = modelfile.save(model, modelfile.with_suffix(path))
    model.source = str(written)
    yield Saved(str(written))
