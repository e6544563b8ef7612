"""``diff``: what changed between two moments of the archive (see docs/diff.md)."""

from __future__ import annotations

import os
import sys

import click

from scraper.cli import EXIT_OK, EXIT_PARTIAL, WHEN_FORMS, db_option, handle_errors
from scraper.cli.commands_config import watch_option, watch_target


def use_color(choice: str, *, fmt: str) -> bool:
    """Colour for the text format: always, never, or auto (stdout is a terminal and
    $NO_COLOR is unset)."""
    if fmt != "text" or choice == "never":
        return False
    if choice == "always":
        return True
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


@click.command()
@click.argument("url", required=False)
@db_option
@watch_option
@click.option("--from", "from_when", metavar="WHEN",
              help=f"Start: {WHEN_FORMS} (a date means the latest snapshot at or before "
                   "it). For the whole archive, a snapshot id or an instant "
                   "inside a crawl run means the end of that run; for URL, that snapshot. "
                   "Default: the capture before --to's (the previous run; for URL, that "
                   "page's previous capture). Must not be later than --to.")
@click.option("--to", "to_when", metavar="WHEN",
              help="End: a WHEN as for --from. Default: the latest snapshot (of the last "
                   "whole run while a crawl is writing).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text",
              show_default=True, help="text for terminals and mail, json for programs, html "
                                      "for people (one self-contained page).")
@click.option("--exit-code", is_flag=True,
              help="Exit 1 when anything changed, 0 when nothing did (like git diff).")
@click.option("--outside", is_flag=True,
              help="Also list, in a part of its own, the lines of text around each page's "
                   "main content (menus, asides, footers) added and removed. Never a change: "
                   "--exit-code and the notifications stay the main content's.")
@click.option("--color", "color", type=click.Choice(["auto", "always", "never"]),
              default="auto", show_default=True,
              help="Colour the text format: auto means only on a terminal.")
@handle_errors
def diff(url: str | None, db: str, watch_name: str | None, config_path: str | None,
         from_when: str | None, to_when: str | None, fmt: str, exit_code: bool,
         outside: bool, color: str) -> None:
    """What changed between two moments, for the whole archive or one page (URL, or the
    page of --watch NAME).

    Pages added, removed, gone, failed or changed; per page the title and Updated date, items
    (added, removed, edited, moved), sections and a word-level diff of the text, with the
    silent-edit and date-only flags. A link blocked by robots.txt or the address policy is
    never a change. --outside adds, apart, the text around the main content that changed
    (it never changes the exit code). Exit codes: 0 (or, with --exit-code, 0 no change /
    1 changed, by the main content only), 2 usage (bad or ambiguous WHEN, --from later than
    --to, unknown URL), 3 unusable archive.
    """
    from archive.compare import diff_between
    from archive.report import render
    from archive.store import Archive

    url, db = watch_target(url, watch_name, config_path, db)
    with Archive.open(db, readonly=True) as archive:
        result = diff_between(archive, from_when, to_when, url=url, outside=outside)
    click.echo(render(result, fmt, color=use_color(color, fmt=fmt)), nl=False,
               color=True)  # ANSI only when use_color() said so
    if exit_code and result.changed:
        sys.exit(EXIT_PARTIAL)
    sys.exit(EXIT_OK)


def register(group: click.Group) -> None:
    """Add this module's commands to the CLI group."""
    group.add_command(diff)
