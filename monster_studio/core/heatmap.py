"""Why the model said what it said: a heatmap over the picture, warm where the picture led to the
answer, for the predicted class or any other one. Made by the maintained grad-cam package
(pytorch_grad_cam), never by hand-written hooks, on the catalogue's `cam_layer` of each starting
model (the last stage that still keeps the picture's layout); for the Vision Transformer, the
package's reshape transform turns its 14 x 14 patch tokens (after the class token) back into a grid.

The method is HiResCAM (Draelos & Carin, 2020), which the package offers beside Grad-CAM: it
multiplies the gradients with the activations place by place instead of averaging the gradients
over the picture first; for a head that is a linear layer on globally averaged features (every
model trained here) it shows what the head computes, region by region. Measured with
EfficientNet-Lite0 on generated 224-px pictures whose class ("marked" against "plain") is decided
by one 36-px checkered patch (the case of tests/test_heatmap.py, 12 marked pictures), the share of
the heat within the patch grown by one cell of the 7 x 7 map (32 px; 20% of the picture):
HiResCAM 0.78 on average (0.67 at worst), Grad-CAM 0.74 (0.56), LayerCAM 0.47 (0.40),
Grad-CAM++ 0.41 (0.35). The score explained is the class's log-odds against the others (`LogOdds`).

Always PyTorch (the network is built by `model.network()`, whatever engine classifies), never on
the GUI thread: the app calls it from its runner thread, one call at a time (the hooks sit on the
network that the model keeps).
"""
from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from monster_studio.core import files, images
from monster_studio.core.dataset import expand
from monster_studio.core.device import pick
from monster_studio.core.errors import UserError
from monster_studio.core.events import Cancel, Cancelled, Skipped

METHOD = "hirescam"
METHODS = ("hirescam", "gradcam", "gradcam++", "layercam")
OVERLAY_STRENGTH = 0.6  # at the warmest place, the overlay's share of the colour
UNSEEN_DIM = 0.55  # outside the centre crop the model never saw: the picture, darkened to this


class HeatmapError(UserError):
    kind = "heatmap"


@dataclass
class Heatmap:
    """Where the picture led to one class's score."""

    path: str
    heat: np.ndarray  # (height, width) float32 in [0, 1] at the picture's size; 0 where the model did not look
    picture: Image.Image  # the picture, upright RGB, at that size
    class_index: int
    label: str
    probability: float  # the model's probability of that class for this picture
    seen: tuple[int, int, int, int]  # (left, top, right, bottom): the part the model looks at (its centre crop)

    @property
    def size(self) -> tuple[int, int]:
        return self.picture.size


def _cam_class(method: str):
    from pytorch_grad_cam import GradCAM, GradCAMPlusPlus, HiResCAM, LayerCAM

    try:
        return {"hirescam": HiResCAM, "gradcam": GradCAM, "gradcam++": GradCAMPlusPlus, "layercam": LayerCAM}[method]
    except KeyError:
        raise HeatmapError(f"Unknown heatmap method '{method}'. Choose one of: {', '.join(METHODS)}.") from None


def _vit_tokens(tokens):
    """torchvision's ViT: (batch, 1 + grid*grid, width) -> (batch, width, grid, grid), class token left out."""
    from pytorch_grad_cam.utils.reshape_transforms import vit_reshape_transform

    grid = math.isqrt(tokens.shape[1] - 1)
    return vit_reshape_transform(tokens, height=grid, width=grid)


RESHAPE = {"ViT": _vit_tokens}


class LogOdds:
    """What the heatmap explains, as a grad-cam target: the log-odds of one class against the
    others, z_c - log(sum of exp(z_j), j != c) = log(p_c / (1 - p_c)). Its gradient is the class's
    own evidence minus the others' (weighted by their probabilities), so what every class responds
    to alike (a colour cast, the background) cancels out and the map shows why this class rather
    than the others. Unlike log p_c, it does not vanish when the model is all but certain (in
    float32, 1 - p_c is 0 from p_c = 1 - 6e-8 on, and so would the map be)."""

    def __init__(self, category: int) -> None:
        self.category = category

    def __call__(self, output):
        import torch

        mask = torch.zeros(output.shape[-1], dtype=torch.bool, device=output.device)
        mask[self.category] = True
        others = torch.logsumexp(output.masked_fill(mask, float("-inf")), dim=-1)
        return output[..., self.category] - others


