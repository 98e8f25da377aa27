"""Classifying pictures with the chosen model, a classifier or a detector, in one loop: an answer
per picture as batches finish, each with a preview when asked for."""
from __future__ import annotations

import os
import tempfile
import time

from monster_studio.app import model_keys
from monster_studio.app.jobs import doing
from monster_studio.app.pictures import CARD_THUMB_PX, boxed, thumbnail
from monster_studio.app.results import Answer, ClassifyDone
from monster_studio.core.errors import UserError
from monster_studio.core.events import Phase, Progress, Skipped
from monster_studio.core.wording import plural


class NoModel(UserError):
    kind = "nomodel"


@doing("classifying")
def classify(ctx, paths: list, top_k: int = 3, thumbnails: bool = True, sure_share: float | None = None):
    from monster_studio.core import dataset, predict  # detect (torch) only for a detector

    key = ctx.shelf.active
    model = ctx.shelf.get(key)
    if model is None:
        raise NoModel("No model is ready to classify with. Choose one in the Model list above.")
    detecting = model_keys.is_detector(key)
    t0 = time.monotonic()
    files, missing = dataset.expand(paths)
    listed = [str(f) for f in files] + [m.path for m in missing]
    total = len(listed)
    yield Phase("classify", f"{'Looking for things in' if detecting else 'Classifying'} {plural(total, 'picture')}")
    if detecting:
        from monster_studio.core import detect

        kept_id, net = ctx.shelf.detector_net
        detector_id = model_keys.value(key)
        answers = detect.detect(detector_id, listed, detect.MIN_SCORE, ctx.cancel,
                                net if kept_id == detector_id else None)
    else:
        answers = predict.classify(model, listed, top_k, ctx.cancel, sure_share=sure_share)
    done = ok = bad = things = 0
    for event in answers:
        if isinstance(event, (Phase, Progress)):
            yield event
            continue
        done += 1
        thumb = None
        if isinstance(event, Skipped):
            bad += 1
        else:
            ok += 1
            if detecting:
                things += len(event.found)
            if thumbnails:
                thumb = thumbnail(event.path, CARD_THUMB_PX)
                if thumb is not None and detecting:
                    thumb = boxed(thumb, event.size, event.found)
        yield Answer(event, thumb, key)
        yield Progress("classify", done, total, "pictures")
    ctx.check()
    yield ClassifyDone(ok, bad, time.monotonic() - t0, detecting, things)


@doing("classifying")
def classify_image(ctx, image, top_k: int = 3, sure_share: float | None = None):
    """A picture pasted from the clipboard (a QImage): written to a PNG file, then classified like one."""
    from monster_studio.core import paths

    folder = paths.cache_dir() / "pasted"
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=time.strftime("pasted-%H%M%S-"), suffix=".png", dir=folder)
    os.close(fd)
    if not image.save(name, "PNG"):
        raise UserError("The pasted picture could not be stored for classifying.")
    yield from classify(ctx, [name], top_k, True, sure_share)
