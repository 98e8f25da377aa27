"""`monster-studio export MODEL.monster --onnx OUT.onnx --torchscript OUT.pt`: the model as a file
other programs read (onnxruntime in any language, or PyTorch), pixels in, probabilities out."""
from __future__ import annotations

from monster_studio.cli.words import fail, say


def add(sub) -> None:
    e = sub.add_parser("export", help="write a model as ONNX and/or TorchScript, for use without Monster Studio",
                       description="One network from normalized pixels (N, 3, H, W float32) to class probabilities; "
                                   "the class names and the preprocessing are written in the file (ONNX metadata "
                                   "'classes' and 'preprocess', as JSON).")
    e.add_argument("model", help="the model file (.monster)")
    e.add_argument("--onnx", metavar="OUT.onnx", help="write an ONNX file (onnxruntime, any language)")
    e.add_argument("--torchscript", metavar="OUT.pt", help="write a TorchScript file (torch.jit.load)")
    e.add_argument("--quiet", "-q", action="store_true")
    e.set_defaults(func=run)


def run(args) -> int:
    if not args.onnx and not args.torchscript:
        return fail("say what to write: --onnx OUT.onnx, --torchscript OUT.pt, or both", 2)
    from monster_studio.cli.progress import Bars
    from monster_studio.core import export, modelfile
    from monster_studio.core.events import Cancel, run_to_end

    model = modelfile.load(args.model)
    bars = Bars(enabled=not args.quiet)
    jobs = [(export.to_onnx, args.onnx), (export.to_torchscript, args.torchscript)]
    for write, target in jobs:
        if not target:
            continue
        done = run_to_end(write(model, target, Cancel()), bars)
        bars.close()
        say(f"Wrote {done.path} ({done.kind}, {done.bytes / 1e6:.1f} MB): {len(model.classes)} classes, "
            f"{model.preprocess.crop_size} px pictures; gives the app's answers to within {done.max_diff:.1g}",
            quiet=args.quiet)
    return 0
