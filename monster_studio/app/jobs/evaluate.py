"""Testing the chosen classifier on a labeled folder: how often it is right, per class, and where
it is wrong (core.evaluate, the same figures `monster-studio evaluate` gives)."""
from __future__ import annotations

from monster_studio.app import model_keys
from monster_studio.app.jobs import doing
from monster_studio.core.errors import UserError


@doing("testing the model")
def evaluate(ctx, folder: str, sure_share: float | None = None):
    from monster_studio.core import evaluate as evaluation

    key = ctx.shelf.active
    model = ctx.shelf.get(key)
    if model is None or model_keys.kind(key) not in ("trained", "file") or model.head is None:
        raise UserError("Testing on a folder needs a classifier trained here or opened from a .monster file: "
                        "choose one in the Model list.")
    result = yield from evaluation.evaluate(model, folder, ctx.cancel, sure_share=sure_share)
    if result is not None:
        yield result
