"""The one scheme for naming the models the window can choose, and what the window knows of one.

  "trained"              the model trained in this session
  "file:<path>"          a .monster file
  "imagenet:<backbone>"  a starting model used as it is, naming ImageNet's 1000 classes
  "detector:<id>"        a COCO detector used as it is, boxing the things it finds
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

TRAINED = "trained"
FILE = "file:"
IMAGENET = "imagenet:"
DETECTOR = "detector:"


def file_key(path: str) -> str:
    return FILE + str(Path(path).expanduser())


def imagenet_key(backbone_id: str) -> str:
    return IMAGENET + backbone_id


def detector_key(detector_id: str) -> str:
    return DETECTOR + detector_id


def kind(key: str) -> str:
    """"trained", "file", "imagenet", "detector", or "" for anything else."""
    if key == TRAINED:
        return "trained"
    for prefix, name in ((FILE, "file"), (IMAGENET, "imagenet"), (DETECTOR, "detector")):
        if key.startswith(prefix):
            return name
    return ""


def value(key: str) -> str:
    """The path, backbone id or detector id a key names ('' for the trained model)."""
    for prefix in (FILE, IMAGENET, DETECTOR):
        if key.startswith(prefix):
            return key[len(prefix):]
    return ""


def is_detector(key: str | None) -> bool:
    return bool(key) and key.startswith(DETECTOR)


@dataclass(frozen=True)
class ModelInfo:
    """A model as the window shows it: which one (key), what it is called, what it knows."""

    key: str
    kind: str  # "trained", "file", "imagenet", "detector"
    name: str
    classes: list[str] = field(default_factory=list)  # empty for ImageNet and detectors
    n_classes: int = 0
    backbone: str = ""  # the starting model's (or detector's) display name
    source: str = ""  # the file it came from
    metrics: dict = field(default_factory=dict)
    guidance: str = ""
    status: str = ""  # for a detector: where its weights are ("on disk", "download of 13 MB")
    can_say_unsure: bool = False  # the model file holds what it needs to say "not sure"
    created: str = ""  # when it was trained: two trainings in one session are two models
