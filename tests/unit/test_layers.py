"""The layer rule, checked: ``archive`` (the lower layer) never pulls in ``scraper``, HTTP
(requests, tenacity) or the CLI (click); and no library module imports click."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import archive

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_BELOW = ("scraper", "requests", "tenacity", "click")


def _modules(package: object) -> list[str]:
    path = package.__path__  # type: ignore[attr-defined]
    prefix = package.__name__ + "."  # type: ignore[attr-defined]
    return sorted(m.name for m in pkgutil.walk_packages(path, prefix))


ARCHIVE_MODULES = ["archive", *_modules(archive)]


@pytest.mark.parametrize("module", ARCHIVE_MODULES)
def test_archive_module_imports_nothing_above_it(module: str) -> None:
    # A fresh interpreter: what this test process imported already must not hide anything.
    code = (f"import sys, importlib; importlib.import_module({module!r}); "
            f"print(' '.join(sorted(m for m in {FORBIDDEN_BELOW!r} if m in sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"{module} pulls in {proc.stdout.strip()}"


def test_diff_imports_without_requests_installed(tmp_path: Path) -> None:
    # Make `import requests` (and tenacity) fail outright, as in an environment without them.
    for name in ("requests", "tenacity"):
        (tmp_path / f"{name}.py").write_text(f"raise ImportError('no {name} here')\n")
    proc = subprocess.run([sys.executable, "-c", "import archive.diff"], capture_output=True,
                          text=True, cwd=ROOT, timeout=60,
                          env={"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": ""})
    assert proc.returncode == 0, proc.stderr


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


LIBRARY_FILES = sorted(
    p for pkg in ("archive", "scraper") for p in (ROOT / pkg).rglob("*.py")
    if "cli" not in p.relative_to(ROOT).parts and p.name != "__main__.py")


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_library_module_never_imports_click(path: Path) -> None:
    assert "click" not in _imports(path)


@pytest.mark.parametrize("path", sorted((ROOT / "archive").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_archive_module_names_no_upper_layer(path: Path) -> None:
    # Catches an import inside a function too, which the fresh-interpreter test cannot see.
    assert not _imports(path) & set(FORBIDDEN_BELOW)


def test_the_import_walk_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import json\n\ndef f():\n    from scraper.fetch import Fetcher\n"
                      "    import click.testing\n")
    assert _imports(module) == {"json", "scraper", "click"}
