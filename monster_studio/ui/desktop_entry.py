"""Linux double-click: write a freedesktop .desktop launcher (and the icon) into the user's
applications folder, so Monster Studio shows up in the menu. `monster-studio --install-desktop-entry`."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import monster_studio

FILE_NAME = "monster-studio.desktop"
ICON_NAME = "monster-studio"


def resources_dir() -> Path:
    return Path(monster_studio.__file__).resolve().parent.parent / "resources"


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def launch_command() -> str:
    """The command the launcher runs: the `monster-studio` script beside this Python, else `python -m`."""
    here = Path(sys.executable).parent
    for name in ("monster-studio", "monster-studio.exe"):
        script = here / name
        if script.is_file():
            return _quote(str(script))
    found = shutil.which("monster-studio")
    if found:
        return _quote(found)
    return f"{_quote(sys.executable)} -m monster_studio"


def _quote(arg: str) -> str:
    """Quoting as the Desktop Entry spec wants it: double quotes, with \\ " ` $ escaped inside."""
    if not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`'):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{escaped}"'


def render(exec_cmd: str, icon: str) -> str:
    template = (resources_dir() / FILE_NAME).read_text(encoding="utf-8")
    return template.replace("@EXEC@", exec_cmd).replace("@ICON@", icon).replace("@VERSION@", monster_studio.__version__)


def install(exec_cmd: str | None = None) -> Path:
    """Write the launcher and its icon; returns the .desktop file's path."""
    root = data_home()
    icon_src = resources_dir() / "icon.png"
    icon_dir = root / "icons" / "hicolor" / "256x256" / "apps"
    icon_dir.mkdir(parents=True, exist_ok=True)
    icon_dest = icon_dir / f"{ICON_NAME}.png"
    shutil.copyfile(icon_src, icon_dest)
    apps = root / "applications"
    apps.mkdir(parents=True, exist_ok=True)
    dest = apps / FILE_NAME
    tmp = dest.with_suffix(".tmp")
    # An absolute icon path works on every desktop, even before the icon cache is refreshed.
    tmp.write_text(render(exec_cmd or launch_command(), str(icon_dest)), encoding="utf-8")
    tmp.chmod(0o755)
    os.replace(tmp, dest)
    refresh = (["update-desktop-database", str(apps)], ["gtk-update-icon-cache", "-q", str(root / "icons" / "hicolor")])
    for tool in refresh:
        if shutil.which(tool[0]):
            try:
                subprocess.run(tool, check=False, timeout=20, capture_output=True)
            except (OSError, subprocess.SubprocessError):
                pass
    return dest


def uninstall() -> None:
    for path in (data_home() / "applications" / FILE_NAME,
                 data_home() / "icons" / "hicolor" / "256x256" / "apps" / f"{ICON_NAME}.png"):
        path.unlink(missing_ok=True)


__all__ = ["install", "uninstall", "launch_command", "render"]
