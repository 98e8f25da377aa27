"""Check my pictures, for the Train page: the doctor on the chosen folder (with the training's
split and seed, so a leak is one of that training's split), then a preview of each picture it
lists, drawn here on the runner's thread. The check reads; it changes no file."""
from __future__ import annotations

from dataclasses import dataclass, field

from monster_studio.app.jobs import doing
from monster_studio.app.pictures import thumbnail
from monster_studio.core.events import Phase, Progress

THUMB_PX = 72
SHOWN = 60  # rows per list the view draws; the rest are counted


@dataclass(frozen=True)
class Checked:
    """The doctor's report on a folder, and previews (path -> QImage) of the pictures it lists."""

    report: object  # core.doctor.CheckReport
    thumbs: dict = field(default_factory=dict)
    backbone: str = ""
    val_split: float = 0.2
    seed: int = 0


def listed(report, shown: int = SHOWN) -> list[str]:
    """The pictures a view of the report shows, each once, in the order of its lists."""
    paths: list[str] = [i.path for i in report.label_issues[:shown]]
    for k in report.leaks[:shown]:
        paths += k.paths[:3]
    for d in report.duplicates[:shown]:
        paths += d.paths[:3]
    paths += [o.path for o in report.outliers[:shown]]
    return list(dict.fromkeys(paths))


@doing("checking the pictures")
def check(ctx, folder: str, backbone: str, val_split: float = 0.2, seed: int = 0, device: str = "auto"):
    from monster_studio.core import doctor

    report = yield from doctor.check_steps(folder, backbone, val_split=val_split, seed=seed, device=device,
                                           cancel=ctx.cancel)
    paths = listed(report)
    yield Phase("thumbs", "Drawing the pictures the check found")
    thumbs = {}
    for i, path in enumerate(paths, 1):
        ctx.check()
        image = thumbnail(path, THUMB_PX)
        if image is not None:
            thumbs[path] = image
        yield Progress("thumbs", i, len(paths), "pictures")
    yield Checked(report, thumbs, backbone, val_split, seed)
