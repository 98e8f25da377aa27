"""The choices a training takes, with the defaults the command line and the window both show
(torch-free, so the window can read them without loading the engine)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from monster_studio.core.catalogue import DEFAULT_BACKBONE


@dataclass
class TrainSettings:
    """Every choice a training takes, with the defaults the command line and the window both show."""

    backbone: str = DEFAULT_BACKBONE
    epochs: int = 40
    lr: float = 3e-3
    val_split: float = 0.2
    seed: int = 0
    augment: int = 0  # augmented views per training picture, cached like the plain ones
    finetune: bool = False
    finetune_epochs: int = 4
    batch_size: int = 32
    patience: int = 8  # epochs without a better validation loss before stopping early
    weight_decay: float = 1e-3
    device: str = "auto"

    def to_dict(self) -> dict:
        return asdict(self)


# The doctor's defaults (core.doctor), here so the command line can show them without loading torch.
DOCTOR_FOLDS = 5  # folds of the cross-check: each picture judged by a classifier that never saw it
NEAR_COPY = 0.95  # features this alike or more count as near-copies
