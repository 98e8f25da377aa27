"""The Train page's "Check" tab: Check my pictures. It runs the check (app.jobs.check) on the
chosen folder with the form's starting model, split and seed, and lists what would mislead a
model: pictures probably in the wrong class (most likely first), copies shared by the pictures it
learns from and the check pictures, other copies, and pictures unlike the rest of their class.
Each row offers its safe change (through FixActions); the check itself changes no file.

It shows one folder's findings only: another folder clears it, and a check still running for
the folder left behind is given up."""
from __future__ import annotations

import html
import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from monster_studio.app.jobs import check as check_jobs
from monster_studio.core.wording import duration, visible
from monster_studio.ui.check_rows import (
    FindingRow,
    copies_text,
    issue_text,
    leak_text,
    outlier_text,
)
from monster_studio.ui.style import SPACING, role

INTRO = ("<p><b>Check my pictures</b> looks for what would mislead the model: pictures that are probably in the "
         "wrong class, copies (worst when one copy is among the check pictures), and pictures unlike the rest of "
         "their class.</p><p>It only reads your pictures: nothing changes unless you choose one of the changes it "
         "offers, and each can be undone (Edit &gt; Undo).</p>")


def _real(path: str) -> str:
    return os.path.realpath(path)


def _same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and Path(a).expanduser() == Path(b).expanduser()


