"""Which processor: the CPU answered without importing torch where there is plainly no accelerator,
CUDA (or MPS) still picked when torch says it is there, and the hub folder found without torch."""
from __future__ import annotations

import glob
import os
import subprocess
import sys

import pytest
import torch

from monster_studio.core import device, weights


def fresh(script: str, **env) -> str:
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         env={**os.environ, **env})
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux") or bool(glob.glob("/dev/nvidia*") or os.path.exists("/dev/kfd")
                                                                  or os.path.exists("/dev/dxg")),
                    reason="only where the computer plainly has no accelerator")
def test_no_accelerator_answers_cpu_without_torch():
    got = fresh("import sys\nfrom monster_studio.core import device\n"
                "print(device.pick(), device.pick('auto').type, device.choices(), 'torch' in sys.modules)")
    assert got == "cpu cpu ['auto', 'cpu'] False"


def test_an_accelerator_is_still_picked_when_torch_has_one(monkeypatch):
    monkeypatch.setattr(device, "_accelerator_possible", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device.choices()[:3] == ["auto", "cpu", "cuda"]
    picked = device.pick()
    assert picked == "cuda" and picked.type == "cuda" and picked.index is None
    assert device.pick("cpu").type == "cpu"


def test_a_device_this_computer_lacks_is_refused_in_words(monkeypatch):
    monkeypatch.setattr(device, "_accelerator_possible", lambda: False)
    with pytest.raises(ValueError, match="no 'cuda' device; choose one of: auto, cpu"):
        device.pick("cuda")


def test_a_picked_device_is_taken_by_torch_as_it_is():
    cpu = device.pick("cpu")
    assert torch.zeros(2).to(cpu).device.type == "cpu" and torch.device(cpu) == torch.device("cpu")
    assert torch.tensor([1], device=cpu).device.type == "cpu"
    assert device.Device("cuda:1").type == "cuda" and device.Device("cuda:1").index == 1


@pytest.mark.parametrize("env", [{"TORCH_HOME": "/tmp/th"}, {"TORCH_HOME": "~/th"}, {"XDG_CACHE_HOME": "/tmp/xdg"}, {}])
def test_the_hub_folder_is_torchs_own_without_importing_it(env):
    script = ("import sys\nfrom monster_studio.core import weights\nprint(weights.checkpoints_dir())\n"
              "print('torch' in sys.modules)\nimport torch\nprint(torch.hub.get_dir() + '/checkpoints')")
    base = {k: v for k, v in os.environ.items() if k not in ("TORCH_HOME", "XDG_CACHE_HOME")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env={**base, **env})
    assert out.returncode == 0, out.stderr[-2000:]
    ours, imported, torchs = out.stdout.strip().splitlines()
    assert imported == "False" and ours == torchs


def test_once_torch_is_imported_its_hub_setting_counts(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    assert weights.checkpoints_dir() == tmp_path / "hub" / "checkpoints"
