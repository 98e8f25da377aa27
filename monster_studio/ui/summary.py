"""The end of training in plain words: how often the model was right on pictures it had not
learned from, and, per class, how many it found and how often it was right when it said so."""
from __future__ import annotations

import html
import math

from monster_studio.ui import style


def _pct(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x * 100:.0f}%"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 1 else "under a second"
    m, s = divmod(round(seconds), 60)
    return f"{m} min {s:02d} s"


def summary_html(summary: dict, epochs_run: int | None = None) -> str:
    m = summary["metrics"]
    n_val = m.get("n_val", 0)
    acc = m.get("val_accuracy")
    per = (m.get("per_class") or {})
    backbone = html.escape(summary.get("backbone", ""))
    lines = [f"<p><b>Done in {_duration(summary.get('seconds', 0))}</b> with {backbone}, "
             f"learning from {m.get('n_train', 0)} pictures.</p>"]
    if n_val and acc is not None and not math.isnan(acc):
        right = round(acc * n_val)
        colour = style.OK if acc >= 0.9 else (style.WARN if acc >= 0.6 else style.ERROR)
        lines.append(f"<p style='font-size:15px'>It named <b style='color:{colour}'>{right} of {n_val}</b> "
                     f"pictures it had not learned from correctly: <b style='color:{colour}'>{acc * 100:.0f}%</b>.</p>")
    else:
        lines.append("<p>No pictures were kept aside to check the model (validation share 0%), "
                     "so how often it is right is not known. Try it on new pictures.</p>")
    best, settings = m.get("best_epoch"), summary.get("settings") or {}
    planned = settings.get("epochs")
    if best and planned:
        stopped = epochs_run is not None and epochs_run < planned
        lines.append(f"<p>Its best moment was epoch {best} of {planned}"
                     + (", and training stopped early once the check pictures stopped improving." if stopped else ".")
                     + (" The last layers of the backbone were fine-tuned too." if settings.get("finetune") else "")
                     + "</p>")
    if per and n_val:
        rows = "".join(
            f"<tr><td>{html.escape(c)}</td><td align='right'>{_pct(r.get('recall'))}</td>"
            f"<td align='right'>{_pct(r.get('precision'))}</td><td align='right'>{r.get('support', 0)}</td></tr>"
            for c, r in per.items())
        lines.append("<table cellspacing='0' cellpadding='3' width='100%'>"
                     "<tr style='color:#5f6170'><th align='left'>Class</th><th align='right'>Found</th>"
                     "<th align='right'>Right when it says so</th><th align='right'>Checked on</th></tr>"
                     f"{rows}</table>")
        lines.append("<p style='color:#5f6170'><i>Found</i>: of the check pictures of a class, how many the model "
                     "named correctly. <i>Right when it says so</i>: when the model names a class, how often that "
                     "is correct.</p>")
    skipped = summary.get("skipped") or []
    if skipped:
        lines.append(f"<p style='color:{style.WARN}'>{len(skipped)} file{'s were' if len(skipped) != 1 else ' was'} "
                     "skipped (see the list on the left).</p>")
    return "".join(lines)
