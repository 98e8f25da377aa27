"""The Linux check that turns Qt's abort on missing xcb libraries into advice a person can follow."""
from __future__ import annotations

import subprocess

from monster_studio.ui import platform_check


def test_missing_libraries_become_install_advice(monkeypatch):
    monkeypatch.setattr(platform_check.sys, "platform", "linux")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    ldd = ("\tlibxcb-icccm.so.4 => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n"
           "\tlibxcb-keysyms.so.1 => not found\n")
    monkeypatch.setattr(platform_check.subprocess, "run",
                        lambda *a, **k: subprocess.CompletedProcess(a, 0, stdout=ldd, stderr=""))
    monkeypatch.setattr(platform_check.ctypes.util, "find_library", lambda name: None)
    missing = platform_check.missing_libraries()
    assert missing == ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    text = platform_check.advice(missing)
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" in text


def test_nothing_to_check_offscreen_or_elsewhere(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert platform_check.missing_libraries() == []
    monkeypatch.setattr(platform_check.sys, "platform", "win32")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert platform_check.missing_libraries() == []
    assert platform_check.main([]) == 0
