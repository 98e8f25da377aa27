"""The chapter's step 4 on cached features, in numpy: the new last layer (softmax regression,
logits = features @ weight.T + bias) trained by mini-batch AdamW, early stopping on the check
pictures' loss, the best epoch's weights kept. No torch: a head-only training (the default) needs
no torch network at all, and on a CPU importing torch alone took longer than the whole training.

Same recipe as the torch trainer it replaces: zero start (the problem is convex: zeros are a fine,
seed-free start), the mean cross-entropy of each mini-batch, AdamW with decoupled weight decay
(applied to weight and bias) and bias correction, the training pictures shuffled each epoch in the
very order the torch trainer drew (`shuffles`): the same seed gives the same weights as before,
another seed other ones.

    result = yield from train(train_x, train_y, val_x, val_y, n_classes, settings, cancel)
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from monster_studio.core.events import Cancel, EpochEnd, Progress

# Steps per epoch a big set is allowed before its mini-batches grow (see batch_size).
MAX_STEPS_PER_EPOCH = 50
BETAS = (0.9, 0.999)
EPS = 1e-8


@dataclass
class Head:
    """A trained last layer: weight (classes x features) and bias (classes), float32."""

    weight: np.ndarray
    bias: np.ndarray
    best_epoch: int  # 1-based; 0 when no epoch improved on the start

    def logits(self, feats: np.ndarray) -> np.ndarray:
        return np.asarray(feats, np.float32) @ self.weight.T + self.bias

    def state(self) -> dict[str, np.ndarray]:
        """As TrainedModel.head holds it (the names of a linear layer's state dict)."""
        return {"weight": self.weight, "bias": self.bias}


def batch_size(n: int, requested: int) -> int:
    """The mini-batch for `n` training pictures: the settings' (32) for small sets; for big ones,
    large enough that an epoch takes at most MAX_STEPS_PER_EPOCH steps.

    Why: each step has a fixed cost whatever its size (a dozen small array operations on the
    weights and the batch's logits, AdamW's moments included), and at 32 pictures a step a big set
    pays it hundreds of times an epoch (325 for 10,400 pictures) for a problem that needs far
    fewer steps. The problem is
    convex; a bigger batch only averages the same gradient over more pictures (a less noisy step
    toward the same optimum), and 50 steps an epoch is still more than the 8 that ants and bees
    (245 training pictures, batch 32) take, so a big set gets no fewer updates. An epoch then costs
    about one pass over the features. Measured on this project's 2-core CPU, idle, 10,400
    training and 2,600 check pictures of 1,280 features, 5 classes: 75 ms an epoch at 32 pictures
    a step, 44 ms at 208 (50 steps): 1.7 s for 40 epochs instead of 3.0 s (the torch trainer this
    replaced took 5.2 s for them, at 32). Of those 44 ms, 12 gather the shuffled batches, 17 are the
    batches' two products, 4 the check pictures, the rest the 50 steps' own work."""
    requested = max(1, int(requested))
    return max(requested, math.ceil(n / MAX_STEPS_PER_EPOCH))


def shuffles(seed: int):
    """order(n): each epoch's order of the training pictures, the permutations that
    torch.randperm(n, generator=torch.Generator().manual_seed(seed)) drew call after call: the
    same Mersenne Twister (numpy's legacy seeding is torch's, on the seed's low 32 bits), one
    32-bit draw per Fisher-Yates swap. So a seed still gives the model the torch trainer gave
    (ants and bees: 0.954 with Lite0, where another shuffle of the same 245 pictures gave 0.948),
    and tests/test_head.py checks the orders against torch's. About 3 ms an epoch for 10,400."""
    rs = np.random.RandomState(int(seed) & 0xFFFFFFFF)

    def order(n: int) -> np.ndarray:
        draws = rs.randint(0, 2**32, size=max(n - 1, 0), dtype=np.uint64)
        swaps = (draws % np.arange(n, 1, -1, dtype=np.uint64)).astype(np.int64) + np.arange(n - 1)
        out = list(range(n))
        for i, j in enumerate(swaps.tolist()):
            out[i], out[j] = out[j], out[i]
        return np.array(out, np.int64)

    return order


def loss_and_accuracy(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of logits against labels; (nan, nan) for no pictures."""
    if len(y) == 0:
        return float("nan"), float("nan")
    z = np.asarray(logits, np.float32)
    top = z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z - top).sum(axis=1)) + top[:, 0]
    rows = np.arange(len(y))
    loss = float(np.mean(log_norm - z[rows, y], dtype=np.float64))
    return loss, float(np.mean(z.argmax(axis=1) == y))


_BLAS = None


def one_blas_thread():
    """BLAS on one thread while an epoch runs (not across the yields between epochs). The products
    here are small (a batch of features times a few classes): one thread was as fast as two on
    this project's 2-core CPU (0.70 s against 0.87 s for 10,400 pictures x 20 epochs, idle), and
    with another program on the other core, two threads waited on each other (a batch's product
    took 8 ms instead of 0.16 ms). The work after a training runs on one thread too (training._fit):
    OpenBLAS gives each thread it starts a buffer of its own, 48 MB here, for products of a few
    milliseconds."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


class _AdamW:
    """AdamW on one flat parameter vector (the weight and the bias are views of it, so one
    update covers both): decoupled weight decay, then the bias-corrected moment step."""

    def __init__(self, params: np.ndarray, lr: float, weight_decay: float) -> None:
        self.p, self.lr, self.wd = params, float(lr), float(weight_decay)
        self.m = np.zeros_like(params)
        self.v = np.zeros_like(params)
        self.t = 0
        self._tmp = np.empty_like(params)

    def step(self, grad: np.ndarray) -> None:
        self.t += 1
        b1, b2 = BETAS
        p, m, v, tmp = self.p, self.m, self.v, self._tmp
        p *= np.float32(1 - self.lr * self.wd)
        m *= np.float32(b1)
        np.multiply(grad, np.float32(1 - b1), out=tmp)
        m += tmp
        v *= np.float32(b2)
        np.multiply(grad, grad, out=tmp)
        tmp *= np.float32(1 - b2)
        v += tmp
        np.divide(v, np.float32(1 - b2 ** self.t), out=tmp)  # denominator: sqrt(v_hat) + eps
        np.sqrt(tmp, out=tmp)
        tmp += np.float32(EPS)
        np.divide(m, tmp, out=tmp)
        tmp *= np.float32(self.lr / (1 - b1 ** self.t))
        p -= tmp


def train(xt: np.ndarray, yt: np.ndarray, xv: np.ndarray, yv: np.ndarray, n_classes: int, settings,
          cancel: Cancel | None = None) -> Iterator:
    """Train the last layer on features `xt` (n x features) with labels `yt`, checked each epoch
    on `xv`, `yv` (may be empty: then the training loss decides). Yields EpochEnd and
    Progress("train", epoch, epochs, "epochs") after each epoch; returns a Head with the best
    epoch's weights. `settings`: lr, weight_decay, epochs, patience, batch_size, seed (TrainSettings)."""
    xt = np.ascontiguousarray(xt, np.float32)
    xv = np.ascontiguousarray(xv, np.float32)
    yt = np.asarray(yt, np.int64)
    yv = np.asarray(yv, np.int64)
    n, features = xt.shape
    classes = int(n_classes)
    params = np.zeros(classes * features + classes, np.float32)  # weight then bias, one vector
    weight, bias = params[:classes * features].reshape(classes, features), params[classes * features:]
    grad = np.empty_like(params)
    g_weight, g_bias = grad[:classes * features].reshape(classes, features), grad[classes * features:]
    opt = _AdamW(params, settings.lr, settings.weight_decay)
    order = shuffles(settings.seed)
    bs = batch_size(n, settings.batch_size)
    epochs = settings.epochs
    best = (float("inf"), 0, params.copy())
    all_rows = np.arange(bs)

    def epoch_loss(order: np.ndarray) -> float:
        """One pass over the training pictures in `order`; the sum of their losses."""
        total = 0.0
        for i in range(0, n, bs):
            if cancel is not None:
                cancel.check()
            idx = order[i:i + bs]
            x, y, rows = xt[idx], yt[idx], all_rows[:len(idx)]
            z = x @ weight.T
            z += bias
            z -= z.max(axis=1, keepdims=True)
            e = np.exp(z)
            norm = e.sum(axis=1)
            total += float(np.log(norm).sum(dtype=np.float64) - z[rows, y].sum(dtype=np.float64))
            e /= norm[:, None]  # softmax; its gradient of the mean cross-entropy is (p - onehot) / batch
            e[rows, y] -= 1.0
            e *= np.float32(1.0 / len(idx))
            np.matmul(e.T, x, out=g_weight)
            e.sum(axis=0, out=g_bias)
            opt.step(grad)
        return total

    for epoch in range(1, epochs + 1):
        with one_blas_thread():
            total = epoch_loss(order(n))
            val_loss, val_acc = loss_and_accuracy(xv @ weight.T + bias, yv) if len(yv) else (float("nan"), float("nan"))
        train_loss = total / n
        monitor = val_loss if len(yv) else train_loss
        yield EpochEnd(epoch, epochs, train_loss, val_loss, val_acc)
        yield Progress("train", epoch, epochs, "epochs")
        if monitor < best[0] - 1e-4:
            best = (monitor, epoch, params.copy())
        elif epoch - best[1] >= settings.patience:
            break
    kept = best[2]
    return Head(kept[:classes * features].reshape(classes, features).copy(), kept[classes * features:].copy(), best[1])
