"""Fix the data from inside the app (issue 10), put into the window in one place: the changes and
Undo (FixActions), the Train page's Check tab and its button beside Train, the Classify page's
Sort… tool and "This is actually…" entries. Each part is one job and one view; this only
connects them to the pages' extension points."""
from __future__ import annotations

from PySide6.QtWidgets import QPushButton

from monster_studio.ui.check_view import CheckView
from monster_studio.ui.fix_actions import FixActions
from monster_studio.ui.sort_dialog import open_sort
from monster_studio.ui.teach_menu import TeachMenu


def install(window) -> FixActions:
    """Returns the window's FixActions (kept as `window.fixes`), which also holds the views it
    made: `check_view`, `check_button`, `sort_button`, `teach_menu`."""
    fixes = FixActions(window)
    tp, cp = window.train_page, window.classify_page
    fixes.check_view = CheckView(window, fixes)
    tp.result.add_tab(fixes.check_view, "Check")
    fixes.check_button = fixes.check_view.add_button(QPushButton())
    tp.buttons_row.insertWidget(2, fixes.check_button)  # Train, Stop, Check my pictures
    fixes.sort_button = QPushButton("Sort…")
    fixes.sort_button.setToolTip("Sort a folder of pictures into one folder per class with this model "
                                 "(a preview first; nothing is written until you agree)")
    fixes.sort_button.clicked.connect(lambda: open_sort(cp))
    cp.add_tool(fixes.sort_button)
    fixes.teach_menu = TeachMenu(window, fixes)
    cp.menu_extras.append(fixes.teach_menu.entries)
    return fixes