class CheckView(QWidget):
    def __init__(self, window, fixes, parent=None) -> None:
        super().__init__(parent)
        self.window, self.fixes = window, fixes
        self.studio, self.state, self.page = window.studio, window.studio.state, window.train_page
        self.request = None  # the check running for this view
        self.checked = None  # check.Checked shown
        self.rows: list[FindingRow] = []
        self.buttons: list[QPushButton] = []  # every "Check my pictures" button (here and beside Train)
        self._failed = False
        self._shown_for = 0  # the id of the request whose findings are shown
        box = QVBoxLayout(self)
        box.setContentsMargins(0, SPACING, 0, 0)
        box.setSpacing(SPACING // 2)
        head = QHBoxLayout()
        self.check_button = self.add_button(QPushButton())
        head.addWidget(self.check_button)
        head.addStretch(1)
        box.addLayout(head)
        self.summary = QLabel(INTRO)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.addWidget(self.summary)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.body = QWidget()
        self.body.setObjectName("cards")
        self.list = QVBoxLayout(self.body)
        self.list.setContentsMargins(0, 0, 4, 0)
        self.list.setSpacing(6)
        self.list.addStretch(1)
        self.scroll.setWidget(self.body)
        box.addWidget(self.scroll, 1)

        s = self.state
        s.engine.changed.connect(self._update)
        s.folder.changed.connect(self._on_folder)
        s.training.changed.connect(self._update)
        s.jobs.changed.connect(self._on_jobs)
        s.jobs.failed.connect(self._on_failed)
        self.studio.result.connect(self._on_result)
        fixes.changed.connect(self._on_changed)
        self._update()

    def add_button(self, button: QPushButton) -> QPushButton:
        """A "Check my pictures" button that this view keeps up to date."""
        button.clicked.connect(self.start)
        self.buttons.append(button)
        self._update()
        return button

    # ------------------------------------------------------------------ intent

    def start(self) -> None:
        """Check the chosen folder (or, while a check runs, stop it)."""
        if self.request is not None:
            self.studio.cancel(self.request)
            return
        if not self._can_check():
            if not self.state.folder.path:
                self.page.banner.show_message("Choose a folder with your pictures first.", "info")
            return
        settings = self.page.settings_dict()
        folder = self.state.folder.path
        self._failed = False
        self.request = self.studio.submit("check", check_jobs.check, folder, settings["backbone"],
                                          settings["val_split"], settings["seed"], settings.get("device", "auto"),
                                          owner="train")
        self._clear(f"<p>Checking <b>{html.escape(visible(Path(folder).name))}</b>… The first check of a folder "
                    "looks at each picture once (training remembers it too); later ones take seconds.</p>")
        self.page.result.tabs.setCurrentWidget(self)
        self._update()

    def _can_check(self) -> bool:
        s = self.state
        return s.engine.ready and not s.training.running and s.folder.table is not None

    # ------------------------------------------------------------------ what happens

    def _on_result(self, request, item) -> None:
        if request is self.request and isinstance(item, check_jobs.Checked):
            self._shown_for = request.id
            self.show_checked(item)

    def _on_failed(self, request, error) -> None:
        if request is self.request:
            self._failed = True  # the page's banner says why

    def _on_jobs(self) -> None:
        if self.request is not None and self.request.id not in self.state.jobs.pending:
            ended, self.request = self.request, None
            if self._shown_for != ended.id:
                self._clear("<p>The check did not finish; see the message above.</p>" if self._failed else
                            "<p>The check was stopped before it finished. Press <i>Check my pictures</i> to "
                            "check again.</p>")
        self._update()

    def _on_folder(self) -> None:
        """Nothing stale: another folder clears the findings; other split settings mark them old."""
        path = self.state.folder.path
        if self.request is not None and not _same(self.request.args[0], path):
            request, self.request = self.request, None
            self.studio.cancel(request)
            self._clear(INTRO)
        if self.checked is not None:
            if not _same(self.checked.report.folder, path):
                self._clear(INTRO)
            elif self.state.folder.table is not None and not self.checked.report.split_given and \
                    (self.page.options.val_share.value() / 100, self.page.options.seed.value()) != \
                    (self.checked.val_split, self.checked.seed):
                self._stale("The share kept for checking (or the seed) changed since this check, so its copies "
                            "across the split are those of the old split.")
        self._update()

    def _on_changed(self, item) -> None:
        """A change or an undo: the rows it touched say so (and come back when undone)."""
        if self.checked is None or not _same(item.folder, self.checked.report.folder):
            return
        if any(c.kind == "rename_class" for c in item.changes):
            self._stale("A class was renamed since this check.")
            return
        if item.kind == "undo":
            back = {_real(c.destination) for c in item.changes if c.destination}
            for row in self.rows:
                if row.state == "done" and any(_real(p) in back for p in row.paths):
                    row.reopen()
            return
        for row in self.rows:
            mine = {_real(p) for p in row.paths}
            words = [c.words for c in item.changes if c.source and _real(c.source) in mine]
            if words and row.state == "open":
                row.mark_done(" ".join(words))

    # ------------------------------------------------------------------ drawing

    def _clear(self, text: str) -> None:
        self.checked = None
        for i in reversed(range(self.list.count() - 1)):
            w = self.list.takeAt(i).widget()
            if w is not None:
                w.deleteLater()
        self.rows = []
        self.summary.setText(text)

    def _stale(self, why: str) -> None:
        for row in self.rows:
            row.mark_stale()
        self.summary.setText(self._summary_html() + f"<p style='color:#a85d00'>⚠ {html.escape(why)} Press "
                             "<i>Check my pictures</i> again for a fresh list.</p>")

    def _summary_html(self) -> str:
        r = self.checked.report
        lines = "".join(f"<li>{html.escape(visible(line))}</li>" for line in r.summary())
        return (f"<ul style='margin-left:-20px'>{lines}</ul><p style='color:#5f6170'>Checked in "
                f"{duration(r.seconds)}; no file was changed.</p>")

    def show_checked(self, checked) -> None:
        self._clear("")
        self.checked = checked
        r, fixes = checked.report, self.fixes
        self.summary.setText(self._summary_html())
        leaked = {tuple(k.paths) for k in r.leaks}
        copies = [d for d in r.duplicates if not any(set(d.paths) >= set(k) for k in leaked)]
        sections = [
            ("Probably in the wrong class", r.label_issues, lambda i: FindingRow(
                [i.path], issue_text(i), checked.thumbs,
                [(f"Move to '{visible(i.suggested)}'", lambda: fixes.move([i.path], i.suggested)),
                 ("Set aside", lambda: fixes.set_aside([i.path]))], i.given, self._entries)),
            ("Copies shared by the pictures it learns from and the check pictures", r.leaks, lambda k: FindingRow(
                k.paths, leak_text(k), checked.thumbs,
                [("Set aside the copy among the check pictures" if len(k.val) == 1 else
                  f"Set aside the {len(k.val)} copies among the check pictures", lambda: fixes.set_aside(k.val))],
                Path(k.paths[0]).parent.name, self._entries)),
            ("Copies", copies, lambda d: FindingRow(
                d.paths, copies_text(d), checked.thumbs,
                [(f"Keep one, set {'the other' if len(d.paths) == 2 else f'the {len(d.paths) - 1} others'} aside",
                  lambda: fixes.set_aside(d.paths[1:]))], d.classes[0] if d.classes else "", self._entries)),
            ("Unlike the rest of their class", r.outliers, lambda o: FindingRow(
                [o.path], outlier_text(o), checked.thumbs, [("Set aside", lambda: fixes.set_aside([o.path]))],
                o.kind, self._entries)),
        ]
        at = 0
        for title, found, make in sections:
            if not found:
                continue
            heading = QLabel(f"{title} ({len(found)})")
            role(heading, "section")
            self.list.insertWidget(at, heading)
            at += 1
            for finding in found[:check_jobs.SHOWN]:
                row = make(finding)
                self.rows.append(row)
                self.list.insertWidget(at, row)
                at += 1
            if len(found) > check_jobs.SHOWN:
                more = QLabel(f"… and {len(found) - check_jobs.SHOWN} more not shown here "
                              "(fix these first, then check again).")
                role(more, "hint")
                self.list.insertWidget(at, more)
                at += 1
        self._update()

    def _entries(self, path: str, given: str) -> list:
        return self.fixes.picture_entries(path, given)

    def rows_of(self, path: str) -> list[FindingRow]:
        return [row for row in self.rows if _real(path) in {_real(p) for p in row.paths}]

    def _update(self) -> None:
        running = self.request is not None
        for button in self.buttons:
            button.setText("Stop checking" if running else "Check my pictures")
            button.setToolTip("Stop the check" if running else
                              "Look for pictures in the wrong class, copies and odd ones out (changes no file)")
            button.setEnabled(running or self._can_check())
