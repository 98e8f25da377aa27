"""The catalogue, head replacement and freezing for every family, and weight loading through
torchvision's real code from a planted hub cache (random numbers, official file names)."""
from __future__ import annotations

import pickle
import urllib.error
import urllib.request

import pytest
import torch
from torch import nn

from monster_studio.core import backbones, catalogue, weights
from monster_studio.core.catalogue import BACKBONES as CATALOGUE


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    return tmp_path


def test_catalogue_records_are_complete():
    assert {"efficientnet_lite0", "vgg16", "resnet18", "resnet50", "inception_v3", "mobilenet_v3_large",
            "efficientnet_b0", "convnext_tiny", "vit_b_16"} <= set(CATALOGUE)
    assert catalogue.DEFAULT_BACKBONE == "efficientnet_lite0" and CATALOGUE["efficientnet_lite0"].bundled
    for spec in CATALOGUE.values():
        d = spec.describe()
        assert d["num_params"] > 1_000_000 and 60 < d["imagenet_top1"] < 90 and d["download_mb"] > 1
        assert d["speed"] in {"fast", "balanced", "most accurate"} and len(d["guidance"]) > 10
        assert d["license"] and d["weights_source"] and d["input_size"] in (224, 240, 260, 299)
    assert CATALOGUE["inception_v3"].preprocess.crop_size == 299
    assert CATALOGUE["efficientnet_lite0"].preprocess.mean == (0.5, 0.5, 0.5)


def test_unknown_backbone_message():
    with pytest.raises(catalogue.UnknownModel, match="Choose one of"):
        catalogue.backbone("alexnet")


@pytest.mark.parametrize("backbone_id", [b for b in CATALOGUE if CATALOGUE[b].builder == "torchvision"])
def test_catalogue_data_matches_torchvisions_own_metadata(backbone_id):
    """The catalogue writes torchvision's figures as data (so listing needs no torch); they must
    be the ones torchvision's weights carry."""
    from torchvision.models import get_weight

    spec = CATALOGUE[backbone_id]
    w = get_weight(spec.tv_weights)
    t = w.transforms()
    assert spec.weights.url == w.url and spec.weights_filename == w.url.rsplit("/", 1)[-1]
    assert spec.num_params == w.meta["num_params"] and spec.download_mb == w.meta["_file_size"]
    assert spec.imagenet_top1 == w.meta["_metrics"]["ImageNet-1K"]["acc@1"]
    assert (spec.preprocess.resize_size, spec.preprocess.crop_size) == (t.resize_size[0], t.crop_size[0])
    assert spec.preprocess.mean == tuple(t.mean) and spec.preprocess.std == tuple(t.std)
    assert spec.preprocess.interpolation == t.interpolation.value
    assert spec.cam_layer and backbones.architecture(spec).get_submodule(spec.cam_layer) is not None


def test_detector_data_matches_torchvisions_own_metadata():
    from torchvision.models import get_weight

    for spec in catalogue.DETECTORS.values():
        w = get_weight(spec.tv_weights)
        assert spec.weights.url == w.url and spec.download_mb == w.meta["_file_size"]
        assert spec.num_params == w.meta["num_params"] and spec.box_map == w.meta["_metrics"]["COCO-val2017"]["box_map"]


@pytest.mark.parametrize("backbone_id", list(CATALOGUE))
def test_head_replaced_where_the_family_keeps_it(backbone_id):
    spec = CATALOGUE[backbone_id]
    model = backbones.architecture(spec)
    head = backbones.replace_head(model, spec, 3)
    assert model.get_submodule(spec.head_path) is head
    assert isinstance(head, nn.Linear) and (head.in_features, head.out_features) == (spec.feature_size, 3)

    trainable = backbones.freeze(model, spec)
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    assert names == {f"{spec.head_path}.weight", f"{spec.head_path}.bias"}
    assert len(trainable) == 2

    size = spec.input_size
    x = torch.randn(1, 3, size, size)
    model.eval()
    with torch.inference_mode():
        assert model(x).shape == (1, 3)
        with backbones.headless(model, spec):
            assert model(x).shape == (1, spec.feature_size)
    assert model.get_submodule(spec.head_path) is head  # put back

    backbones.freeze(model, spec, finetune=True)
    tuned = {n for n, p in model.named_parameters() if p.requires_grad}
    first = next(iter(dict(model.named_parameters())))
    assert len(tuned) > 2 and first not in tuned
    assert all(any(n.startswith(m + ".") for m in (spec.head_path, *spec.finetune_modules)) for n in tuned)


def test_bundled_lite0_has_real_imagenet_weights():
    spec = CATALOGUE["efficientnet_lite0"]
    model = weights.pretrained(spec)
    state = weights.lite_state_dict(spec, model)
    assert len(state) == 296
    for k, v in model.state_dict().items():
        if k in state:
            assert torch.equal(v, state[k])
    assert set(state) <= set(model.state_dict())
    # Trained batch-norm statistics, not the fresh defaults (mean 0, variance 1).
    assert not torch.allclose(model.bn1.running_var, torch.ones_like(model.bn1.running_var))