def target_layer(net, spec):
    try:
        return net.get_submodule(spec.cam_layer)
    except (AttributeError, ValueError) as exc:
        raise HeatmapError(f"{spec.display_name} has no layer '{spec.cam_layer}' to make a heatmap from.") from exc


def _memory_format(net):
    import torch

    for p in net.parameters():
        if p.dim() == 4:  # the first convolution's weights: as the engine left the network
            cl = p.is_contiguous(memory_format=torch.channels_last) and not p.is_contiguous()
            return torch.channels_last if cl else torch.contiguous_format
    return torch.contiguous_format


def cam(net, spec, batch, class_indices: list[int], method: str = METHOD) -> tuple[np.ndarray, np.ndarray]:
    """Heat over the network's input for each picture of a normalized batch (N, 3, H, W) and
    the class asked for each; (N, H, W) in [0, 1], and the network's probabilities (N, classes)."""
    import torch

    device = next(net.parameters()).device
    # The input in the network's own memory layout (channels_last once the engine has run it),
    # so that no layer has to convert between the two.
    x = batch.to(device).contiguous(memory_format=_memory_format(net))
    # The frozen network needs no gradient of its own weights: the gradient flows from the input,
    # so the target layer's output has one for the package to read.
    x.requires_grad_(True)
    with torch.inference_mode(False), torch.enable_grad(), \
            _cam_class(method)(net, [target_layer(net, spec)], reshape_transform=RESHAPE.get(spec.family)) as c:
        heat = c(x, targets=[LogOdds(int(i)) for i in class_indices])
        probs = torch.softmax(c.outputs.detach().float(), dim=1).cpu().numpy()
    net.zero_grad(set_to_none=True)
    return np.clip(np.nan_to_num(heat.astype(np.float32)), 0.0, 1.0), probs


def seen_box(size: tuple[int, int], pre: images.Preprocess) -> tuple[int, int, int, int]:
    """The part of a picture of `size` (width, height) that the model sees: the centre crop of
    Preprocess.center, in the picture's own pixels."""
    w, h = size
    s = pre.resize_size / min(w, h)
    nw, nh = max(pre.crop_size, round(w * s)), max(pre.crop_size, round(h * s))
    left, top = (nw - pre.crop_size) // 2, (nh - pre.crop_size) // 2
    box = (left / nw * w, top / nh * h, (left + pre.crop_size) / nw * w, (top + pre.crop_size) / nh * h)
    x0, y0 = max(0, round(box[0])), max(0, round(box[1]))
    return x0, y0, max(x0 + 1, min(w, round(box[2]))), max(y0 + 1, min(h, round(box[3])))


def on_picture(crop_heat: np.ndarray, size: tuple[int, int], pre: images.Preprocess) -> np.ndarray:
    """Heat over the model's centre crop -> heat over the whole picture (0 where it did not look)."""
    w, h = size
    x0, y0, x1, y1 = seen_box(size, pre)
    tile = Image.fromarray(np.ascontiguousarray(crop_heat, np.float32), "F").resize((x1 - x0, y1 - y0), Image.BILINEAR)
    out = np.zeros((h, w), np.float32)
    out[y0:y1, x0:x1] = np.asarray(tile, np.float32)
    return np.clip(out, 0.0, 1.0)


def _picture(source, max_side: int | None) -> tuple[str, Image.Image]:
    if isinstance(source, Image.Image):
        img = source.convert("RGB")
        path = ""
    else:
        path = str(source)
        img = images.load_rgb(source)
    if max_side and max(img.size) > max_side:
        img = img.copy()
        img.thumbnail((max_side, max_side), Image.BILINEAR)
    return path, img


