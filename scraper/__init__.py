"""coop-archive: fetch, parse and archive a web page and the documents it links to.

The capture travels one way: URL -> response (:mod:`scraper.fetch`) -> page records
(:mod:`scraper.parse`) -> stored version (:mod:`archive.store`) -> diff / query
(:mod:`archive.diff`, :mod:`archive.query`).
"""

from __future__ import annotations

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/coop-archive/coop-archive"
DEFAULT_SEED = "https://www.transportation.gov/r2ze/US-China-Cooperation"
