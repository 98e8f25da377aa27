"""Weights that are missing or unusable, in words for the window. The core's message ends with a
way out for the command line ("monster-studio import-weights ..."); in the window the way out is
a button, so the pages phrase it here, from the details the error carries (see
core.weights.WeightsUnavailable: backbone, filename, url, cache). One place for both pages."""
from __future__ import annotations

import re

IMPORT_BUTTON = "Import weights file…"
_COMMAND = re.compile(r"\s*(?:with|run|using)?:?\s*monster-studio [^\n]*")


def what_happened(message: str) -> str:
    """The core's account without its command-line advice."""
    text = message.split("\nWay out:")[0]
    if "monster-studio " in text:  # advice woven into the sentence ("... import a good copy with: monster-studio ...")
        text = _COMMAND.sub("", text).rstrip(" ,;:") + "."
    return text.strip()


def weights_text(info: dict, *alternatives: str) -> str:
    """What went wrong, then the way out: get the file and press the import button, or one of the
    page's `alternatives` (e.g. "train with the bundled backbone, which needs no download")."""
    happened = what_happened(info.get("message", ""))
    filename, url, cache = info.get("filename"), info.get("url"), info.get("cache")
    if filename and url:
        # The file, where it comes from and where it goes are said once, here, in the window's words.
        happened = happened.split("\nFile:")[0]
        get = (f"on a computer with internet, download {filename} from {url}, bring it here and press "
               f"{IMPORT_BUTTON}" + (f" (it installs the file in {cache})" if cache else ""))
    else:
        get = f"press {IMPORT_BUTTON} to install a good copy of the weights file"
    return f"{happened}\n\nWay out: " + "; or ".join([get, *alternatives]) + "."


__all__ = ["IMPORT_BUTTON", "weights_text", "what_happened"]
