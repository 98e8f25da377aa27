"""Monster Studio: turn a folder of labeled pictures into an image classifier."""

__version__ = "0.1.0"
APP_NAME = "Monster Studio"
MODEL_SUFFIX = ".monster"  # here, not in core.modelfile, so the window can use it without importing torch
