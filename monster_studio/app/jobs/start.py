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


@doing("starting")
def start(ctx):
    from monster_studio.core import device, engine_process
    from monster_studio.core.catalogue import DEFAULT_BACKBONE

    engine_process.use(True)  # the window's runner thread never holds the lock through an export

    backbones, detectors = choices()
    yield EngineReady(backbones, detectors, DEFAULT_BACKBONE, device.choices())


def catalogue() -> Catalogue:
    return Catalogue(*choices())
