"""The models the runner keeps between jobs, by model key: the one trained in this session, the
ones opened from files, the pretrained ones used as they are, and the loaded detector network.
Only jobs touch it, and only on the runner's thread; the window sees `ModelInfo`, never a tensor."""
from __future__ import annotations

from monster_studio.app import model_keys

KEEP = 4  # opened models keep their network in memory; a few are plenty


class Shelf:
    def __init__(self) -> None:
        self.models: dict[str, object] = {}
        self.active: str | None = None  # the key of the model that classifies
        self.detector_net: tuple[str | None, object] = (None, None)  # (detector id, its network)

    def get(self, key: str | None):
        return self.models.get(key) if key else None

    def put(self, key: str, model, activate: bool = True) -> None:
        self.models[key] = model
        if activate:
            self.active = key
        self._forget_old(keep=key)

    def active_model(self):
        return self.get(self.active)

    def _forget_old(self, keep: str) -> None:
        extra = [k for k in self.models if k not in (keep, model_keys.TRAINED)]
        for k in extra[:max(0, len(extra) - (KEEP - 1))]:
            del self.models[k]
            if self.detector_net[0] and model_keys.detector_key(self.detector_net[0]) == k:
                self.detector_net = (None, None)
