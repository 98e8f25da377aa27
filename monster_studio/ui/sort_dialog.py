"""Sort… on the Classify page: a folder of pictures sorted into one folder per class with the
page's chosen model. First a preview (counts, where each kind goes; nothing is written), then
Sort copies (or moves, each copy checked before the original goes) with progress; Stop leaves no
half-written file. The outcome in plain words, with Show in folder. Two jobs (app.jobs.sorting),
one window; it never blocks the main window (it is not modal), so tests drive it directly."""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from monster_studio.app.jobs import sorting
from monster_studio.core.sort import MANIFEST, NOT_SURE, SortPlan, SortResult
from monster_studio.core.wording import plural, visible
from monster_studio.ui import settings as store
from monster_studio.ui.inputs import SpinBox
from monster_studio.ui.open_file import show_in_folder
from monster_studio.ui.progress_panel import ProgressPanel
from monster_studio.ui.style import ERROR, SPACING, role

OWNER = "classify"
PLAN, SORT = "sort-plan", "sort"


def _lines(lines: list[str]) -> str:
    return "".join(f"<p>{html.escape(visible(line))}</p>" for line in lines)


def open_sort(page) -> SortDialog:
    """Show the page's Sort dialog (one per page, kept between uses)."""
    dialog = getattr(page, "_sort_dialog", None)
    if dialog is None:
        dialog = page._sort_dialog = SortDialog(page)
    dialog.refresh_model()
    dialog.show()
    dialog.raise_()
    return dialog


