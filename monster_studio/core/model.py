"""A trained classifier as the app holds it: which backbone, which classes, the new head (and the
fine-tuned backbone weights, when there are any), with its figures. No file format here
(see modelfile) and no picture decoding (see images).

The head is numpy (float32 arrays): classifying on the CPU engine, training the head and saving a
head-only model need no torch at all. It becomes torch tensors only where a torch network is
built (`network()`, `torch_head()`: fine-tuning, CUDA/MPS, heatmaps, export)."""
from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from monster_studio import __version__
from monster_studio.core import catalogue
from monster_studio.core.catalogue import Backbone
from monster_studio.core.events import Cancel
from monster_studio.core.images import Preprocess
from monster_studio.core.unsure import Calibration

if TYPE_CHECKING:
    import torch
    from torch import nn


def as_array(value) -> np.ndarray:
    """A head's tensor as a float32 numpy array, whatever it came as (numpy, a torch tensor of any
    float type or device, a list). A tensor's numbers are copied: a network trained on afterwards
    does not change the model's head."""
    if hasattr(value, "detach"):  # a torch tensor (torch is already imported if one exists)
        value = value.detach().float().cpu().numpy().copy()
    return np.ascontiguousarray(value, dtype=np.float32)


def torch_state(head: dict) -> dict[str, torch.Tensor]:
    """A head's arrays as a linear layer's state dict of torch tensors, copies (imports torch)."""
    import torch

    return {k: torch.from_numpy(np.array(v, np.float32)) for k, v in head.items()}


@dataclass
class TrainedModel:
    backbone_id: str
    classes: list[str]
    preprocess: Preprocess
    # {"weight": (classes, features), "bias": (classes,)} float32 numpy arrays (torch tensors given
    # here are converted); None = the original ImageNet head
    head: dict[str, np.ndarray] | None
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

    def __post_init__(self) -> None:
        if self.head is not None:
            self.head = {k: as_array(v) for k, v in self.head.items()}

    def torch_head(self) -> dict[str, torch.Tensor]:
        """The head as a linear layer's state dict of torch tensors (imports torch)."""
        return torch_state(self.head)

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
        from monster_studio.core import backbones

        spec = catalogue.backbone(backbone_id)
        return cls(backbone_id, backbones.imagenet_categories(spec), spec.preprocess, head=None,
                   metrics={}, settings={"mode": "imagenet"})

    @classmethod
    def from_network(cls, net: nn.Module, spec: Backbone, classes: list[str], finetuned: bool,
                     metrics: dict, settings: dict) -> "TrainedModel":
        from monster_studio.core import backbones

        head = {k: as_array(v) for k, v in backbones.get_head(net, spec).state_dict().items()}
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
        from monster_studio.core import backbones, weights

        spec = self.spec
        if self.backbone_state is not None:
            net = backbones.architecture(spec)
            backbones.replace_head(net, spec, len(self.classes))
            state = dict(self.backbone_state)
            state.update({f"{spec.head_path}.{k}": v for k, v in self.torch_head().items()})
            net.load_state_dict(state)
        else:
            net = yield from weights.load_pretrained(spec, cancel)
            if self.head is not None:
                head = backbones.replace_head(net, spec, len(self.classes))
                head.load_state_dict(self.torch_head())
        for p in net.parameters():
            p.requires_grad = False
        self._net = net.eval()
        return self._net
