"""What the app remembers between launches (QSettings): folders, backbone, options, window
geometry, recent models. One place for the keys, so pages do not invent their own."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

ORGANIZATION = "MonsterStudio"
RECENT_MODELS = "models/recent"
MAX_RECENT = 6


def store() -> QSettings:
    """The app's settings (organization and app name come from QCoreApplication)."""
    return QSettings()


def get_str(key: str, default: str = "") -> str:
    value = store().value(key, default)
    return str(value) if value is not None else default


def get_int(key: str, default: int) -> int:
    try:
        return int(store().value(key, default))
    except (TypeError, ValueError):
        return default


def get_float(key: str, default: float) -> float:
    try:
        return float(store().value(key, default))
    except (TypeError, ValueError):
        return default


def get_bool(key: str, default: bool) -> bool:
    value = store().value(key, default)
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def get_list(key: str) -> list[str]:
    value = store().value(key, [])
    if value is None:
        return []
    if isinstance(value, str):  # an INI file hands back a one-item list as a plain string
        return [value] if value else []
    return [str(v) for v in value]


def start_folder(key: str) -> str:
    """Where a file dialog opens: the folder remembered under `key` while it exists, else home."""
    folder = get_str(key)
    return folder if folder and Path(folder).is_dir() else str(Path.home())


def put(key: str, value) -> None:
    store().setValue(key, value)


def put_many(values: dict) -> None:
    """Several keys at once: one write of the settings file (each `put` writes it: 1.5 ms apiece
    here, which a Train click paid ten times over)."""
    s = store()
    for key, value in values.items():
        s.setValue(key, value)


def recent_models() -> list[str]:
    return get_list(RECENT_MODELS)


def remember_model(path: str) -> list[str]:
    path = str(Path(path))
    recent = [path] + [p for p in recent_models() if p != path]
    put(RECENT_MODELS, recent[:MAX_RECENT])
    return recent[:MAX_RECENT]


def forget_model(path: str) -> list[str]:
    recent = [p for p in recent_models() if p != str(Path(path))]
    put(RECENT_MODELS, recent)
    return recent
