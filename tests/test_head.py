"""The numpy head trainer (core.head): the same steps as torch's own AdamW on a linear layer, early
stopping that keeps the best epoch, the same weights for a seed and others for another, bigger
mini-batches only for big sets, and no torch import."""
from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from monster_studio.core import head
from monster_studio.core.events import EpochEnd, Progress, run_to_end
from monster_studio.core.settings import TrainSettings


def features(n: int, n_val: int, classes: int = 3, size: int = 64, seed: int = 0, spread: float = 1.0):
    """Training and check features of `classes` overlapping clusters (so the loss never reaches
    zero), with labels: (xt, yt, xv, yv)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((classes, size)).astype(np.float32)
    y = rng.integers(0, classes, n + n_val)
    x = (centres[y] + spread * rng.standard_normal((n + n_val, size))).astype(np.float32)
    return x[:n], y[:n], x[n:], y[n:]


def trained(xt, yt, xv, yv, classes, settings):
    events = []
    result = run_to_end(head.train(xt, yt, xv, yv, classes, settings), events.append)
    return result, events


def torch_reference(xt, yt, xv, yv, classes, s: TrainSettings):
    """The torch trainer core.head replaced, in torch itself: nn.Linear from zeros, torch.optim.AdamW,
    mean cross-entropy per mini-batch, the order of each epoch from torch.randperm on a generator
    seeded with the settings' seed, early stopping on the check loss with the best epoch kept."""
    import torch
    import torch.nn.functional as F

    lin = torch.nn.Linear(xt.shape[1], classes)
    torch.nn.init.zeros_(lin.weight)
    torch.nn.init.zeros_(lin.bias)
    opt = torch.optim.AdamW(lin.parameters(), lr=s.lr, weight_decay=s.weight_decay)
    gen = torch.Generator().manual_seed(s.seed)
    bs = head.batch_size(len(yt), s.batch_size)
    X, Y, XV, YV = map(torch.from_numpy, (xt, yt, xv, yv))
    best = (float("inf"), 0, None)
    losses = []
    for epoch in range(1, s.epochs + 1):
        order = torch.randperm(len(yt), generator=gen)
        for i in range(0, len(order), bs):
            idx = order[i:i + bs]
            loss = F.cross_entropy(lin(X[idx]), Y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            val = F.cross_entropy(lin(XV), YV).item()
        losses.append(val)
        if val < best[0] - 1e-4:
            best = (val, epoch, {k: v.clone() for k, v in lin.state_dict().items()})
        elif epoch - best[1] >= s.patience:
            break
    return best[2]["weight"].numpy(), best[2]["bias"].numpy(), best[1], losses


def test_the_same_steps_as_torchs_adamw_on_a_linear_layer():
    xt, yt, xv, yv = features(300, 90, seed=1)
    s = TrainSettings(epochs=12, lr=0.01, weight_decay=0.05, patience=100)
    got, events = trained(xt, yt, xv, yv, 3, s)
    w, b, best_epoch, val_losses = torch_reference(xt, yt, xv, yv, 3, s)
    assert got.best_epoch == best_epoch
    assert np.abs(got.weight - w).max() <= 1e-4 * max(1.0, float(np.abs(w).max()))
    assert np.abs(got.bias - b).max() <= 1e-4 * max(1.0, float(np.abs(b).max()))
    ours = [e.val_loss for e in events if isinstance(e, EpochEnd)]
    assert np.allclose(ours, val_losses, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**40 + 3, -7])
def test_the_order_of_each_epoch_is_torchs(seed):
    import torch

    gen = torch.Generator().manual_seed(seed)
    order = head.shuffles(seed)
    for n in (245, 245, 1, 2, 95, 10_400):
        assert order(n).tolist() == torch.randperm(n, generator=gen).tolist()


