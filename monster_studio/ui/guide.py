"""Help > Guide: the five steps and the few things worth knowing, in a page of plain words."""
from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from monster_studio import APP_NAME

GUIDE = f"""
<h3>{APP_NAME} in five steps</h3>
<ol>
<li><b>Collect pictures</b> in a folder with one subfolder per class (<i>ants/</i>, <i>bees/</i>). A few dozen
per class is a good start. A folder with its own <i>train/</i> and <i>val/</i> (or <i>test/</i>) folders is used
as it is split.</li>
<li><b>Choose the folder</b> on the Train page (or drop it on the window). The table shows each class and
the files that cannot be used, with the reason.</li>
<li><b>Choose a starting model.</b> The bundled ones work offline; the others are downloaded once.</li>
<li><b>Press Train</b> (Ctrl+T). Stop (Esc) stops at once. The result says how often the model was right on
check pictures it did not learn from. <b>Save model…</b> (Ctrl+S) keeps it in a .monster file.</li>
<li><b>Try it</b>: drop pictures or folders on the Classify page, or paste one (Ctrl+V). Export the table as
CSV (Ctrl+E).</li>
</ol>
<p><b>No internet?</b> Use a bundled starting model, or bring a weights file and press
<i>Import weights file…</i>.</p>
<p><b>Double-click</b> a card or a table row to open the picture; right-click it to show it in its folder.</p>
<p><b>Something looks wrong?</b> Help &gt; Open Log Folder holds the details.</p>
"""


def show_guide(parent: QWidget) -> None:
    box = QMessageBox(parent)
    box.setWindowTitle(f"{APP_NAME}: guide")
    box.setText(GUIDE)
    box.exec()
