"""Where the app keeps its files on this computer: each platform's own folders through
platformdirs (XDG on Linux, ~/Library on macOS, %LOCALAPPDATA% on Windows), each overridable by an
environment variable for tests and CI."""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "monster-studio"
AUTHOR = "MonsterStudio"


def _dirs() -> platformdirs.PlatformDirs:
    return platformdirs.PlatformDirs(APP, AUTHOR, roaming=False)


def cache_dir() -> Path:
    """Feature cache and engines; MONSTER_STUDIO_CACHE overrides."""
    override = os.environ.get("MONSTER_STUDIO_CACHE")
    return Path(override) if override else _dirs().user_cache_path


def data_dir() -> Path:
    """The sample monsters and other things the app makes for the user; MONSTER_STUDIO_DATA overrides."""
    override = os.environ.get("MONSTER_STUDIO_DATA")
    return Path(override) if override else _dirs().user_data_path


def log_dir() -> Path:
    override = os.environ.get("MONSTER_STUDIO_LOGS")
    return Path(override) if override else _dirs().user_log_path
