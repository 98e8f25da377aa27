"""One finding of "Check my pictures" as a row: the pictures it is about (small previews), what
the check found in plain words, and the safe ways out as buttons. A right-click gives open, show
in folder and the other safe changes; a double-click opens the picture. Once its change is made
the row says what was done (and comes back if that change is undone)."""
from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from monster_studio.core.wording import percent, visible
from monster_studio.ui.open_file import open_picture, picture_menu, show_in_folder
from monster_studio.ui.style import LINE, MUTED, OK, role

THUMB = 64


def esc(text: str) -> str:
    return html.escape(visible(str(text)))


def name_of(path: str) -> str:
    return esc(Path(path).name)


def likelihood(score: float) -> str:
    """How likely a label is wrong, in words (score: 1 minus what a model that never saw the
    picture gives its folder's class)."""
    if score >= 0.9:
        return "Almost surely in the wrong class"
    if score >= 0.7:
        return "Probably in the wrong class"
    return "Maybe in the wrong class"


def issue_text(issue) -> str:
    where = " It is one of the check pictures." if issue.part == "val" else ""
    return (f"<b>{name_of(issue.path)}</b> is in <b>{esc(issue.given)}</b> but looks like "
            f"<b>{esc(issue.suggested)}</b>.<br><span style='color:{MUTED}'>{likelihood(issue.score)}: a model that "
            f"never saw it gives '{esc(issue.given)}' only {percent(1 - issue.score)}.{where}</span>")


def leak_text(leak) -> str:
    how = "the same file" if leak.exact else f"nearly the same picture ({percent(leak.similarity)} alike)"
    learn = ", ".join(name_of(p) for p in leak.train[:3])
    check = ", ".join(name_of(p) for p in leak.val[:3])
    return (f"<b>{learn}</b> (learned from) and <b>{check}</b> (check pictures) are {how}.<br>"
            f"<span style='color:{MUTED}'>A copy among the check pictures makes the model look better than it is."
            "</span>")


def copies_text(group) -> str:
    how = "the same file" if group.exact else f"nearly the same picture ({percent(group.similarity)} alike)"
    names = ", ".join(name_of(p) for p in group.paths[:4]) + (" …" if len(group.paths) > 4 else "")
    return (f"<b>{names}</b> are {how}, in {esc(', '.join(group.classes))}.<br><span style='color:{MUTED}'>"
            "Copies teach nothing new and count twice.</span>")


def outlier_text(outlier) -> str:
    return (f"<b>{name_of(outlier.path)}</b> looks unlike the rest of <b>{esc(outlier.kind)}</b>.<br>"
            f"<span style='color:{MUTED}'>Perhaps a placeholder, a damaged picture or something else "
            "altogether.</span>")


class FindingRow(QFrame):
    """`paths`: the pictures it is about (the first is the one a right-click names); `given`: the
    class folder of the first; `buttons`: (text, callback); `menu`: callable(path, given) -> more
    (text, callback) entries for the right-click menu."""

    def __init__(self, paths: list[str], text: str, thumbs: dict, buttons: list[tuple[str, Callable]],
                 given: str = "", menu: Callable | None = None, parent=None) -> None:
        super().__init__(parent)
        self.paths, self.given, self._menu = list(paths), given, menu
        self.setObjectName("finding")
        self.setStyleSheet(f"QFrame#finding {{ background: white; border: 1px solid {LINE}; border-radius: 8px; }}")
        self.setToolTip("\n".join(visible(p) for p in paths[:6]))
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 8, 8, 8)
        row.setSpacing(10)
        for path in paths[:3]:
            pic = QLabel()
            pic.setFixedSize(THUMB, THUMB)
            pic.setAlignment(Qt.AlignmentFlag.AlignCenter)
            pic.setStyleSheet("background: #f1eff7; border-radius: 4px; border: none;")
            image = thumbs.get(path)
            if image is not None:
                pic.setPixmap(QPixmap.fromImage(image).scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                                              Qt.TransformationMode.SmoothTransformation))
            else:
                pic.setText("?")
            row.addWidget(pic, 0, Qt.AlignmentFlag.AlignTop)
        body = QVBoxLayout()
        body.setSpacing(6)
        self.text = QLabel(text)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setStyleSheet("border: none;")
        body.addWidget(self.text)
        self.done = QLabel()
        self.done.setWordWrap(True)
        self.done.setStyleSheet(f"color: {OK}; font-weight: 600; border: none;")
        self.done.hide()
        body.addWidget(self.done)
        self.button_row = QHBoxLayout()
        self.button_row.setSpacing(6)
        self.buttons: list[QPushButton] = []
        for label, callback in buttons:
            button = QPushButton(label)
            button.clicked.connect(lambda _=False, cb=callback: cb())
            self.button_row.addWidget(button)
            self.buttons.append(button)
        show = QPushButton("Show in folder")
        show.setToolTip("Show the picture in the file manager")
        show.clicked.connect(lambda: show_in_folder(self.paths[0]))
        role(show, "hint")
        self.button_row.addWidget(show)
        self.button_row.addStretch(1)
        body.addLayout(self.button_row)
        row.addLayout(body, 1)
        self.state = "open"  # "open", "done" (its change was made) or "stale" (the folder changed under it)

    def button(self, text_start: str) -> QPushButton:
        return next(b for b in self.buttons if b.text().startswith(text_start))

    def mark_done(self, words: str) -> None:
        self.state = "done"
        self.done.setText("✓ " + visible(words))
        self.done.show()
        for b in self.buttons:
            b.setEnabled(False)

    def reopen(self) -> None:
        self.state = "open"
        self.done.hide()
        for b in self.buttons:
            b.setEnabled(True)

    def mark_stale(self) -> None:
        if self.state == "open":
            self.state = "stale"
            for b in self.buttons:
                b.setEnabled(False)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt's name
        open_picture(self.paths[0])

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        extra = self._menu(self.paths[0], self.given) if self._menu is not None and self.state == "open" else []
        picture_menu(self, self.paths[0], extra).exec(event.globalPos())
