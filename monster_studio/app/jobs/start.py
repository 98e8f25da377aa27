"""Importing the engine (torch takes seconds) on the runner's thread, and the catalogue with where
each model's weights are."""
from __future__ import annotations

import logging

from monster_studio.app.jobs import doing
from monster_studio.app.results import Catalogue, Choice, EngineReady

log = logging.getLogger(__name__)


def choices():
    from monster_studio.core import weights
    from monster_studio.core.catalogue import BACKBONES, DETECTORS

    def status(spec) -> str:
        try:
            return weights.status_text(spec)
        except Exception:  # noqa: BLE001 - a broken install must not hide the list
            log.exception("status of %s", spec.id)
            return "unknown"

    return ([Choice(s, status(s)) for s in BACKBONES.values()], [Choice(d, status(d)) for d in DETECTORS.values()])


def prepare_ahead(backbone_id: str, devices: list[str]) -> bool:
    """On a computer without an accelerator (where the engine is what runs), the first launch
    makes the engine of the starting model the Train page will use, so that the first training
    does not wait for it: a bundled model's here (written without torch, under a second), any
    other's in a child at a lower priority (core.engine_process.start_ahead)."""
    from monster_studio.core import catalogue, engine, engine_direct, engine_process

    if len(devices) > 2 or not engine_process.ahead_allowed():
        return False  # an accelerator runs the network in PyTorch; or turned off
    spec = catalogue.BACKBONES.get(backbone_id) or catalogue.BACKBONES[catalogue.DEFAULT_BACKBONE]
    try:
        if not engine.to_be_made(spec):
            return False
        if engine_direct.applies(spec) and engine.prepare_direct(spec) is not None:
            return True
        return engine_process.start_ahead(spec)
    except Exception:  # noqa: BLE001 - ahead of need only: the training makes it otherwise
        log.exception("preparing the engine ahead")
        return False


@doing("starting")
def start(ctx, backbone_id: str = ""):
    """`backbone_id`: the starting model the Train page will use (its remembered choice)."""
    from monster_studio.core import device, engine_process
    from monster_studio.core.catalogue import DEFAULT_BACKBONE

    engine_process.use(True)  # the window's runner thread never holds the lock through an export
    # The engine's runtime now (50 ms): imported in the middle of a first training, its library's
    # loading held the interpreter lock, and so the window, for 40 ms at once.
    import onnxruntime  # noqa: F401

    backbones, detectors = choices()
    devices = device.choices()
    yield EngineReady(backbones, detectors, DEFAULT_BACKBONE, devices)
    prepare_ahead(backbone_id or DEFAULT_BACKBONE, devices)


def catalogue() -> Catalogue:
    return Catalogue(*choices())
