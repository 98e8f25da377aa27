"""What runs the frozen starting model: pictures (uint8 arrays) in, features out. Every use of a
frozen backbone goes through an embedder from here: feature extraction for training, classifying
with a head-only model, ImageNet mode. The head (a linear layer) is applied by the caller, so the
engine can change without the answers changing.

`TorchEmbedder` runs the headless network in PyTorch (channels_last, inference mode) on any
device; it is also what a fine-tuned model and the heatmaps use.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from monster_studio.core import backbones
from monster_studio.core.catalogue import Backbone
from monster_studio.core.images import Preprocess


def to_input(arrays: list[np.ndarray], pre: Preprocess, device: torch.device) -> torch.Tensor:
    """uint8 CHW arrays -> the normalized, channels_last batch a torch backbone takes."""
    x = torch.from_numpy(np.stack(arrays)).to(device, non_blocking=True)
    mean = torch.tensor(pre.mean, device=device).view(1, 3, 1, 1)
    std = torch.tensor(pre.std, device=device).view(1, 3, 1, 1)
    return ((x.float().div_(255.0) - mean) / std).contiguous(memory_format=torch.channels_last)


class TorchEmbedder:
    """The network with its head taken off, in PyTorch. Call it with a list of uint8 CHW arrays."""

    name = "PyTorch"

    def __init__(self, net: nn.Module, spec: Backbone, pre: Preprocess, device: torch.device) -> None:
        self.net, self.spec, self.pre, self.device = net, spec, pre, device
        self.head = backbones.get_head(net, spec)
        net.eval().to(device).to(memory_format=torch.channels_last)

    def __call__(self, arrays: list[np.ndarray]) -> np.ndarray:
        with backbones.headless(self.net, self.spec), torch.inference_mode():
            return self.net(to_input(arrays, self.pre, self.device)).float().cpu().numpy()

    def head_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """The network's own last layer (for a model used as it is: ImageNet's 1000 classes)."""
        return (self.head.weight.detach().float().cpu().numpy(), self.head.bias.detach().float().cpu().numpy())

    def close(self) -> None:
        self.net.cpu()


def classifier(model, device: torch.device, cancel=None) -> Iterator:
    """An embedder for a classifier (core.model.TrainedModel) and the linear head to put on its
    features. Yields download events if weights must be fetched; returns (embed, weight, bias),
    weight (classes x features) and bias as float32 arrays."""
    net = yield from model.network(cancel)
    embed = TorchEmbedder(net, model.spec, model.preprocess, device)
    if model.head is None:
        weight, bias = embed.head_weights()
    else:
        weight = model.head["weight"].detach().float().cpu().numpy()
        bias = model.head["bias"].detach().float().cpu().numpy()
    return embed, weight, bias


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
