"""``publish``: the archive's timeline as a static site (library: :mod:`archive.publish`)."""

from __future__ import annotations

import click

from scraper.cli import db_option, handle_errors


@click.command()
@db_option
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True,
              help="Replace an earlier publish in DIRECTORY (other files there are kept).")
@handle_errors
def publish(db: str, directory: str, force: bool) -> None:
    """Write the archive's timeline to DIRECTORY as a static site: an index of the pages with
    a chart each, every page's versions and what changed, diffs between versions and the raw
    captures. Links are relative: open DIRECTORY/index.html from disk, or put the directory
    on any static host. No JavaScript; scraped text is escaped."""
    import os

    from archive.publish import publish_site
    from archive.store import Archive

    with Archive.open(db, readonly=True) as archive:
        stats = publish_site(archive, directory, force=force)
    click.echo(f"wrote {len(stats.files)} files to {directory}: {stats.pages} page timelines, "
               f"{stats.diffs} diffs, {stats.raw} raw captures; open "
               f"{os.path.join(directory, 'index.html')}", err=True)


def register(group: click.Group) -> None:
    """Add this module's commands to the CLI group."""
    group.add_command(publish)
