"""Help > Clear cached features: every picture's remembered features and the prepared engine
removed (the next training looks at each picture again), for a cache that went wrong or a disk
that needs the room."""
from __future__ import annotations

from monster_studio.app.jobs import doing
from monster_studio.core.events import Phase


@doing("clearing the cached features")
def clear(ctx):
    from monster_studio.core import features

    yield Phase("clear", "Clearing the cached features")
    yield features.clear_cache()
