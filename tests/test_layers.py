"""What import-linter cannot say (it sees external packages whole): the app layer (runner, jobs,
state) uses Qt's core and gui parts, never its widgets; and the window's own thread does not load
the engine."""
from __future__ import annotations

import ast
from pathlib import Path

import monster_studio

PACKAGE = Path(monster_studio.__file__).parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_the_app_layer_imports_no_widgets():
    offenders = {str(p.relative_to(PACKAGE)): sorted(m for m in imported_modules(p) if m.startswith("PySide6.QtWidgets"))
                 for p in (PACKAGE / "app").rglob("*.py")}
    assert not {k: v for k, v in offenders.items() if v}


def test_no_torch_at_the_top_of_window_side_modules():
    """torch loads on the runner's thread; a module the window imports must not import it at its top."""
    for p in [*(PACKAGE / "ui").rglob("*.py"), *(PACKAGE / "app").rglob("*.py")]:
        tree = ast.parse(p.read_text(encoding="utf-8"))
        top = {a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names}
        top |= {n.module for n in tree.body if isinstance(n, ast.ImportFrom) and n.module}
        assert not {m for m in top if m.split(".")[0] in ("torch", "torchvision", "timm")}, p
