"""File > Export Model… in the window: the trained classifier as ONNX and TorchScript files that
other programs read, checked against the app's own answers."""
# ruff: noqa: F811  (the fixtures are imported from test_app_support and used as parameters)
from __future__ import annotations

import json

import numpy as np
from test_app_support import Events, app_settings, choose_folder, window  # noqa: F401

from monster_studio.ui.export_model import export_to, exportable_key


def test_export_the_trained_model_from_the_window(qtbot, window, sample_dir, tmp_path):
    w, tp = window, window.train_page
    assert not w.export_model_action.isEnabled() and exportable_key(w) == ""
    choose_folder(qtbot, w, sample_dir)
    events = Events(w.studio)
    tp.options.epochs.setValue(3)
    tp.start_training()
    events.wait(qtbot, "finished")
    qtbot.waitUntil(lambda: tp.has_model and w.export_model_action.isEnabled())
    assert exportable_key(w) == "trained"

    export_to(w, "trained", str(tmp_path / "monsters"), "onnx")  # the suffix is added
    events.wait(qtbot, "idle", lambda task, outcome: task == "export", timeout=120_000)
    assert events.first("idle", lambda task, outcome: task == "export") == ("export", "ok")
    path = tmp_path / "monsters.onnx"
    assert path.is_file() and "Exported to" in tp.banner.text.text()

    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["classes"]) == ["cyclops", "ghost", "mummy", "slime", "vampire"]
    assert json.loads(meta["preprocess"])["crop_size"] == 224
    probs = session.run(None, {session.get_inputs()[0].name: np.zeros((2, 3, 224, 224), np.float32)})[0]
    assert probs.shape == (2, 5) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)

    events.clear()
    export_to(w, "trained", str(tmp_path / "monsters.pt"), "torchscript")
    events.wait(qtbot, "idle", lambda task, outcome: task == "export", timeout=120_000)
    assert (tmp_path / "monsters.pt").is_file()

    events.clear()
    export_to(w, "trained", str(tmp_path / "no" / "such" / "folder" / "m.onnx"), "onnx")  # refused in words
    events.wait(qtbot, "idle", lambda task, outcome: task == "export", timeout=60_000)
    qtbot.waitUntil(lambda: tp.banner.level == "error")
    assert "Traceback" not in tp.banner.text.text()
