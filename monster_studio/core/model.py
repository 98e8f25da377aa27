"""A trained classifier as the app holds it: which backbone, which classes, the new head (and the
fine-tuned backbone weights, when there are any), with its figures. No file format here
(see modelfile) and no picture decoding (see images)."""
from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from torch import nn

from monster_studio import __version__
from monster_studio.core import backbones, catalogue, weights
from monster_studio.core.catalogue import Backbone
from monster_studio.core.events import Cancel
from monster_studio.core.images import Preprocess
from monster_studio.core.unsure import Calibration


@dataclass
class TrainedModel:
    backbone_id: str
    classes: list[str]
    preprocess: Preprocess
    head: dict[str, torch.Tensor] | None  # {"weight", "bias"}; None = the original ImageNet head
    backbone_state: dict[str, torch.Tensor] | None = None  # only when fine-tuned
    metrics: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    created: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    app_version: str = __version__
    source: str = ""  # the file it was loaded from, if any
    # What it needs to say "not sure" (core.unsure.Calibration); None: always sure (an older file,
    # ImageNet mode, or too few pictures to calibrate on).
    unsure: Calibration | None = field(default=None, repr=False)
    _net: nn.Module | None = field(default=None, repr=False, compare=False)

    @property
    def spec(self) -> Backbone:
        return catalogue.backbone(self.backbone_id)

    @property
    def name(self) -> str:
        if self.head is None:
            return f"{self.spec.display_name}: ImageNet's 1000 classes (no training)"
        return ", ".join(self.classes)

    @property
    def label(self) -> str:
        """What the model is called where its answers are listed: its file's name, or its name."""
        if self.source:
            from pathlib import Path

            return Path(self.source).name
        return self.name

    @classmethod
    def imagenet(cls, backbone_id: str = catalogue.DEFAULT_BACKBONE) -> "TrainedModel":
        """A pretrained model used directly, with no training: ImageNet's 1000 labels."""
        spec = catalogue.backbone(backbone_id)
        return cls(backbone_id, backbones.imagenet_categories(spec), spec.preprocess, head=None,
                   metrics={}, settings={"mode": "imagenet"})

    @classmethod
    def from_network(cls, net: nn.Module, spec: Backbone, classes: list[str], finetuned: bool,
                     metrics: dict, settings: dict) -> "TrainedModel":
        head = {k: v.detach().cpu().clone() for k, v in backbones.get_head(net, spec).state_dict().items()}
        body = None
        if finetuned:
            prefix = spec.head_path + "."
            body = {k: v.detach().cpu().clone() for k, v in net.state_dict().items() if not k.startswith(prefix)}
        m = cls(spec.id, list(classes), spec.preprocess, head, body, metrics, settings)
        m._net = net
        return m

    def network(self, cancel: Cancel | None = None) -> Iterator:
        """Yields download events if the backbone's weights must be fetched; returns the network
        ready for inference (eval mode, on the CPU). Built once, then kept."""
        if self._net is not None:
            return self._net
        spec = self.spec
        if self.backbone_state is not None:
            net = backbones.architecture(spec)
            backbones.replace_head(net, spec, len(self.classes))
            state = dict(self.backbone_state)
            state.update({f"{spec.head_path}.{k}": v for k, v in self.head.items()})
            net.load_state_dict(state)
        else:
            net = yield from weights.load_pretrained(spec, cancel)
            if self.head is not None:
                head = backbones.replace_head(net, spec, len(self.classes))
                head.load_state_dict(self.head)
        for p in net.parameters():
            p.requires_grad = False
        self._net = net.eval()
        return self._net
