"""`monster-studio evaluate MODEL.monster DIR`: how well a model does on a labeled folder (one
subfolder per class, or its test/ or val/ part): accuracy, per-class figures, the confusion
matrix and the mistakes, as lines or one JSON line."""
from __future__ import annotations

import sys

from monster_studio.cli.words import count, fail, say
from monster_studio.core.wording import percent, plural, visible


def sure_share(text: str) -> float:
    import argparse

    from monster_studio.core import unsure

    try:
        return unsure.check_share(float(text))
    except (ValueError, unsure.SureShareError) as exc:
        raise argparse.ArgumentTypeError(f"must be from {unsure.MIN_SURE_SHARE} to 1, e.g. "
                                         f"{unsure.DEFAULT_SURE_SHARE}") from exc


def add_sure_share(parser) -> None:
    """The "not sure" setting, the same on every command that classifies."""
    parser.add_argument("--sure-share", type=sure_share, default=None, metavar="SHARE",
                        help="the share of its check pictures the model is to be sure of (default 0.95); lower calls "
                             "more pictures 'not sure', 1 only those less sure than any check picture")


def add(sub) -> None:
    e = sub.add_parser("evaluate", help="check a model on a folder of labeled pictures (one subfolder per class)")
    e.add_argument("model")
    e.add_argument("folder", metavar="DIR", help="one subfolder per class, or a folder with train/ and test/ (or val/)")
    e.add_argument("--json", action="store_true", help="one JSON line with every figure")
    e.add_argument("--mistakes", type=count, default=20, metavar="N", help="how many mistakes to list (default 20)")
    add_sure_share(e)
    e.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    e.set_defaults(func=run)


def _figure(x) -> str:
    return "–" if x is None else f"{x:.2f}"


def run(args) -> int:
    from monster_studio.cli.progress import Bars
    from monster_studio.core import evaluate, modelfile
    from monster_studio.core.events import Cancel, run_to_end

    model = modelfile.load(args.model)
    bars = Bars(enabled=not args.quiet and not args.json)
    steps = evaluate.evaluate(model, args.folder, Cancel(), sure_share=args.sure_share)
    try:
        result = run_to_end(steps, bars)
    finally:
        bars.close()
    if result is None:
        return fail("the check was stopped before it finished", 130)
    if args.json:
        print(result.to_json(), flush=True)
    else:
        _report(result, args.mistakes)
    if result.count == 0:
        return fail("no picture of a class the model knows could be classified"
                    + (f" ({len(result.skipped)} skipped)" if result.skipped else ""))
    return 0


def _report(r, mistakes: int) -> None:
    print(visible(f"Checked on {plural(r.count, 'picture')} in {r.folder}: {r.correct} right, accuracy "
                  f"{percent(r.accuracy, 1)}"))
    if r.unsure_count:
        print(f"Not sure of {r.unsure_count}; on the rest, accuracy {percent(r.sure_accuracy, 1)}")
    width = max(len(c) for c in r.classes)
    print(f"\n{'class':<{width}}  precision  recall    F1  pictures")
    for c, m in r.per_class.items():
        print(visible(f"{c:<{width}}  {_figure(m['precision']):>9}  {_figure(m['recall']):>6}  {_figure(m['f1']):>4}  "
                      f"{m['support']:>8}"))
    print("\nConfusion matrix (rows: the true class; columns: what the model said):")
    cell = max(5, max(len(str(v)) for row in r.confusion for v in row) + 1)
    short = [c[:cell - 1] for c in r.classes]
    print(visible(" " * width + "".join(f"{s:>{cell}}" for s in short)))
    for c, row in zip(r.classes, r.confusion):
        print(visible(f"{c:<{width}}" + "".join(f"{v:>{cell}}" for v in row)))
    wrong = r.misclassified
    if wrong:
        print(f"\n{plural(len(wrong), 'mistake')}, the most confident first:")
        for m in wrong[:mistakes]:
            said = f"is {m.true}, said {m.predicted} {m.confidence:.1%}" + (
                f" (not sure: {m.unsure_reason})" if m.unsure else "")
            print(f"{visible(m.path)}\t{visible(said)}")
        if len(wrong) > mistakes:
            print(f"... and {len(wrong) - mistakes} more (--mistakes N, or --json for all)")
    if r.unknown:
        print()
    for kind, n in r.unknown_kinds().items():
        flagged = sum(u.unsure for u in r.unknown if u.true == kind)
        print(visible(f"not counted: {plural(n, 'picture')} in '{kind}', a class the model does not know "
            f"(it was not sure of {flagged})"))
    sys.stdout.flush()  # the skipped files (stderr) after the report, not inside it
    for s in r.skipped:
        say(f"skipped {s.path}: {s.reason}")