class SortDialog(QDialog):
    def __init__(self, page) -> None:
        super().__init__(page)
        self.setWindowTitle("Sort a folder into classes")
        self.setMinimumWidth(620)
        self.page, self.studio, self.state = page, page.studio, page.state
        self.plan: SortPlan | None = None  # the preview shown, for exactly the settings on screen
        self.request = None
        self._answered = False  # the running request gave its plan or result
        self._failed = ""
        self._suggested = ""
        box = QVBoxLayout(self)
        box.setSpacing(SPACING)
        lead = QLabel("Each picture of the folder goes into a folder named after its class, inside the folder you "
                      f"choose; the ones the model is not sure of go into {NOT_SURE}. A list of where each picture "
                      f"went is kept there too ({MANIFEST}). Sorting again later copies only new pictures.")
        lead.setWordWrap(True)
        role(lead, "hint")
        box.addWidget(lead)
        form = QFormLayout()
        self.in_edit, in_row = self._folder_row("The folder of pictures to sort")
        self.out_edit, out_row = self._folder_row("Where the sorted pictures go")
        form.addRow("Sort the pictures in", in_row)
        form.addRow("Into", out_row)
        self.copy_radio = QRadioButton("Copy them (the originals stay where they are)")
        self.move_radio = QRadioButton("Move them (each copy is checked before its original is removed)")
        self.copy_radio.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.copy_radio)
        group.addButton(self.move_radio)
        modes = QVBoxLayout()
        modes.addWidget(self.copy_radio)
        modes.addWidget(self.move_radio)
        form.addRow("", modes)
        self.min_confidence = SpinBox()
        self.min_confidence.setRange(0, 99)
        self.min_confidence.setSuffix(" %")
        self.min_confidence.setSpecialValueText("only when the model says it is not sure")
        self.min_confidence.setToolTip(f"A picture the model is less sure of than this goes into {NOT_SURE} "
                                       "(0: only those the model itself says it is not sure of)")
        form.addRow("Not sure below", self.min_confidence)
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        form.addRow("Sorted by", self.model_label)
        box.addLayout(form)
        self.words = QLabel()
        self.words.setWordWrap(True)
        self.words.setTextFormat(Qt.TextFormat.RichText)
        self.words.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.words.setMinimumHeight(70)
        self.words.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        box.addWidget(self.words, 1)
        self.progress = ProgressPanel(self.state.jobs, OWNER)
        box.addWidget(self.progress)
        buttons = QHBoxLayout()
        self.preview_button = QPushButton("Preview")
        self.preview_button.setToolTip("Count where the pictures would go; nothing is written")
        self.preview_button.clicked.connect(self.preview)
        self.sort_button = QPushButton("Sort")
        role(self.sort_button, "primary")
        self.sort_button.clicked.connect(self.apply)
        self.stop_button = QPushButton("Stop")
        role(self.stop_button, "danger")
        self.stop_button.clicked.connect(self.studio.stop)
        self.show_button = QPushButton("Show in folder")
        self.show_button.clicked.connect(lambda: show_in_folder(str(Path(self.out_edit.text()) / MANIFEST)))
        self.show_button.hide()
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        for b in (self.preview_button, self.sort_button, self.stop_button, self.show_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(close)
        box.addLayout(buttons)

        for edit in (self.in_edit, self.out_edit):
            edit.textChanged.connect(self._changed)
        self.in_edit.textChanged.connect(self._suggest_out)
        self.move_radio.toggled.connect(self._update)
        self.min_confidence.valueChanged.connect(self._changed)
        self.state.model.changed.connect(self.refresh_model)
        page.picker.chosen.connect(lambda *_: self.refresh_model())
        self.state.jobs.changed.connect(self._on_jobs)
        self.state.jobs.failed.connect(self._on_failed)
        self.studio.result.connect(self._on_result)
        start = store.get_str("paths/sortFrom")
        if start and Path(start).is_dir():
            self.in_edit.setText(start)
        self.refresh_model()
        self._say(_lines([("Choose the folder to sort and where to, then press Preview: it counts where the "
                           "pictures would go before anything is written.")]))

    def _folder_row(self, title: str) -> tuple[QLineEdit, QWidget]:
        edit = QLineEdit()
        edit.setPlaceholderText(title)
        choose = QPushButton("Choose…")
        choose.clicked.connect(lambda: self._choose(edit, title))
        row = QWidget()
        lay = QHBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(edit, 1)
        lay.addWidget(choose)
        return edit, row

    def _choose(self, edit: QLineEdit, title: str) -> None:
        start = edit.text() if Path(edit.text()).is_dir() else store.get_str("paths/pictures") or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, title, start)
        if folder:
            edit.setText(folder)

    def _suggest_out(self, text: str) -> None:
        """A folder beside the one to sort, until the user chooses another."""
        if text.strip() and self.out_edit.text().strip() in ("", self._suggested):
            p = Path(text.strip())
            self._suggested = str(p.parent / f"{p.name} sorted")
            self.out_edit.setText(self._suggested)

    # ------------------------------------------------------------------ state

    def key(self) -> str:
        return self.page.selected_key()

    def refresh_model(self) -> None:
        why = sorting.refusal(self.key())
        self.model_label.setText(f"<span style='color:{ERROR}'>{html.escape(why)}</span>" if why else
                                 f"{html.escape(self.page.model_combo.currentText())}, the model chosen on the "
                                 "Classify page")
        self._changed()

    def _changed(self, *_) -> None:
        """Any setting changed: a preview shown no longer holds."""
        if self.plan is not None and self.request is None:
            self.plan = None
            self._say(_lines(["The settings changed: press Preview again to see where the pictures would go."]))
        self._update()

    def _update(self, *_) -> None:
        running = self.request is not None
        ready = self.state.engine.ready and not sorting.refusal(self.key())
        filled = bool(self.in_edit.text().strip() and self.out_edit.text().strip())
        self.preview_button.setEnabled(ready and filled and not running)
        n = self.plan.n_new if self.plan is not None else 0
        self.sort_button.setText(f"{'Move' if self.move_radio.isChecked() else 'Copy'} "
                                 f"{plural(n, 'picture')}" if n else "Sort")
        # moving also removes the originals of pictures already sorted
        work = n or (self.move_radio.isChecked() and self.plan is not None and self.plan.n_already)
        self.sort_button.setEnabled(ready and not running and self.plan is not None and bool(work))
        self.stop_button.setEnabled(running)
        for w in (self.in_edit, self.out_edit, self.copy_radio, self.move_radio, self.min_confidence):
            w.setEnabled(not running)

    def _say(self, text: str) -> None:
        self.words.setText(text)

    # ------------------------------------------------------------------ intent

    def preview(self) -> None:
        in_dir, out_dir = self.in_edit.text().strip(), self.out_edit.text().strip()
        if not (in_dir and out_dir) or self.request is not None:
            return
        store.put("paths/sortFrom", in_dir)
        self.plan, self._answered, self._failed = None, False, ""
        self.show_button.hide()
        self.request = self.studio.submit(PLAN, sorting.plan, self.key(), in_dir, out_dir,
                                          self.min_confidence.value() / 100, owner=OWNER)
        self._say(_lines(["Looking at the pictures… nothing is written yet."]))
        self._update()

    def apply(self) -> None:
        if self.plan is None or self.request is not None:
            return
        self._answered, self._failed = False, ""
        move = self.move_radio.isChecked()
        self.request = self.studio.submit(SORT, sorting.apply, self.plan, move, owner=OWNER)
        self._say(_lines(["Moving the pictures…" if move else "Copying the pictures…"]))
        self._update()

    # ------------------------------------------------------------------ what the jobs say

    def _on_result(self, request, item) -> None:
        if request is not self.request:
            return
        if isinstance(item, SortPlan):
            self._answered, self.plan = True, item
            self._say("<p><b>Preview: nothing has been written yet.</b></p>" + _lines(item.summary()))
        elif isinstance(item, SortResult):
            self._answered, self.plan = True, None
            self._say("<p><b>Done.</b></p>" + _lines(item.summary()))
            self.show_button.show()

    def _on_failed(self, request, error) -> None:
        if request is self.request:
            self._failed = error.message

    def _on_jobs(self) -> None:
        if self.request is None or self.request.id in self.state.jobs.pending:
            self._update()
            return
        ended, self.request = self.request, None
        if self._failed:
            self._say(f"<p style='color:{ERROR}'>{html.escape(self._failed)}</p>")
        elif not self._answered and ended.name == PLAN:
            self._say(_lines(["Stopped before anything was written."]))
        elif not self._answered:
            self.plan = None
            self._say(_lines([(f"Stopped. Every picture copied so far is complete and listed in {MANIFEST}; no "
                               "file is half-written. Press Preview, then Sort, to sort the rest.")]))
            self.show_button.show()
        self._update()
