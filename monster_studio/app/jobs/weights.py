"""Installing a weights file the user brought (for a computer without internet)."""
from __future__ import annotations

from monster_studio.app.jobs import doing
from monster_studio.app.jobs.start import catalogue
from monster_studio.app.results import WeightsImported
from monster_studio.core.events import Phase


@doing("importing the weights file")
def import_weights(ctx, weights_id: str, file: str):
    from monster_studio.core import catalogue as records
    from monster_studio.core import weights

    yield Phase("import", "Checking and installing the weights file")
    dest = weights.import_weights(records.find(weights_id), file)
    yield WeightsImported(weights_id, str(dest))
    yield catalogue()
