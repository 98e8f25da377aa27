"""Reading a folder of pictures: its class table first, then a strip of examples per class."""
from __future__ import annotations

from monster_studio.app.jobs import doing
from monster_studio.app.pictures import CLASS_THUMB_PX, thumbnail
from monster_studio.app.results import Thumbnails
from monster_studio.core.events import Phase

THUMBS_PER_CLASS = 6


@doing("reading the folder")
def scan(ctx, folder: str, val_split: float = 0.2, seed: int = 0):
    from monster_studio.core import dataset

    yield Phase("scan", "Reading the folder")
    ds = yield from dataset.scan_steps(folder, val_split, seed, ctx.cancel)
    yield ds.table()
    yield from examples(ctx, ds)


def examples(ctx, ds):
    for label, name in enumerate(ds.classes):
        thumbs = []
        for p in ds.examples(label, THUMBS_PER_CLASS):
            ctx.check()
            image = thumbnail(str(p), CLASS_THUMB_PX)
            if image is not None:
                thumbs.append(image)
        yield Thumbnails(str(ds.root), name, thumbs)
