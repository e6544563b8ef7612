"""Builds scraper/_cwalk, the walk's loop in C (Cython, against lxml's public C API).

Everything else is in pyproject.toml. The extension is optional: where it cannot be built (no
C compiler), the install goes on and scraper/extract.py runs its Python loop, which gives the
same records, more slowly.
"""

import lxml
from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "scraper._cwalk",
            ["scraper/_cwalk.pyx"],
            include_dirs=lxml.get_include(),
            optional=True,
        )
    ]
)
