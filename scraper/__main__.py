"""``python -m scraper`` is the same as the ``coop-archive`` command."""

from scraper.cli import main

if __name__ == "__main__":
    main()
