"""Colours, sizes and the one style sheet; pages name roles (`role="primary"`), not colours."""
from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

ACCENT = "#6a4fc8"
ACCENT_DARK = "#51399f"
ACCENT_SOFT = "#efeafd"
INK = "#241d36"
MUTED = "#5f6170"
LINE = "#dcd6ea"
OK = "#2e7d32"
WARN = "#a85d00"
ERROR = "#b3261e"
TRAIN_LOSS = ACCENT
VAL_LOSS = "#e07b00"
VAL_ACCURACY = OK
SPACING = 12

SHEET = f"""
QMainWindow, QWidget#page {{ background: #f7f6fb; }}
QWidget#sidebar {{ background: {INK}; }}
QLabel#appName {{ color: white; font-size: 15px; font-weight: 600; }}
QLabel#appVersion {{ color: #a69cc6; font-size: 11px; }}
QListWidget#nav {{ background: transparent; border: none; color: #e6e1f5; font-size: 14px; outline: none; }}
QListWidget#nav::item {{ padding: 10px 12px; border-radius: 8px; margin: 2px 8px; }}
QListWidget#nav::item:hover {{ background: #3a3056; }}
QListWidget#nav::item:selected {{ background: {ACCENT}; color: white; }}
QLabel[role="title"] {{ font-size: 20px; font-weight: 600; color: {INK}; }}
QLabel[role="section"] {{ font-size: 13px; font-weight: 600; color: {INK}; padding-top: 4px; }}
QLabel[role="hint"] {{ color: {MUTED}; }}
QLabel[role="warning"] {{ color: {WARN}; }}
QLabel[role="status-ok"] {{ color: {OK}; }}
QLabel[role="status-warn"] {{ color: {WARN}; }}
QFrame[role="panel"] {{ background: white; border: 1px solid {LINE}; border-radius: 10px; }}
QPushButton[role="primary"] {{ background: {ACCENT}; color: white; border: 1px solid {ACCENT_DARK};
    border-radius: 6px; padding: 6px 18px; font-weight: 600; }}
QPushButton[role="primary"]:hover {{ background: {ACCENT_DARK}; }}
QPushButton[role="primary"]:disabled {{ background: #cfc6ea; border-color: #cfc6ea; color: #f4f1fb; }}
QPushButton[role="danger"]:enabled {{ color: {ERROR}; font-weight: 600; }}
QProgressBar {{ border: 1px solid {LINE}; border-radius: 5px; background: white; text-align: center;
    min-height: 18px; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 4px; }}
QProgressBar[role="confidence"] {{ min-height: 12px; max-height: 12px; border-radius: 3px;
    font-size: 10px; background: #f0eef6; border: none; }}
QProgressBar[role="confidence"]::chunk {{ background: #b7abd9; border-radius: 3px; }}
QProgressBar[role="winner"] {{ min-height: 12px; max-height: 12px; border-radius: 3px;
    font-size: 10px; background: #f0eef6; border: none; }}
QProgressBar[role="winner"]::chunk {{ background: {ACCENT}; border-radius: 3px; }}
QFrame#card {{ background: white; border: 1px solid {LINE}; border-radius: 10px; }}
QFrame#card[state="done"] {{ border: 1px solid #cfc6ea; }}
QLabel#verdict {{ font-size: 15px; font-weight: 600; color: {ACCENT_DARK}; }}
QLabel#verdict[state="skipped"] {{ color: {ERROR}; }}
QFrame#card[state="skipped"] {{ border: 1px solid #e6b8b4; background: #fffafa; }}
QFrame#banner[level="error"] {{ background: #fdecea; border: 1px solid #f0b7b1; border-radius: 8px; }}
QFrame#banner[level="info"] {{ background: {ACCENT_SOFT}; border: 1px solid #d4c9f3; border-radius: 8px; }}
QFrame#banner[level="warning"] {{ background: #fff4e0; border: 1px solid #f1d29e; border-radius: 8px; }}
QFrame#dropZone {{ background: white; border: 2px dashed #b9addf; border-radius: 14px; }}
QFrame#dropZone[hover="true"] {{ background: {ACCENT_SOFT}; border: 2px dashed {ACCENT}; }}
QLabel#dropTitle {{ font-size: 18px; font-weight: 600; color: {INK}; }}
QTableView, QTableWidget, QListWidget#skipped {{ background: white; border: 1px solid {LINE}; border-radius: 6px;
    gridline-color: #eeeaf6; selection-background-color: {ACCENT_SOFT}; selection-color: {INK}; }}
QHeaderView::section {{ background: #f3f1f9; border: none; border-bottom: 1px solid {LINE}; padding: 4px 6px;
    font-weight: 600; color: {INK}; }}
QToolButton#fold {{ border: none; font-weight: 600; color: {INK}; padding: 2px 0; }}
QScrollArea {{ border: none; background: transparent; }}
QWidget#cards {{ background: transparent; }}
QStatusBar {{ background: #efedf5; color: {MUTED}; }}
"""


def apply(app: QApplication) -> None:
    app.setStyle("Fusion")
    pal = app.palette()
    pal.setColor(QPalette.ColorRole.Window, QColor("#f7f6fb"))
    pal.setColor(QPalette.ColorRole.Base, QColor("white"))
    pal.setColor(QPalette.ColorRole.AlternateBase, QColor("#f7f5fc"))
    pal.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT))
    pal.setColor(QPalette.ColorRole.HighlightedText, QColor("white"))
    pal.setColor(QPalette.ColorRole.WindowText, QColor(INK))
    pal.setColor(QPalette.ColorRole.Text, QColor(INK))
    pal.setColor(QPalette.ColorRole.ButtonText, QColor(INK))
    pal.setColor(QPalette.ColorRole.Link, QColor(ACCENT))
    disabled = QColor("#a7a2b8")
    for r in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, r, disabled)
    app.setPalette(pal)
    app.setStyleSheet(SHEET)


def role(widget: QWidget, name: str) -> QWidget:
    """Tag a widget with a style role, re-polishing it so a change of role shows at once."""
    widget.setProperty("role", name)
    widget.style().unpolish(widget)
    widget.style().polish(widget)
    return widget


def set_prop(widget: QWidget, name: str, value) -> None:
    widget.setProperty(name, value)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def page_layout(page: QWidget, title: str) -> QVBoxLayout:
    """A page's outer layout, with the margins every page shares and its title on top."""
    outer = QVBoxLayout(page)
    outer.setContentsMargins(SPACING * 2, SPACING * 2, SPACING * 2, SPACING)
    outer.setSpacing(SPACING)
    heading = QLabel(title)
    role(heading, "title")
    outer.addWidget(heading)
    return outer
