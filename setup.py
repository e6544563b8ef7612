"""Builds scraper/_cwalk, the walk's loop in C (Cython, against lxml's public C API).

Everything else is in pyproject.toml. The extension is optional: where it cannot be built (no
C compiler), the install goes on and scraper/extract.py runs its Python loop, which gives the
same records, more slowly.
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
