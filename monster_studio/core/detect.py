"""Pretrained object detectors used directly, with no training: COCO's 80 kinds of things
(people, animals, vehicles, ...) found and boxed in a picture.

Their weights come through torchvision's weights API and the torch hub cache like every
non-bundled backbone (see weights), so `import-weights` installs them offline the same way.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

import torch

from monster_studio.core import images, weights
from monster_studio.core.events import Cancel, Cancelled, Skipped
from monster_studio.core.predict import expand

DETECT_SIDE = 640  # pictures are decoded at about this size; the detectors resize on their own


@dataclass(frozen=True)
class Detector:
    id: str
    display_name: str
    guidance: str
    tv_weights: str
    bundled = False  # every detector is downloaded (or imported) once

    @cached_property
    def weights(self):
        from torchvision.models import get_weight

        return get_weight(self.tv_weights)

    @property
    def download_mb(self) -> float:
        return float(self.weights.meta["_file_size"])

    @property
    def weights_source(self) -> str:
        return self.weights.url

    @property
    def weights_filename(self) -> str:
        return self.weights.url.rsplit("/", 1)[-1]

    @property
    def categories(self) -> list[str]:
        return list(self.weights.meta["categories"])

    def architecture(self) -> torch.nn.Module:
        """The network as torchvision's loader builds it, with random weights (no download)."""
        from torchvision.models import get_model

        return get_model(self.id, weights=None, weights_backbone=None)


DETECTORS: dict[str, Detector] = {d.id: d for d in [
    Detector("ssdlite320_mobilenet_v3_large", "SSDlite (MobileNet V3)",
             "Small and quick; finds the larger things in a picture.", "SSDLite320_MobileNet_V3_Large_Weights.COCO_V1"),
    Detector("fasterrcnn_mobilenet_v3_large_fpn", "Faster R-CNN (MobileNet V3)",
             "Finds more, and smaller, things; a few times slower.",
             "FasterRCNN_MobileNet_V3_Large_FPN_Weights.COCO_V1"),
]}
DEFAULT_DETECTOR = "ssdlite320_mobilenet_v3_large"


@dataclass
class Found:
    label: str
    score: float
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the picture's own (upright) pixels


@dataclass
class Detections:
    path: str
    size: tuple[int, int]  # the picture's width and height
    found: list[Found]

    def to_dict(self) -> dict:
        return {"path": self.path, "size": list(self.size),
                "found": [{"label": f.label, "score": round(f.score, 4), "box": [round(v, 1) for v in f.box]}
                          for f in self.found]}


def load(detector_id: str, cancel: Cancel | None = None) -> Iterator:
    """Yields download events if needed; returns the detector in eval mode."""
    net = yield from weights.load_torchvision(DETECTORS[detector_id], cancel)
    return net.eval()


def detect(detector_id: str, paths: Iterable[str | os.PathLike], min_score: float = 0.5,
           cancel: Cancel | None = None, net: torch.nn.Module | None = None) -> Iterator:
    """Yields Detections or Skipped per file (and download events first, if any). Pass the `net`
    that `load` returned to reuse it across calls."""
    spec = DETECTORS[detector_id]
    files, missing = expand(paths)
    yield from missing
    try:
        if net is None:
            net = yield from load(detector_id, cancel)
        labels = spec.categories
        with torch.inference_mode():
            for f in files:
                if cancel is not None:
                    cancel.check()
                try:
                    img = images.load_rgb(f, min_side=DETECT_SIDE)
                except images.BadPicture as exc:
                    yield Skipped(str(f), str(exc))
                    continue
                x = images.to_float_tensor(img)
                out = net([x])[0]
                # Boxes come in decoded pixels; draft mode may have shrunk the picture, so scale
                # back to the picture's real size.
                full = images.upright_size(f) or img.size
                sx, sy = full[0] / img.size[0], full[1] / img.size[1]
                found = [Found(labels[int(lab)], float(score), (b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy))
                         for b, lab, score in zip(out["boxes"].tolist(), out["labels"], out["scores"])
                         if float(score) >= min_score]
                yield Detections(str(f), full, found)
    except Cancelled:
        return