def _plant(torch_home, spec, state):
    folder = torch_home / "hub" / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(state, folder / spec.weights_filename)
    return folder / spec.weights_filename


@pytest.mark.parametrize("backbone_id", ["resnet18", "inception_v3"])
def test_planted_weights_load_through_torchvision(torch_home, backbone_id):
    spec = CATALOGUE[backbone_id]
    assert weights.status(spec) == "download"
    assert "download of" in weights.status_text(spec)
    reference = backbones.architecture(spec)
    state = reference.state_dict()
    if backbone_id == "inception_v3":  # the official file also holds the auxiliary head
        from torchvision.models import inception_v3

        state = inception_v3(weights=None, aux_logits=True, init_weights=False).state_dict()
    path = _plant(torch_home, spec, state)
    assert weights.status(spec) == "on disk" and weights.cached_file(spec) == path
    model = weights.pretrained(spec)
    loaded = model.state_dict()
    for k, v in loaded.items():
        assert torch.equal(v, state[k]), k
    assert not model.training


def test_offline_download_fails_with_the_way_out(torch_home, monkeypatch):
    def no_network(*a, **k):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    spec = CATALOGUE["mobilenet_v3_large"]
    with pytest.raises(weights.WeightsUnavailable) as err:
        weights.pretrained(spec)
    text = err.value.terminal_text()
    assert spec.weights_filename in text and spec.weights_source in text
    assert str(torch_home) in text and "import-weights mobilenet_v3_large" in text
    assert not list((torch_home / "hub" / "checkpoints").glob("*"))


class _FakeResponse:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0
        self.headers = {"Content-Length": str(len(data))}

    def read(self, n):
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_download_reports_progress_and_refuses_a_damaged_file(torch_home, monkeypatch):
    data = b"x" * (3 * weights.CHUNK + 5)
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: _FakeResponse(data))
    spec = CATALOGUE["resnet18"]
    events = []
    with pytest.raises(weights.WeightsUnavailable, match="checksum"):
        for ev in weights.download(spec):
            events.append(ev)
    assert [e.done for e in events] == [weights.CHUNK, 2 * weights.CHUNK, 3 * weights.CHUNK, len(data)]
    assert all(e.total == len(data) and e.unit == "bytes" and e.stage == "download" for e in events)
    assert not list((torch_home / "hub" / "checkpoints").iterdir())  # no partial file left


def test_import_weights_checks_the_architecture(torch_home, tmp_path):
    spec = CATALOGUE["resnet18"]
    good = tmp_path / "from-a-friend.pth"
    torch.save({"state_dict": backbones.architecture(spec).state_dict()}, good)
    wrong = tmp_path / "wrong.pth"
    torch.save(backbones.architecture(CATALOGUE["mobilenet_v3_large"]).state_dict(), wrong)
    evil = tmp_path / "evil.pth"
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    evil.write_bytes(pickle.dumps(Evil()))

    with pytest.raises(weights.WeightsUnavailable, match="does not fit"):
        weights.import_weights(spec, wrong)
    with pytest.raises(weights.WeightsUnavailable, match="safely"):
        weights.import_weights(spec, evil)
    assert not marker.exists()
    assert weights.status(spec) == "download"
    dest = weights.import_weights(spec, good)
    assert dest.name == spec.weights_filename and weights.status(spec) == "on disk"
    weights.pretrained(spec)  # and it loads through torchvision
    with pytest.raises(weights.WeightsUnavailable, match="comes with the app"):
        weights.import_weights(CATALOGUE["efficientnet_lite0"], good)


class _StalledResponse(_FakeResponse):
    """Sends one chunk, then nothing: every read waits out its socket timeout."""

    def read(self, n):
        if self.pos == 0:
            self.pos = n
            return b"x" * n
        raise TimeoutError("timed out")


def test_a_stalled_download_honours_stop_and_gives_up(torch_home, monkeypatch):
    from monster_studio.core.events import Cancel, Cancelled

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: _StalledResponse(b"x" * (4 * weights.CHUNK)))
    spec = CATALOGUE["resnet18"]
    cancel = Cancel()
    gen = weights.download(spec, cancel)
    assert next(gen).done == weights.CHUNK
    cancel.set()
    with pytest.raises(Cancelled):
        next(gen)
    with pytest.raises(weights.WeightsUnavailable, match="stalled"):
        list(weights.download(spec, Cancel(), stall_limit=0.0))
    assert not list((torch_home / "hub" / "checkpoints").iterdir())


def test_a_planted_pickle_under_the_official_name_is_refused(torch_home, tmp_path):
    """torchvision's loader unpickles without weights_only; the file is checked safely first."""
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    spec = CATALOGUE["resnet18"]
    folder = torch_home / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.save({"fc.weight": Evil()}, folder / spec.weights_filename)
    with pytest.raises(weights.WeightsUnavailable, match="read safely"):
        weights.pretrained(spec)
    assert not marker.exists()
