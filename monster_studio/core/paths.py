"""Where the app keeps its files on this computer (overridable for tests and CI)."""
from __future__ import annotations

import os
import sys
from pathlib import Path


def _base(kind: str) -> Path:
    home = Path.home()
    if sys.platform == "win32":
        root = Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local"))
        return root / "MonsterStudio" / kind
    if sys.platform == "darwin":
        lib = home / "Library"
        return {"cache": lib / "Caches", "data": lib / "Application Support", "logs": lib / "Logs"}[kind] / "MonsterStudio"
    xdg = {"cache": ("XDG_CACHE_HOME", ".cache"), "data": ("XDG_DATA_HOME", ".local/share"),
           "logs": ("XDG_STATE_HOME", ".local/state")}[kind]
    root = Path(os.environ.get(xdg[0]) or home / xdg[1])
    return root / "monster-studio" / ("logs" if kind == "logs" else "")


def cache_dir() -> Path:
    """Feature cache; MONSTER_STUDIO_CACHE overrides."""
    override = os.environ.get("MONSTER_STUDIO_CACHE")
    return Path(override) if override else _base("cache")


def data_dir() -> Path:
    override = os.environ.get("MONSTER_STUDIO_DATA")
    return Path(override) if override else _base("data")


def log_dir() -> Path:
    override = os.environ.get("MONSTER_STUDIO_LOGS")
    return Path(override) if override else _base("logs")
