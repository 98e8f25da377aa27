"""`monster-studio classify MODEL.monster PATH...`: what each picture is, as lines, JSON or CSV."""
from __future__ import annotations

import json
import sys

from monster_studio.cli.evaluate import add_sure_share
from monster_studio.cli.words import fail, positive, say
from monster_studio.core.wording import visible


def add(sub) -> None:
    c = sub.add_parser("classify", help="classify pictures (or folders of pictures) with a model file")
    c.add_argument("model")
    c.add_argument("paths", nargs="+", metavar="PATH")
    c.add_argument("--top", type=positive, default=3)
    c.add_argument("--csv", metavar="OUT.csv", help="write the results as a spreadsheet file (rows kept on Ctrl+C)")
    c.add_argument("--json", action="store_true", help="one JSON line per picture")
    c.add_argument("--heatmaps", metavar="OUT_DIR",
                   help="also write, for each picture, a copy with a heatmap of what led to the answer into this "
                        "folder (made if needed)")
    add_sure_share(c)
    c.add_argument("--quiet", "-q", action="store_true")
    c.set_defaults(func=run)


class Heatmaps:
    """One overlay per classified picture in a folder: written atomically, under names that two
    pictures cannot share (the picture's name and a digest of its full path, and a number should
    two digests ever meet in one run)."""

    def __init__(self, model, folder: str) -> None:
        from pathlib import Path

        from monster_studio.core import files
        from monster_studio.core.errors import UserError

        self.model, self.folder = model, Path(folder).expanduser()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            from monster_studio.core.errors import os_error_words

            raise UserError(f"The folder for the heatmaps, {self.folder}, cannot be made: {os_error_words(exc)}.") from exc
        why = files.check_writable_folder(self.folder)
        if why:
            raise UserError(f"The heatmaps cannot be written: {why}. Choose another folder.")
        self.used: dict[str, str] = {}
        self.written = 0

    def name(self, path: str) -> str:
        from monster_studio.core import heatmap

        name = heatmap.file_name(path)
        stem, n = name, 2
        while self.used.get(name, path) != path:
            name = stem.replace(".heatmap.png", f"-{n}.heatmap.png")
            n += 1
        self.used[name] = path
        return name

    def write(self, prediction) -> str:
        """The overlay of the picture's heatmap for the class the model gave it; its path, or ''
        (with a line on stderr) when it could not be made."""
        from monster_studio.core import heatmap
        from monster_studio.core.errors import UserError, os_error_words
        from monster_studio.core.events import run_to_end

        index = self.model.classes.index(prediction.label)
        try:
            hm = run_to_end(heatmap.explain(self.model, prediction.path, index))
            if hm is None:
                return ""
            out = heatmap.save_overlay(hm, self.folder, self.name(prediction.path))
        except UserError as exc:
            say(f"no heatmap for {prediction.path}: {exc}")
            return ""
        except OSError as exc:
            say(f"no heatmap for {prediction.path}: {os_error_words(exc)}")
            return ""
        self.written += 1
        return str(out)


def run(args) -> int:
    from monster_studio.cli.progress import Bars
    from monster_studio.core import modelfile, predict, wording
    from monster_studio.core.events import Cancel, Skipped

    model = modelfile.load(args.model)
    bars = Bars(enabled=not args.quiet and not args.json)
    k = max(1, min(args.top, len(model.classes)))
    table = wording.CsvAppender(args.csv, wording.classification_header(k)) if args.csv else None
    maps = Heatmaps(model, args.heatmaps) if args.heatmaps else None
    n_ok = n_bad = 0
    interrupted = failed = False
    try:
        for r in predict.classify(model, args.paths, top_k=k, cancel=Cancel(), sure_share=args.sure_share):
            if bars(r):
                continue
            if isinstance(r, Skipped):
                n_bad += 1
                if args.json:
                    print(json.dumps({"path": r.path, "top": [], "error": r.reason}), flush=True)
                else:
                    say(f"skipped {r.path}: {r.reason}", quiet=args.quiet and bool(table))
            elif isinstance(r, predict.Prediction):
                n_ok += 1
                drawn = maps.write(r) if maps is not None else ""
                if args.json:
                    print(json.dumps(r.to_dict() | ({"heatmap": drawn} if maps is not None else {})), flush=True)
                elif not table:
                    tops = ", ".join(f"{lab} {p:.1%}" for lab, p in r.top)
                    parts = [r.path, tops] + ([f"not sure: {r.unsure_reason}"] if r.unsure else [])
                    # Each part made visible, the tabs between them kept (visible() writes a tab out as \x09).
                    print("\t".join(visible(part) for part in parts), flush=True)
            else:
                continue
            if table is not None:
                table.add(wording.classification_row(r, k))
    except KeyboardInterrupt:
        interrupted = True
    except BaseException:
        failed = True
        raise
    finally:
        bars.close()
        if table is not None:
            # The rows done so far, also after Ctrl+C; a run that failed before its first row leaves
            # any earlier file as it was.
            table.close(keep=not failed or table.rows > 0)
    if interrupted:
        if table is not None:
            print(visible(f"\nstopped; the {table.rows} rows done so far are in {args.csv}"), file=sys.stderr)
        raise KeyboardInterrupt
    if table is not None and not args.json:
        say(f"{n_ok} picture(s) classified into {args.csv}; {n_bad} skipped")
    if maps is not None and not args.json:
        say(f"{maps.written} heatmap(s) written into {maps.folder}")
    if n_ok == 0:
        return fail("no picture could be classified" + (f" ({n_bad} skipped)" if n_bad else ""))
    return 0
