"""Sort a folder into classes with the Classify page's model: first a plan (a preview with counts;
nothing is written), then, when the user agrees, the copies (or checked moves) and the manifest.
The core's SortPlan and SortResult are what the window gets; a stop during the sort leaves no
half-written file and a manifest of what was done."""
from __future__ import annotations

from pathlib import Path

from monster_studio.app import model_keys
from monster_studio.app.jobs import doing
from monster_studio.core.errors import UserError
from monster_studio.core.events import Phase


def refusal(key: str | None) -> str:
    """Why the model named by `key` cannot sort pictures into classes, in words; '' when it can."""
    kind = model_keys.kind(key or "")
    if kind == "imagenet":
        return ("The ImageNet labels are the starting model's thousand kinds of thing, not your classes, so they "
                "cannot sort your pictures. Train a classifier on the Train page (or open a .monster file) and "
                "choose it in the Model list.")
    if kind == "detector":
        return ("A detector finds things inside a picture; it does not sort pictures into classes. Choose a "
                "classifier you trained (or a .monster file) in the Model list.")
    if kind not in ("trained", "file"):
        return "Choose the classifier to sort with in the Model list first."
    return ""


def _model(ctx, key: str):
    from monster_studio.core import modelfile

    why = refusal(key)
    if why:
        raise UserError(why)
    model = ctx.shelf.get(key)
    if model is None and model_keys.kind(key) == "file":
        model = modelfile.load(model_keys.value(key))
    if model is None:
        raise UserError("No model has been trained in this session yet. Train one on the Train page, or open a "
                        ".monster file.")
    if getattr(model, "head", None) is None:
        raise UserError(refusal(model_keys.imagenet_key("")))
    return model


@doing("looking at the folder to sort")
def plan(ctx, key: str, in_dir: str, out_dir: str, min_confidence: float = 0.0):
    """Yields the core's SortPlan: where each picture would go. Writes nothing."""
    from monster_studio.core import sort

    model = _model(ctx, key)
    yield Phase("sort", f"Looking at the pictures in {Path(in_dir).name or in_dir}")
    yield (yield from sort.plan_steps(model, in_dir, out_dir, min_confidence, ctx.cancel))


@doing("sorting the pictures")
def apply(ctx, plan, move: bool = False):
    """Carry out a SortPlan (from `plan`); yields the core's SortResult."""
    from monster_studio.core import sort

    yield Phase("sort", "Moving the pictures into their folders" if move else "Copying the pictures into their folders")
    yield (yield from sort.apply_steps(plan, move, ctx.cancel))
