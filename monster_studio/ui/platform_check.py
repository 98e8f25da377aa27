"""Before Qt opens a window on Linux/X11: are the system libraries its xcb plugin needs there?

Without them Qt aborts the whole process with "Could not load the Qt platform plugin 'xcb'",
which tells a newcomer nothing. Minimal Debian/Ubuntu installs lack several of them.

    python -m monster_studio.ui.platform_check            # say what is missing and how to install it
    python -m monster_studio.ui.platform_check --install  # and install it, when run as root with apt-get
"""
from __future__ import annotations

import ctypes.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

# The libraries Qt's xcb plugin links or loads, and the Debian/Ubuntu packages that hold them.
DEBIAN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1", "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0", "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0", "libxcb-xkb.so.1": "libxcb-xkb1", "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0", "libxcb-shm.so.0": "libxcb-shm0", "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0", "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1", "libEGL.so.1": "libegl1", "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0", "libfontconfig.so.1": "libfontconfig1", "libdbus-1.so.3": "libdbus-1-3",
    "libfreetype.so.6": "libfreetype6", "libglib-2.0.so.0": "libglib2.0-0",
}


def _uses_xcb() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.startswith("xcb")
    return bool(os.environ.get("DISPLAY")) or not os.environ.get("WAYLAND_DISPLAY")


def missing_libraries() -> list[str]:
    """Shared libraries the xcb plugin needs and this system lacks ([] when fine or not relevant)."""
    if not _uses_xcb():
        return []
    import PySide6

    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.exists() or shutil.which("ldd") is None:
        return []
    try:
        out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    missing = [line.split()[0] for line in out.splitlines() if "not found" in line]
    if ctypes.util.find_library("xcb-cursor") is None:  # loaded at run time, so ldd cannot see it
        missing.append("libxcb-cursor.so.0")
    return sorted(set(missing))


def packages_for(libraries: list[str]) -> list[str]:
    return sorted({DEBIAN_PACKAGES.get(lib, lib) for lib in libraries})


def advice(libraries: list[str]) -> str:
    pkgs = " ".join(packages_for(libraries))
    return (f"Monster Studio cannot open its window: Qt needs system libraries that are missing here "
            f"({', '.join(libraries)}).\nInstall them, then start again:\n"
            f"  Debian/Ubuntu: sudo apt-get install {pkgs}\n"
            f"  Fedora: sudo dnf install xcb-util-cursor xcb-util-wm xcb-util-keysyms xcb-util-image "
            f"xcb-util-renderutil libxkbcommon-x11")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    missing = missing_libraries()
    if not missing:
        return 0
    can_install = "--install" in argv and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get")
    if can_install:
        pkgs = packages_for(missing)
        print(f"Installing what Qt needs to open a window: {' '.join(pkgs)}", file=sys.stderr)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        ok = subprocess.run(["apt-get", "install", "-y", "-q", *pkgs], env=env).returncode == 0
        if not ok:  # the package lists may be missing on a fresh machine
            subprocess.run(["apt-get", "update", "-q"], env=env)
            subprocess.run(["apt-get", "install", "-y", "-q", *pkgs], env=env)
        missing = missing_libraries()
        if not missing:
            return 0
    print(advice(missing), file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
