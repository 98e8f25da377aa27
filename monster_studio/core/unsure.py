"""Whether a trained model is sure of an answer: a picture unlike anything it learned from, or one
torn between two classes, is flagged with a reason in plain words. What it needs (statistics of
the training features, thresholds calibrated on the check pictures) is stored in the .monster
file; a model without them (older files, ImageNet mode) simply never says "not sure"."""
from __future__ import annotations

import numpy as np


def judge(model, feats: np.ndarray, probs: np.ndarray) -> list[tuple[bool, str]]:
    """(unsure, reason) for each row of features and probabilities."""
    calibration = getattr(model, "unsure", None)
    if not calibration:
        return [(False, "")] * len(feats)
    raise NotImplementedError("calibrated judgement comes with the evaluation work")
