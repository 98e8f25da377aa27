"""Training as a plain iterator of typed events: scan, (download), features, head epochs,
optional fine-tuning, finished. Cooperative cancel is checked at least once per batch.

The head trains in numpy on the cached features (core.head); torch is imported only where a
torch network is needed: to fine-tune, or to compute features where no ONNX Runtime engine is ready.

    for event in fit("pictures/", TrainSettings(epochs=30)):
        ...
"""
from __future__ import annotations

import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from monster_studio.core import catalogue, dataset, engine, evaluate, features, images, predict, unsure, weights
from monster_studio.core import head as heads
from monster_studio.core.catalogue import Backbone
from monster_studio.core.device import pick
from monster_studio.core.events import Cancel, Cancelled, EpochEnd, Finished, Phase, Progress
from monster_studio.core.model import TrainedModel, torch_state
from monster_studio.core.settings import TrainSettings

if TYPE_CHECKING:  # torch is imported only to fine-tune (or where a torch network was loaded anyway)
    from torch import nn


COMPACT_ROWS = 4096  # rows moved at a time when a training's features are closed up in place


def _split_arrays(ds: dataset.Dataset, feats: features.Features, augment: int, feature_size: int):
    """((train features, labels), (check features, labels)) as float32 / int64 arrays, and the rows of
    the training array that hold each training picture's centre crop (view 0). Without augmented
    views these are the rows of `feats`' own array, closed up in place over the pictures that could
    not be used (so `feats` is used up): the features are held once, never copied (13.5 KB a
    picture at 50,000 when they were held twice)."""
    train = [p for p in ds.train if (p.file, 0) in feats]
    val = [p for p in ds.val if (p.file, 0) in feats]
    if augment == 0:
        rows = np.fromiter((feats.rows[(p.file, 0)] for p in train + val), np.int64, len(train) + len(val))
        if len(rows) and (np.diff(rows) > 0).all():  # the items' own order: train, then check pictures
            x = _close_up(feats.array, rows)
            return ((x[:len(train)], _labels(train)), (x[len(train):], _labels(val)),
                    np.arange(len(train), dtype=np.int64))
    rows0: list[int] = []
    wanted = [(p, v) for p in train for v in range(augment + 1) if (p.file, v) in feats]
    x = np.empty((len(wanted), feature_size), np.float32)
    for i, (p, v) in enumerate(wanted):
        x[i] = feats[(p.file, v)]
        if v == 0:
            rows0.append(i)
    vx = np.stack([feats[(p.file, 0)] for p in val]) if val else np.empty((0, feature_size), np.float32)
    return (x, _labels([p for p, _ in wanted])), (vx, _labels(val)), np.asarray(rows0, np.int64)


def _labels(pictures) -> np.ndarray:
    return np.asarray([p.label for p in pictures], np.int64)


