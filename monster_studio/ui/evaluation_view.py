"""Where a model fails and why, from one core Evaluation (the check pictures after training, or any
labeled folder): how often it was right, the confusion matrix as a grid (click a cell for its
pictures), per-class figures in plain words, and the mistakes as pictures, each openable, with a
heatmap of what led to the answer on request."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from monster_studio.app.jobs.explain import HeatmapPicture, Preview, heatmap, previews
from monster_studio.core.wording import percent, plural, visible
from monster_studio.ui.confusion_grid import ConfusionGrid
from monster_studio.ui.heatmap_viewer import HeatmapViewer
from monster_studio.ui.picture_gallery import PictureGallery
from monster_studio.ui.style import role


class EvaluationView(QWidget):
    def __init__(self, studio, owner: str, model_key: str = "", parent=None) -> None:
        super().__init__(parent)
        self.studio, self.owner, self.model_key = studio, owner, model_key
        self.evaluation = None
        self._requests: set[int] = set()
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 8, 0, 0)
        self.headline = QLabel("Train a model to see where it fails.")
        self.headline.setWordWrap(True)
        self.headline.setTextFormat(Qt.TextFormat.RichText)
        box.addWidget(self.headline)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        top = QWidget()
        row = QHBoxLayout(top)
        row.setContentsMargins(0, 0, 0, 0)
        grid_box = QVBoxLayout()
        axes = QLabel("Rows: what a picture is · columns: what the model said. Click a cell for its pictures.")
        axes.setWordWrap(True)
        role(axes, "hint")
        grid_box.addWidget(axes)
        self.grid = ConfusionGrid()
        self.grid.cellChosen.connect(self.show_cell)
        grid_box.addWidget(self.grid, 1)
        row.addLayout(grid_box, 1)
        self.per_class = QTableWidget(0, 5)
        self.per_class.setHorizontalHeaderLabels(["Class", "Found", "Right when\nit says so", "F1", "Checked\non"])
        self.per_class.verticalHeader().hide()
        self.per_class.setToolTip("Found: of its pictures, how many the model named right (recall). Right when it "
                                  "says so: when the model names it, how often that is right (precision). F1: the "
                                  "two together.")
        self.per_class.horizontalHeader().setStretchLastSection(True)
        row.addWidget(self.per_class, 1)
        split.addWidget(top)
        bottom = QWidget()
        col = QVBoxLayout(bottom)
        col.setContentsMargins(0, 0, 0, 0)
        caption_row = QHBoxLayout()
        self.caption = QLabel()
        role(self.caption, "hint")
        caption_row.addWidget(self.caption, 1)
        self.mistakes_button = QPushButton("All mistakes")
        self.mistakes_button.clicked.connect(self.show_mistakes)
        caption_row.addWidget(self.mistakes_button)
        col.addLayout(caption_row)
        self.gallery = PictureGallery()
        self.gallery.previewsWanted.connect(self._want_previews)
        self.gallery.menu_extras.append(self._why_entries)
        col.addWidget(self.gallery, 1)
        split.addWidget(bottom)
        box.addWidget(split, 1)
        studio.result.connect(self._on_result)

    def show_evaluation(self, evaluation, model_key: str = "", what: str = "check pictures") -> None:
        """`what`: the pictures counted, in words ("check pictures", "pictures of the test folder")."""
        self.evaluation, self.model_key = evaluation, model_key or self.model_key
        e = evaluation
        if e is None or not e.count:
            self.headline.setText("No pictures were kept aside to check the model, so where it fails is not known.")
            self.grid.setRowCount(0)
            self.per_class.setRowCount(0)
            self.gallery.clear()
            self.caption.setText("")
            return
        mistakes = len(e.misclassified)
        text = (f"<b>{e.correct} of {e.count}</b> {what} named right ({percent(e.accuracy)}); "
                f"{plural(mistakes, 'mistake')}.")
        if e.unsure_count:
            text += (f" It said <i>not sure</i> for {plural(e.unsure_count, 'picture')}; on the others it was right "
                     f"{percent(e.sure_accuracy)} of the time.")
        unknown = e.unknown_kinds()
        if unknown:
            text += " Not counted: " + ", ".join(f"{plural(n, 'picture')} of {visible(k)}, a class it does not know"
                                                 for k, n in unknown.items()) + "."
        self.headline.setText(text)
        self.grid.show_matrix(e.classes, e.confusion)
        self.per_class.setRowCount(len(e.classes))
        for i, c in enumerate(e.classes):
            m = e.per_class[c]
            for j, value in enumerate((visible(c), percent(m["recall"]), percent(m["precision"]), percent(m["f1"]),
                                       str(m["support"]))):
                item = QTableWidgetItem(value)
                if j:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.per_class.setItem(i, j, item)
        self.per_class.resizeColumnsToContents()
        self.show_mistakes()

    def show_mistakes(self) -> None:
        e = self.evaluation
        rows = e.misclassified if e is not None else []
        self.caption.setText(f"The {plural(len(rows), 'mistake')}, the most confident first" if rows
                             else "No mistakes on these pictures.")
        self.gallery.show_rows(rows)

    def show_cell(self, true: int, predicted: int) -> None:
        e = self.evaluation
        if e is None:
            return
        rows = e.cell(true, predicted)
        what = "named right" if true == predicted else f"called {visible(e.classes[predicted])}"
        self.caption.setText(f"{plural(len(rows), 'picture')} of {visible(e.classes[true])} {what}")
        self.gallery.show_rows(rows)

    # ------------------------------------------------------------------ previews and heatmaps (jobs)

    def _want_previews(self, paths: list[str]) -> None:
        self._requests.add(self.studio.submit("previews", previews, paths, owner=self.owner).id)

    def _why_entries(self, row) -> list:
        if not self.model_key:
            return []
        out = [(f"Why did it say {visible(row.predicted)}?", lambda: self.explain(row.path, row.predicted))]
        if not row.correct:
            out.append((f"What looks like {visible(row.true)} to it?", lambda: self.explain(row.path, row.true)))
        return out

    def explain(self, path: str, label: str) -> None:
        classes = self.evaluation.classes if self.evaluation is not None else []
        index = classes.index(label) if label in classes else None
        self._requests.add(self.studio.submit("explain", heatmap, path, index, self.model_key, owner=self.owner).id)

    def _on_result(self, request, item) -> None:
        if request.id not in self._requests:
            return
        if isinstance(item, Preview):
            self.gallery.set_preview(item.path, item.image)
        elif isinstance(item, HeatmapPicture):
            HeatmapViewer.show_picture(self, item)
