"""The end of training in plain words: how often the model was right on pictures it had not
learned from, and, per class, how many it found and how often it was right when it said so."""
from __future__ import annotations

import html
import math

from monster_studio.core.wording import duration, percent, plural, visible
from monster_studio.ui import style


def _esc(text: str) -> str:
    return html.escape(visible(text))


def summary_html(summary) -> str:
    """`summary`: app.results.TrainSummary."""
    m = summary.metrics
    n_val = m.get("n_val", 0)
    acc = m.get("val_accuracy")
    per = m.get("per_class") or {}
    lines = [f"<p><b>Done in {duration(summary.seconds)}</b> with {_esc(summary.backbone)}, "
             f"learning from {plural(m.get('n_train', 0), 'picture')}.</p>"]
    if n_val and acc is not None and not math.isnan(acc):
        right = round(acc * n_val)
        colour = style.OK if acc >= 0.9 else (style.WARN if acc >= 0.6 else style.ERROR)
        lines.append(f"<p style='font-size:15px'>It named <b style='color:{colour}'>{right} of {n_val}</b> "
                     f"check pictures (ones it had not learned from) correctly: "
                     f"<b style='color:{colour}'>{percent(acc)}</b>.</p>")
    else:
        lines.append("<p>No pictures were kept aside to check the model (kept for checking: 0%), "
                     "so how often it is right is not known. Try it on new pictures.</p>")
    best, settings = m.get("best_epoch"), summary.settings or {}
    planned = settings.get("epochs")
    if best and planned:
        stopped = summary.epochs_run < planned
        lines.append(f"<p>Its best moment was epoch {best} of {planned}"
                     + (", and training stopped early once the check pictures stopped improving." if stopped else ".")
                     + "</p>")
    if settings.get("finetune"):
        lines.append(f"<p>{_finetune_words(summary)}</p>")
    if per and n_val:
        rows = "".join(
            f"<tr><td>{_esc(c)}</td><td align='right'>{percent(r.get('recall'))}</td>"
            f"<td align='right'>{percent(r.get('precision'))}</td><td align='right'>{r.get('support', 0)}</td></tr>"
            for c, r in per.items())
        lines.append("<table cellspacing='0' cellpadding='3' width='100%'>"
                     "<tr style='color:#5f6170'><th align='left'>Class</th><th align='right'>Found</th>"
                     "<th align='right'>Right when it says so</th><th align='right'>Checked on</th></tr>"
                     f"{rows}</table>")
        lines.append("<p style='color:#5f6170'><i>Found</i>: how many of a class's check pictures it named right. "
                     "<i>Right when it says so</i>: how often its answer was right.</p>")
    skipped = list(summary.skipped)
    if skipped:
        lines.append(f"<p style='color:{style.WARN}'>{plural(len(skipped), 'file')} "
                     f"{'were' if len(skipped) != 1 else 'was'} skipped (see the list on the left).</p>")
    return "".join(lines)


def _finetune_words(summary) -> str:
    took = duration(summary.finetune_seconds) if summary.finetune_seconds else "some time"
    gain = summary.finetune_gain
    if gain is None:
        return f"The last layers of the starting model were fine-tuned too ({took})."
    if gain > 0.005:
        return (f"Fine-tuning the starting model's last layers took {took} and gained "
                f"{gain * 100:.0f} points on the check pictures.")
    if gain < -0.005:
        return (f"Fine-tuning the starting model's last layers took {took} and lost {-gain * 100:.0f} points on the "
                "check pictures; training without fine-tuning is quicker and did better here.")
    return (f"Fine-tuning the starting model's last layers took {took} and gained nothing on the check pictures; "
            "training without it is quicker and does as well here.")


LIKELY_ROWS = 40


def likely_html(table) -> str:
    """The summary a training on this folder will show, as long as its usual words make it: the
    folder's classes and counts (`table`: core.events.ClassTable), a training of minutes that
    stopped early. It is never shown; the result's room is made from it once the folder is read,
    so the plot does not shrink (and redraw whole, 30 to 40 ms here) the moment the result arrives."""
    from types import SimpleNamespace

    shown = table.classes[:LIKELY_ROWS]  # more rows than a screen holds scroll anyway; 300 took 90 ms to measure
    per = {c: {"recall": 1.0, "precision": 1.0, "support": table.counts.get(c, 0)} for c in shown}
    metrics = {"n_val": table.n_val, "val_accuracy": 1.0, "per_class": per, "n_train": table.n_train,
               "best_epoch": 99}
    return summary_html(SimpleNamespace(metrics=metrics, seconds=754.0, backbone="EfficientNet-Lite0 (bundled)",
                                        settings={"epochs": 100}, epochs_run=99, skipped=list(table.skipped)))
