"""The networks behind the catalogue's backbone records (torch): building one, taking its head off
or replacing it, and freezing it. The chapter's steps 2, 3 and 5 live here.

The records themselves (what each backbone is, its input, its weights) are data in `catalogue`.
"""
from __future__ import annotations

from contextlib import contextmanager

from torch import nn

from monster_studio.core.catalogue import Backbone


def architecture(spec: Backbone, exportable: bool = False) -> nn.Module:
    """The network with random weights and its original 1000-class ImageNet head.
    `exportable`: timm's layers that trace to ONNX as static shapes (same weights, same numbers)."""
    if spec.builder == "timm":
        import timm

        if exportable:
            from timm.layers import set_layer_config

            with set_layer_config(exportable=True):
                return timm.create_model(spec.arch, pretrained=False)
        return timm.create_model(spec.arch, pretrained=False)
    from torchvision.models import get_model

    kwargs = dict(spec.build_kwargs)
    if spec.family == "Inception":
        kwargs["init_weights"] = False  # the weights replace them anyway; skips a slow init
        kwargs["transform_input"] = True  # as torchvision builds it for its ImageNet weights
    return get_model(spec.arch, weights=None, **kwargs)


def architecture_for_import(spec: Backbone) -> nn.Module:
    """The network as torchvision's loader builds it before loading a weights file (Inception with
    its auxiliary head), so an imported file can be checked against it key for key."""
    from torchvision.models import get_model

    kwargs = {"aux_logits": True, "init_weights": False} if spec.family == "Inception" else {}
    return get_model(spec.arch, weights=None, **kwargs)


def imagenet_categories(spec: Backbone | None = None) -> list[str]:
    """ImageNet's 1000 class names, in the order of every ImageNet head here."""
    from torchvision.models import ResNet18_Weights, get_weight

    if spec is not None and spec.tv_weights:
        return list(get_weight(spec.tv_weights).meta["categories"])
    return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])  # the same 1000, in the same order


def get_head(model: nn.Module, spec: Backbone) -> nn.Module:
    return model.get_submodule(spec.head_path)


def set_head(model: nn.Module, spec: Backbone, module: nn.Module) -> None:
    parent_path, _, name = spec.head_path.rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    if isinstance(parent, nn.Sequential) and name.isdigit():
        parent[int(name)] = module
    else:
        setattr(parent, name, module)


@contextmanager
def headless(model: nn.Module, spec: Backbone):
    """The network with its head taken off, so it outputs the features the head sees."""
    head = get_head(model, spec)
    set_head(model, spec, nn.Identity())
    try:
        yield model
    finally:
        set_head(model, spec, head)


def replace_head(model: nn.Module, spec: Backbone, n_classes: int) -> nn.Linear:
    """The chapter's step 3: a new output layer sized for the user's classes, where the family keeps it."""
    old = get_head(model, spec)
    head = nn.Linear(old.in_features, n_classes)
    set_head(model, spec, head)
    return head


def freeze(model: nn.Module, spec: Backbone, finetune: bool = False) -> list[nn.Parameter]:
    """The chapter's steps 2 and 5: freeze everything but the head (and, when fine-tuning, the
    last stage(s)). Returns the parameters that will train."""
    for p in model.parameters():
        p.requires_grad = False
    trainable = [spec.head_path] + (list(spec.finetune_modules) if finetune else [])
    for path in trainable:
        for p in model.get_submodule(path).parameters():
            p.requires_grad = True
    return [p for p in model.parameters() if p.requires_grad]


def batchnorm_eval(model: nn.Module) -> None:
    """Batch norm keeps its ImageNet statistics: with a few dozen pictures, new ones would be noise."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()
