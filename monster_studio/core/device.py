"""Which processor the model work runs on: CUDA or Apple MPS when present, else the CPU.

Asking torch costs its import (about 3 s of a cold process on a small CPU), so where the computer
plainly has no accelerator torch is not asked: on Linux without an NVIDIA (/dev/nvidia*), ROCm
(/dev/kfd) or WSL (/dev/dxg) device, and on Windows without NVIDIA's driver (nvcuda.dll). Anywhere
else (macOS, where MPS may be there; a device node present; torch already imported) torch answers.
"""
from __future__ import annotations

import glob
import os
import sys


class Device(str):
    """A device's name as torch takes it ("cpu", "cuda", "mps", "cuda:1"), with torch.device's
    `type` and `index`, so callers can ask `device.type` without torch being imported and hand it
    to any torch call that takes a device."""

    @property
    def type(self) -> str:
        return self.split(":", 1)[0]

    @property
    def index(self) -> int | None:
        _, _, index = self.partition(":")
        return int(index) if index else None


def _accelerator_possible() -> bool:
    """False only where this computer plainly has no CUDA or MPS device (no torch import)."""
    if "torch" in sys.modules:
        return True  # asking costs nothing now
    if sys.platform.startswith("linux"):
        return bool(glob.glob("/dev/nvidia[0-9]*") or os.path.exists("/dev/nvidiactl")
                    or os.path.exists("/dev/kfd") or os.path.exists("/dev/dxg"))
    if sys.platform == "win32":
        system = os.path.join(os.environ.get("SystemRoot", r"C:\Windows"), "System32")
        return os.path.exists(os.path.join(system, "nvcuda.dll"))
    return True  # macOS (Apple silicon, or an AMD card on an Intel Mac) and anything else: torch knows


def choices() -> list[str]:
    """What this computer offers: "auto", "cpu", then any accelerator, best first."""
    out = ["auto", "cpu"]
    if not _accelerator_possible():
        return out
    import torch

    if torch.cuda.is_available():
        out.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append("mps")
    return out


def pick(preference: str = "auto") -> Device:
    """The device for a preference; "auto" takes the best one present. Raises ValueError, in
    words, for one this computer does not have."""
    if preference == "cpu":
        return Device("cpu")
    available = choices()
    if not preference or preference == "auto":
        return Device(available[2] if len(available) > 2 else "cpu")
    if preference not in available:
        raise ValueError(f"This computer has no '{preference}' device; choose one of: {', '.join(available)}.")
    return Device(preference)

