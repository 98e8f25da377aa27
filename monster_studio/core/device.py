"""Which processor the model work runs on: CUDA or Apple MPS when present, else the CPU."""
from __future__ import annotations

import torch


def choices() -> list[str]:
    """What this computer offers: "auto", "cpu", then any accelerator, best first."""
    out = ["auto", "cpu"]
    if torch.cuda.is_available():
        out.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append("mps")
    return out


def pick(preference: str = "auto") -> torch.device:
    """The device for a preference; "auto" takes the best one present. Raises ValueError, in
    words, for one this computer does not have."""
    available = choices()
    if not preference or preference == "auto":
        return torch.device(available[2] if len(available) > 2 else "cpu")
    if preference not in available:
        raise ValueError(f"This computer has no '{preference}' device; choose one of: {', '.join(available)}.")
    return torch.device(preference)