def _close_up(array: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """array[rows] in the first len(rows) rows of `array` itself (rows increasing), a block at a
    time: no second array of all of them. Row j only ever takes a row at or after it, and a block's
    rows are read before they are written."""
    if len(rows) == len(array) or rows[-1] == len(rows) - 1:
        return array[:len(rows)]  # nothing left out before the last one: already in place
    for start in range(0, len(rows), COMPACT_ROWS):
        block = rows[start:start + COMPACT_ROWS]
        array[start:start + len(block)] = array[block]
    return array[:len(rows)]


def _center(pre: images.Preprocess, img):
    try:
        return pre.center(img)
    except Exception:  # noqa: BLE001 - a picture that cannot be resized is left out, like a bad one
        return None


def _decode_all(pictures, cancel, pool, min_side, progress):
    """Decode once for all fine-tuning epochs; yields after each picture via `progress`."""
    def one(p):
        try:
            return images.load_rgb(p.path, min_side=min_side)
        except images.BadPicture:
            return None
    out = []
    for img in pool.map(one, pictures):
        if cancel is not None:
            cancel.check()
        out.append(img)
        yield progress(1)
    return out


@dataclass
class Seen:
    """What the finished network sees for each usable training and check picture (the centre
    crop): its features, label and file. The evaluation and the "not sure" calibration start here."""

    train_feats: np.ndarray
    train_labels: np.ndarray
    val_feats: np.ndarray
    val_labels: np.ndarray
    val_paths: list


def _cached_seen(split, augment: int, val_paths: list) -> Seen:
    """`Seen` from the feature cache (the starting model is frozen: its features are the cached ones).
    `split`: the arrays the head trained on (_split_arrays), reused rather than stacked again (13,000
    pictures: 0.3 s); only with augmented views are the training pictures' centre crops taken apart."""
    (tx, ty), (vx, vy), rows0 = split
    if augment:
        tx, ty = tx[rows0], ty[rows0]
    return Seen(tx, ty, vx, vy, val_paths)


def finetune(net: nn.Module, spec: Backbone, ds: dataset.Dataset, settings: TrainSettings,
             device, cancel: Cancel | None) -> Iterator:
    """The chapter's step 5: unfreeze the last stage(s) and train them with the head, on
    pictures (augmented afresh each epoch), at a tenth of the learning rate. Returns the best
    epoch, and what the network it leaves (the best one) sees of each picture (`Seen`)."""
    import torch
    import torch.nn.functional as F

    from monster_studio.core import backbones

    pre = spec.preprocess
    # One progress count for the whole stage, in units of about equal time so an ETA holds
    # (measured on photos with Lite0 on a CPU: decoding ~5 ms, a forward pass ~17 ms, forward and
    # backward ~40 ms per picture): decoding a picture once is 1, a forward pass 4, both passes 12.
    # The last pass looks at every picture once more with the tuned network (its features).
    n_train, n_val = len(ds.train), len(ds.val)
    total = (n_train + n_val) + settings.finetune_epochs * (12 * n_train + 4 * n_val) + 4 * n_val \
        + 4 * (n_train + n_val)
    done = 0

    def progress(k: int) -> Progress:
        nonlocal done
        done += k
        return Progress("finetune", done, total, "steps")

    with ThreadPoolExecutor(2, "decode") as pool:
        train_imgs = yield from _decode_all(ds.train, cancel, pool, pre.resize_size, progress)
        val_imgs = yield from _decode_all(ds.val, cancel, pool, pre.resize_size, progress)
    train = [(img, p.label) for img, p in zip(train_imgs, ds.train) if img is not None]
    train_seen = list(train)  # in the folder's order (train is shuffled each epoch)
    val_pairs = [(_center(pre, img), p) for img, p in zip(val_imgs, ds.val) if img is not None]
    val_pairs = [(x, p) for x, p in val_pairs if x is not None]
    val_x = [x for x, _ in val_pairs]
    val_y = np.array([p.label for _, p in val_pairs], dtype=np.int64)
    params = backbones.freeze(net, spec, finetune=True)
    net.to(device).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(params, lr=settings.lr * 0.1, weight_decay=settings.weight_decay)
    rng = random.Random(settings.seed)
    bs = min(16, features.batch_size_for(spec, device))

    def forward(batch):
        return net(engine.to_input(batch, pre, device))

    def val_logits():
        net.eval()
        logits = []
        with torch.inference_mode():
            for i in range(0, len(val_x), bs):
                if cancel is not None:
                    cancel.check()
                logits.append(forward(val_x[i:i + bs]).float().cpu())
        return torch.cat(logits).numpy() if logits else np.empty((0, len(ds.classes)), np.float32)

    validate = lambda: heads.loss_and_accuracy(val_logits(), val_y)  # noqa: E731

    trainable = lambda: {k: v.detach().clone() for k, v in net.state_dict().items()}  # noqa: E731
    best_loss, _ = validate()
    yield progress(4 * len(val_x))
    best = (best_loss if len(val_y) else float("inf"), 0, trainable())
    for epoch in range(1, settings.finetune_epochs + 1):
        net.train()
        backbones.batchnorm_eval(net)
        rng.shuffle(train)
        running = 0.0
        for i in range(0, len(train), bs):
            if cancel is not None:
                cancel.check()
            chunk = train[i:i + bs]
            x = [pre.augmented(img, rng) for img, _ in chunk]
            y = torch.tensor([label for _, label in chunk], device=device)
            loss = F.cross_entropy(forward(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            running += loss.item() * len(chunk)
            yield progress(12 * len(chunk))
        val_loss, val_acc = validate()
        yield progress(4 * len(val_x))
        train_loss = running / max(1, len(train))
        yield EpochEnd(epoch, settings.finetune_epochs, train_loss, val_loss, val_acc, "finetune")
        monitor = val_loss if len(val_y) else train_loss  # with no validation pictures, the last epoch wins
        if monitor < best[0] - 1e-4 or not len(val_y):
            best = (monitor, epoch, trainable())
    net.load_state_dict(best[2])
    for p in net.parameters():
        p.requires_grad = False
    net.eval()

    def features_of(crops):
        """Features of the tuned network for centre crops made batch by batch (bounded memory),
        and which of the crops could be made."""
        out, kept = [], []
        with backbones.headless(net, spec), torch.inference_mode():
            for i in range(0, len(crops), bs):
                if cancel is not None:
                    cancel.check()
                made = [(j, crops[j]()) for j in range(i, min(i + bs, len(crops)))]
                made = [(j, c) for j, c in made if c is not None]
                if made:
                    out.append(net(engine.to_input([c for _, c in made], pre, device)).float().cpu().numpy())
                    kept += [j for j, _ in made]
                yield progress(4 * len(crops[i:i + bs]))
        return (np.concatenate(out) if out else np.empty((0, spec.feature_size), np.float32)), kept

    train_feats, kept = yield from features_of([lambda img=img: _center(pre, img) for img, _ in train_seen])
    val_feats, _ = yield from features_of([lambda x=x: x for x in val_x])
    if done < total:  # pictures that could not be decoded were counted but never looked at
        yield Progress("finetune", total, total, "steps")
    net.cpu()
    return best[1], Seen(train_feats, np.array([train_seen[j][1] for j in kept], dtype=np.int64), val_feats,
                         val_y, [p.file for _, p in val_pairs])


def fit(data_dir, settings: TrainSettings | None = None, cancel: Cancel | None = None) -> Iterator:
    """Folder -> trained model, as events. Ends quietly (no Finished) when cancelled.
    Raises DatasetError or WeightsUnavailable with a message for the user."""
    try:
        yield from _fit(data_dir, settings or TrainSettings(), cancel)
    except Cancelled:
        return


def _fit(data_dir, s: TrainSettings, cancel: Cancel | None) -> Iterator:
    t0 = time.perf_counter()
    spec = catalogue.backbone(s.backbone)
    yield Phase("scan", "Reading the folder")
    ds = yield from dataset.scan_steps(data_dir, s.val_split, s.seed, cancel)
    yield ds.table()

    device = pick(s.device)
    cache = features.FeatureCache(spec, s.seed)
    items = [(p.file, 0) for p in ds.train + ds.val] + [(p.file, v) for v in range(1, s.augment + 1) for p in ds.train]

    def load():
        yield Phase("load", f"Loading {spec.display_name}")
        net = yield from weights.load_pretrained(spec, cancel)
        yield Phase("features", "Looking at each picture once (features)")
        return net

    yield Phase("features", "Looking at each picture once (features)")
    feats, bad, net = yield from features.gather(load, spec, items, cache, device, cancel, s.seed, ds.identities)
    ds.identities.clear()  # used up: what follows (the check pictures' answers) takes its place in memory
    del items
    ds.drop(bad)
    counts = ds.counts()
    if sum(1 for c in counts.values() if c) < dataset.MIN_CLASSES or not ds.train:
        raise dataset.DatasetError("Too few pictures could be decoded to train on; see the skipped files.")
    val_paths = [p.file for p in ds.val if (p.file, 0) in feats]
    split = _split_arrays(ds, feats, s.augment, spec.feature_size)
    train, val = split[0], split[1]
    del feats  # emptied: the arrays hold the features now

    yield Phase("train", "Training the new last layer")
    trained = yield from heads.train(train[0], train[1], val[0], val[1], len(ds.classes), s, cancel)
    best_epoch, weight, bias = trained.best_epoch, trained.weight, trained.bias
    finetune_epoch = head_accuracy = finetune_seconds = None
    if s.finetune:
        from monster_studio.core import backbones

        head_accuracy = heads.loss_and_accuracy(trained.logits(val[0]), val[1])[1] if len(val[1]) else None
        t_ft = time.perf_counter()
        if net is None:
            net = yield from weights.load_pretrained(spec, cancel)
        new_head = backbones.replace_head(net, spec, len(ds.classes))
        new_head.load_state_dict(torch_state(trained.state()))
        yield Phase("finetune", "Fine-tuning the last layers of the starting model")
        finetune_epoch, seen = yield from finetune(net, spec, ds, s, device, cancel)
        finetune_seconds = time.perf_counter() - t_ft
        weight = new_head.weight.detach().float().cpu().numpy()
        bias = new_head.bias.detach().float().cpu().numpy()
    else:
        seen = _cached_seen(split, s.augment, val_paths)
    # One BLAS thread for what follows too: a second one would cost its 48 MB buffer (head.one_blas_thread).
    with heads.one_blas_thread():
        val_loss, val_acc = heads.loss_and_accuracy(seen.val_feats @ weight.T + bias, seen.val_labels)
        metrics = {"val_accuracy": val_acc, "val_loss": val_loss, "best_epoch": best_epoch,
                   "finetune_best_epoch": finetune_epoch, "head_val_accuracy": head_accuracy,
                   "finetune_seconds": finetune_seconds, "n_train": len(ds.train), "n_val": len(ds.val),
                   "classes": list(ds.classes), "counts": counts}
        if s.finetune:
            model = TrainedModel.from_network(net, spec, ds.classes, True, metrics, s.to_dict())
        else:
            model = TrainedModel(spec.id, list(ds.classes), spec.preprocess, trained.state(),
                                 metrics=metrics, settings=s.to_dict())
            if net is not None:  # keep the loaded network so "Try it" needs no second load
                from monster_studio.core import backbones

                new_head = backbones.replace_head(net, spec, len(ds.classes))
                new_head.load_state_dict(model.torch_head())
                model._net = net.cpu().eval()
        # The training pictures' probabilities only when they calibrate (too few check pictures).
        train_probs = engine.softmax(seen.train_feats @ weight.T + bias) \
            if len(seen.val_feats) < unsure.MIN_CHECK else None
        model.unsure = unsure.calibrate(seen.train_feats, seen.train_labels, seen.val_feats,
                                        engine.softmax(seen.val_feats @ weight.T + bias), train_probs, s.seed)
        # The check pictures' evaluation, made by the code that classifies any picture (so it shows
        # what `classify` would say of them, "not sure" included).
        cal = model.unsure  # calibrated on the check pictures: their distances are measured already
        known = cal.distances if cal is not None and cal.calibrated_on == "check pictures" \
            and len(cal.distances) == len(seen.val_feats) else None
        answered = predict.answers(model, seen.val_paths, seen.val_feats, weight, bias, top_k=min(3, len(ds.classes)),
                                   distances=known)
        checked = evaluate.from_predictions(ds.classes, [ds.classes[y] for y in seen.val_labels], answered,
                                            folder=str(ds.root))
        metrics.update(per_class=checked.per_class, confusion=checked.confusion, macro_f1=checked.macro_f1,
                       unsure=_unsure_figures(model.unsure))
    yield Finished(model, metrics, list(ds.skipped), time.perf_counter() - t0, checked)


def _unsure_figures(calibration) -> dict | None:
    """How the model's "not sure" was set, for its file and the window: on what, and the share of
    those pictures it is not sure of at the default setting."""
    if calibration is None:
        return None
    return {"calibrated_on": calibration.calibrated_on, "pictures": len(calibration.distances),
            "sample": len(calibration.sample), "share_not_sure": calibration.share_flagged()}
