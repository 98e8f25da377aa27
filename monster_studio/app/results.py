"""What jobs yield besides the core's own events: plain dataclasses the window shows. No torch
object ever crosses to the window; pictures cross as QImage, which is safe off the GUI thread."""
from __future__ import annotations

from dataclasses import dataclass, field

from monster_studio.app.model_keys import ModelInfo
from monster_studio.core.catalogue import Backbone, Detector
from monster_studio.core.events import Skipped


@dataclass(frozen=True)
class Choice:
    """A catalogue record and where its weights are now ("bundled", "on disk", "download of 45 MB")."""

    spec: Backbone | Detector
    status: str

    @property
    def id(self) -> str:
        return self.spec.id


@dataclass(frozen=True)
class EngineReady:
    backbones: list[Choice]
    detectors: list[Choice]
    default: str
    devices: list[str]


@dataclass(frozen=True)
class Catalogue:
    """The lists again, after weights were imported or downloaded."""

    backbones: list[Choice]
    detectors: list[Choice]


@dataclass(frozen=True)
class Thumbnails:
    folder: str
    class_name: str
    images: list  # [QImage]


@dataclass(frozen=True)
class TrainSummary:
    """The end of a training, for the summary and the model list."""

    metrics: dict
    seconds: float
    name: str
    skipped: list[Skipped]
    backbone: str  # display name
    settings: dict
    epochs_run: int
    info: ModelInfo
    finetune_seconds: float = 0.0
    finetune_gain: float | None = None  # accuracy after fine-tuning minus before (None: not fine-tuned)
    folder: str = ""  # the folder it was trained on
    evaluation: object = None  # core.evaluate.Evaluation of the check pictures (None without any)


@dataclass(frozen=True)
class ModelReady:
    info: ModelInfo


@dataclass(frozen=True)
class Saved:
    path: str


@dataclass(frozen=True)
class Answer:
    """One picture's answer: a Prediction, a Detections, or a Skipped, and a preview when asked for."""

    result: object
    thumb: object = None  # QImage or None
    model_key: str = ""

    @property
    def path(self) -> str:
        return self.result.path


@dataclass(frozen=True)
class ClassifyDone:
    classified: int
    skipped: int
    seconds: float
    detection: bool = False
    found: int = 0  # things found, for a detector


@dataclass(frozen=True)
class SampleWritten:
    folder: str
    try_folder: str
    try_files: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WeightsImported:
    weights_id: str
    path: str
