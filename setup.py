"""Builds scraper/_cwalk, the walk in C (Cython, against lxml's public C API).

Everything else is in pyproject.toml. Where no C compiler (or no Python headers) is at hand,
the install goes on without the extension and scraper/extract.py runs its Python walk, which
gives the same records, more slowly. An error in the Cython source itself fails the install.
The extension is built against the lxml of the build environment and used only with that
version (scraper/extract.py checks): a fresh install gets the same one at both ends.
"""

import hashlib
from pathlib import Path

import lxml
from setuptools import Extension, setup

SOURCE = "scraper/_cwalk.pyx"

setup(
    ext_modules=[
        Extension(
            "scraper._cwalk",
            [SOURCE],
            include_dirs=lxml.get_include(),
            # What the module was built from: a failed build leaves the last one in place,
            # and the tests must not pass on a stale one (tests/unit/test_cwalk.py).
            define_macros=[("CWALK_SOURCE_SHA256", '"%s"' % hashlib.sha256(
                (Path(__file__).parent / SOURCE).read_bytes()).hexdigest())],
            optional=True,
        )
    ]
)
