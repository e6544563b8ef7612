"""The examples in the library's docstrings are true: every module's doctests run here.

Each module of ``scraper`` and ``archive`` is imported and its docstring examples run as
``doctest`` would; an example that no longer matches the code fails its module's test.
"""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil
import re
from pathlib import Path

import pytest

import archive
import scraper


def library_modules() -> list[str]:
    """Every module of the two packages, except ``__main__`` (importing it runs the CLI)."""
    names: list[str] = []
    for package in (archive, scraper):
        names.append(package.__name__)
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.endswith(".__main__"):
                names.append(info.name)
    return sorted(names)


MODULES = library_modules()


def run_doctests(name: str) -> tuple[doctest.TestResults, str]:
    """Run one module's doctests; returns the results and the runner's report."""
    module = importlib.import_module(name)
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, name):
        runner.run(test, out=out.write)
    return runner.summarize(verbose=False), out.getvalue()


def test_every_library_module_is_found() -> None:
    # A walk that found nothing would make the doctests below pass vacuously.
    assert "archive.diff" in MODULES and "scraper.parse" in MODULES
    assert "scraper.sources.wayback" in MODULES and "scraper.cli.commands_diff" in MODULES
    assert not any(name.endswith("__main__") for name in MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_doctests_pass(name: str) -> None:
    results, report = run_doctests(name)
    assert results.failed == 0, report
    # Every example written in the module ran: one a docstring the finder cannot see (in a
    # comment, or on an object that is not the module's own) would be an unchecked promise.
    path = Path(importlib.import_module(name).__file__ or "")
    if path.suffix != ".py":  # a compiled module (scraper/_cwalk): its Cython source
        path = path.with_name(path.name.split(".", 1)[0] + ".pyx")
    source = path.read_text(encoding="utf-8")
    written = len(re.findall(r"^\s*>>> ", source, flags=re.MULTILINE))
    assert results.attempted == written, (
        f"{name}: {written} example(s) written, {results.attempted} run")
