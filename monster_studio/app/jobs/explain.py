"""Why the model said what it said (a heatmap over a picture, for any of its classes), and the
small previews the result views show: both made on the runner's thread, never on the window's."""
from __future__ import annotations

from dataclasses import dataclass

from monster_studio.app import model_keys
from monster_studio.app.jobs import doing
from monster_studio.app.pictures import qimage, thumbnail
from monster_studio.core.errors import UserError
from monster_studio.core.events import Phase

VIEW_SIDE = 384  # a heatmap is made at most this big: a card shows 196 px, the viewer twice that


@dataclass(frozen=True)
class HeatmapPicture:
    path: str
    class_index: int
    label: str
    probability: float
    image: object  # QImage: the picture with the heat laid over it
    model_key: str = ""


@dataclass(frozen=True)
class Preview:
    path: str
    image: object  # QImage, or None for a picture that cannot be read


@doing("working out why")
def heatmap(ctx, path: str, which: int | str | None = None, key: str | None = None):
    """A HeatmapPicture of `path` for one class (`which`: its index or its name; None: the class it
    was called) with the model `key` (default: the one that classifies)."""
    from monster_studio.core import heatmap as heatmaps

    key = key or ctx.shelf.active
    model = ctx.shelf.get(key) if key else None
    if model is None or model_keys.is_detector(key):
        raise UserError("A heatmap needs a classifier: choose one in the Model list, then ask again.")
    class_index = model.classes.index(which) if isinstance(which, str) and which in model.classes else which
    if isinstance(class_index, str):
        raise UserError(f"The model knows no class called {which!r}.")
    yield Phase("explain", "Working out what led to the answer")
    hm = yield from heatmaps.explain(model, path, class_index, ctx.cancel, max_side=VIEW_SIDE)
    if hm is not None:
        yield HeatmapPicture(path, hm.class_index, hm.label, hm.probability, qimage(heatmaps.overlay(hm)), key)


@doing("drawing the previews")
def previews(ctx, paths: list[str], size: int = 96):
    for path in paths:
        ctx.check()
        yield Preview(path, thumbnail(path, size))