def test_events_and_early_stopping_keep_the_best_epoch():
    xt, yt, xv, yv = features(200, 60, seed=3, spread=4.0)  # noisy: the check loss turns up after a while
    s = TrainSettings(epochs=60, lr=0.05, patience=3)
    result, events = trained(xt, yt, xv, yv, 3, s)
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    progress = [e for e in events if isinstance(e, Progress)]
    assert [type(e) for e in events[:2]] == [EpochEnd, Progress]
    assert [(p.stage, p.done, p.total, p.unit) for p in progress] == [("train", e.epoch, 60, "epochs") for e in epochs]
    assert len(epochs) < 60  # stopped early
    losses = [e.val_loss for e in epochs]
    assert result.best_epoch == 1 + int(np.argmin(losses))
    assert len(epochs) - result.best_epoch == s.patience
    # The weights returned are the best epoch's: their check loss is that epoch's.
    loss, accuracy = head.loss_and_accuracy(result.logits(xv), yv)
    assert math.isclose(loss, min(losses), rel_tol=1e-5)
    assert accuracy == epochs[result.best_epoch - 1].val_accuracy


def test_a_seed_gives_the_same_weights_and_another_seed_others():
    xt, yt, xv, yv = features(150, 40, seed=5)
    s = TrainSettings(epochs=5)
    a, _ = trained(xt, yt, xv, yv, 3, s)
    b, _ = trained(xt, yt, xv, yv, 3, s)
    c, _ = trained(xt, yt, xv, yv, 3, replace(s, seed=1))
    assert np.array_equal(a.weight, b.weight) and np.array_equal(a.bias, b.bias)
    assert not np.array_equal(a.weight, c.weight)
    assert a.weight.dtype == np.float32 and a.weight.shape == (3, 64) and a.bias.shape == (3,)


def test_without_check_pictures_the_training_loss_decides():
    xt, yt, _, _ = features(120, 0, seed=7)
    empty_x, empty_y = np.empty((0, 64), np.float32), np.empty(0, np.int64)
    result, events = trained(xt, yt, empty_x, empty_y, 3, TrainSettings(epochs=6))
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert all(math.isnan(e.val_loss) and math.isnan(e.val_accuracy) for e in epochs)
    assert epochs[-1].train_loss < epochs[0].train_loss and result.best_epoch == len(epochs)


def test_big_sets_take_bigger_batches_small_ones_keep_32():
    assert head.batch_size(95, 32) == 32 and head.batch_size(245, 32) == 32
    assert head.batch_size(1600, 32) == 32
    for n in (5_000, 10_400, 100_000):
        bs = head.batch_size(n, 32)
        assert bs > 32 and math.ceil(n / bs) <= head.MAX_STEPS_PER_EPOCH
    assert head.batch_size(95, 8) == 8  # a smaller batch asked for is kept


def test_a_big_set_still_learns():
    xt, yt, xv, yv = features(8_000, 500, classes=5, seed=8, spread=4.0)
    result, events = trained(xt, yt, xv, yv, 5, TrainSettings(epochs=10))
    best_small, _ = trained(xt[:1500], yt[:1500], xv, yv, 5, TrainSettings(epochs=10))
    big_loss = head.loss_and_accuracy(result.logits(xv), yv)[0]
    assert big_loss <= head.loss_and_accuracy(best_small.logits(xv), yv)[0]


def test_cancel_stops_within_the_epoch():
    from monster_studio.core.events import Cancel, Cancelled

    cancel = Cancel()
    cancel.set()
    xt, yt, _, _ = features(100, 0)
    with pytest.raises(Cancelled):
        run_to_end(head.train(xt, yt, xt[:10], yt[:10], 3, TrainSettings(), cancel))


def test_training_the_head_imports_no_torch():
    script = """
import sys
import numpy as np
from monster_studio.core import head
from monster_studio.core.events import run_to_end
from monster_studio.core.settings import TrainSettings
x = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)
y = np.arange(50) % 2
run_to_end(head.train(x, y, x, y, 2, TrainSettings(epochs=2)))
print(sorted(m for m in sys.modules if m.split(".")[0] == "torch"))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
