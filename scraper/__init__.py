"""coop-archive: fetch, parse and archive a web page and the documents it links to.

The capture travels one way: URL -> response (:mod:`scraper.fetch`) -> page records
(:mod:`scraper.parse`) -> stored version (:mod:`archive.store`) -> diff / query
(:mod:`archive.diff`, :mod:`archive.query`).
"""

from __future__ import annotations

from archive import __version__

__all__ = ["DEFAULT_SEED", "PROJECT_URL", "__version__"]
PROJECT_URL = "https://github.com/coop-archive/coop-archive"
DEFAULT_SEED = "https://www.transportation.gov/r2ze/US-China-Cooperation"
