"""Linux double-click: the .desktop launcher lands in $XDG_DATA_HOME/applications with the icon."""
from __future__ import annotations

import configparser
import shutil
import subprocess

from PIL import Image

from monster_studio.ui import desktop_entry


def test_install_writes_a_valid_launcher(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data home"))
    path = desktop_entry.install()
    assert path == tmp_path / "data home" / "applications" / "monster-studio.desktop"
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(path, encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Name"] == "Monster Studio"
    assert entry["Terminal"] == "false" and "@" not in entry["Exec"]
    assert "monster-studio" in entry["Exec"] or "-m monster_studio" in entry["Exec"]
    icon = tmp_path / "data home" / "icons" / "hicolor" / "256x256" / "apps" / "monster-studio.png"
    assert entry["Icon"] == str(icon) and Image.open(icon).size == (256, 256)
    if shutil.which("desktop-file-validate"):
        result = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
    desktop_entry.uninstall()
    assert not path.exists() and not icon.exists()


def test_exec_quoting_follows_the_spec():
    assert desktop_entry._quote("/usr/bin/monster-studio") == "/usr/bin/monster-studio"
    assert desktop_entry._quote("/home/a b/.venv/bin/python") == '"/home/a b/.venv/bin/python"'
    assert desktop_entry._quote('/x/$HOME"/p') == '"/x/\\$HOME\\"/p"'


def test_the_shipped_icon_and_template():
    resources = desktop_entry.resources_dir()
    assert Image.open(resources / "icon.png").size == (256, 256)
    text = (resources / "monster-studio.desktop").read_text()
    assert "@EXEC@" in text and "@ICON@" in text
