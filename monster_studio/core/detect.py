"""Pretrained object detectors used directly, with no training: COCO's 80 kinds of things
(people, animals, vehicles, ...) found and boxed in a picture.

Their weights come through torchvision's weights API and the torch hub cache like every
non-bundled backbone (see weights), so `import-weights` installs them offline the same way.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from monster_studio.core import images, weights
from monster_studio.core.catalogue import Detector, detector
from monster_studio.core.dataset import expand
from monster_studio.core.events import Cancel, Cancelled, Skipped

DETECT_SIDE = 640  # pictures are decoded at about this size; the detectors resize on their own
MIN_SCORE = 0.5  # things found with less confidence are left out


def categories(spec: Detector) -> list[str]:
    """COCO's labels, as the detector's head numbers them (torchvision's own list)."""
    from torchvision.models import get_weight

    return list(get_weight(spec.tv_weights).meta["categories"])


@dataclass
class Found:
    label: str
    score: float
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the picture's own (upright) pixels


@dataclass
class Detections:
    path: str
    size: tuple[int, int]  # the picture's width and height
    found: list[Found]  # best first
    model: str = ""  # which detector answered, in words

    def to_dict(self) -> dict:
        return {"path": self.path, "size": list(self.size),
                "found": [{"label": f.label, "score": round(f.score, 4), "box": [round(v, 1) for v in f.box]}
                          for f in self.found]}


def load(detector_id: str, cancel: Cancel | None = None) -> Iterator:
    """Yields download events if needed; returns the detector in eval mode."""
    net = yield from weights.load_torchvision(detector(detector_id), cancel)
    return net.eval()


def detect(detector_id: str, paths: Iterable[str | os.PathLike], min_score: float = MIN_SCORE,
           cancel: Cancel | None = None, net: torch.nn.Module | None = None) -> Iterator:
    """Yields Detections or Skipped per file (and download events first, if any). Pass the `net`
    that `load` returned to reuse it across calls."""
    spec = detector(detector_id)
    files, missing = expand(paths)
    yield from missing
    try:
        if net is None:
            net = yield from load(detector_id, cancel)
        labels = categories(spec)
        with torch.inference_mode():
            for f in files:
                if cancel is not None:
                    cancel.check()
                try:
                    img = images.load_rgb(f, min_side=DETECT_SIDE)
                except images.BadPicture as exc:
                    yield Skipped(str(f), str(exc))
                    continue
                x = torch.from_numpy(images.to_chw(img)).float().div_(255.0)
                out = net([x])[0]
                # Boxes come in decoded pixels; draft mode may have shrunk the picture, so scale
                # back to the picture's real size.
                full = images.upright_size(f) or img.size
                sx, sy = full[0] / img.size[0], full[1] / img.size[1]
                found = [Found(labels[int(lab)], float(score), (b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy))
                         for b, lab, score in zip(out["boxes"].tolist(), out["labels"], out["scores"])
                         if float(score) >= min_score and np.isfinite(float(score))]
                found.sort(key=lambda t: -t.score)
                yield Detections(str(f), full, found, spec.display_name)
    except Cancelled:
        return