def explain_many(model, sources: Iterable, class_index: int | None = None, cancel: Cancel | None = None,
                 max_side: int | None = None, device: str = "auto", method: str = METHOD) -> Iterator:
    """A Heatmap (or a Skipped) per picture (paths, folders or PIL images), in order; download
    events first if the starting model's weights must be fetched. `class_index`: the class to
    explain (an index into model.classes); None: each picture's predicted class. `max_side`:
    make the heatmap at most this many pixels on its longer side (the picture's own size if None).
    Ends quietly on cancel."""
    import torch

    if class_index is not None and not (0 <= int(class_index) < len(model.classes)):
        raise HeatmapError(f"There is no class number {class_index}; the model has {len(model.classes)} classes.")
    _cam_class(method)  # an unknown method is refused before any work
    listed: list = []
    for s in sources:  # folders expanded in place, so the answers keep the order asked for
        if isinstance(s, Image.Image):
            listed.append(s)
        else:
            found, gone = expand([s])
            listed += found + gone
    try:
        net = yield from model.network(cancel)
        spec, pre = model.spec, model.preprocess
        home = next(net.parameters()).device
        net.to(pick(device))
        try:
            for source in listed:
                if cancel is not None:
                    cancel.check()
                if isinstance(source, Skipped):  # does not exist
                    yield source
                    continue
                try:
                    path, img = _picture(source, max_side)
                    x = images.prepare(source, pre) if path else pre.center(img)
                except images.BadPicture as exc:
                    yield Skipped(str(source), str(exc))
                    continue
                batch = torch.from_numpy(pre.normalize(x[None]))
                if class_index is None:
                    with torch.inference_mode():
                        wanted = int(net(batch.to(next(net.parameters()).device)).argmax(1)[0])
                else:
                    wanted = int(class_index)
                heat, probs = cam(net, spec, batch, [wanted], method)
                yield Heatmap(path, on_picture(heat[0], img.size, pre), img, wanted, model.classes[wanted],
                              float(probs[0, wanted]), seen_box(img.size, pre))
        finally:
            net.to(home)  # where it was: a classification running beside may hold it on its device
    except Cancelled:
        return


def explain(model, source, class_index: int | None = None, cancel: Cancel | None = None,
            max_side: int | None = None, device: str = "auto", method: str = METHOD) -> Iterator:
    """One picture's Heatmap: `hm = yield from explain(model, path)`. Raises BadPicture (a
    UserError) for a file that cannot be read; returns None when cancelled."""
    steps = explain_many(model, [source], class_index, cancel, max_side, device, method)
    try:
        for r in steps:
            if isinstance(r, Heatmap):
                return r
            if isinstance(r, Skipped):
                raise images.BadPicture(r.reason)
            yield r
    finally:
        steps.close()  # puts the network back where it was, now rather than when collected
    return None


# ------------------------------------------------------------------ pictures of it

def _palette() -> np.ndarray:
    """256 colours from deep blue through cyan, yellow, to red (a jet-like ramp, in RGB)."""
    stops = np.array([[0.0, 0, 0, 128], [0.15, 0, 60, 255], [0.4, 0, 220, 255], [0.6, 255, 230, 0],
                      [0.8, 255, 110, 0], [1.0, 200, 0, 0]], np.float32)
    t = np.linspace(0, 1, 256, dtype=np.float32)
    return np.stack([np.interp(t, stops[:, 0], stops[:, i]) for i in (1, 2, 3)], axis=1)


_PALETTE = _palette()


def colours(heat: np.ndarray) -> np.ndarray:
    """Heat in [0, 1] -> (height, width, 3) float32 RGB colours of the ramp."""
    return _PALETTE[np.clip(np.rint(heat * 255), 0, 255).astype(np.uint8)]


def overlay(hm: Heatmap, strength: float = OVERLAY_STRENGTH) -> Image.Image:
    """The picture with the heat laid over it: cold places keep their own colours, warm ones turn
    yellow to red; what lies outside the part the model looks at is darkened."""
    pic = np.asarray(hm.picture.convert("RGB"), np.float32)
    a = (strength * np.sqrt(hm.heat))[..., None]  # sqrt: a lukewarm place still shows
    out = pic * (1 - a) + colours(hm.heat) * a
    x0, y0, x1, y1 = hm.seen
    mask = np.full(hm.heat.shape, UNSEEN_DIM, np.float32)
    mask[y0:y1, x0:x1] = 1.0
    return Image.fromarray(np.clip(out * mask[..., None], 0, 255).astype(np.uint8), "RGB")


def file_name(source_path: str, suffix: str = ".png") -> str:
    """A name for a picture's heatmap file that two pictures cannot share: the picture's own name
    (made safe for any file system, shortened) and a digest of its full path."""
    raw = os.fsencode(os.path.abspath(source_path))
    digest = hashlib.sha1(raw).hexdigest()[:12]
    stem = Path(source_path).stem
    safe = "".join(ch if (ch.isalnum() and ch.isascii()) or ch in "-_" else "_" for ch in stem)[:60] or "picture"
    return f"{safe}-{digest}.heatmap{suffix}"


def save_overlay(hm: Heatmap, folder: str | os.PathLike, name: str | None = None) -> Path:
    """Write the overlay as a PNG in `folder`, atomically (a failure leaves any earlier file as it was)."""
    target = Path(folder) / (name or file_name(hm.path or "picture"))
    with files.replacing(target) as f:
        overlay(hm).save(f, format="PNG")
    return target
