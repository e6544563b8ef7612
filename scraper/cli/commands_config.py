"""``config check``: read the watch list and report every problem in it, with its line."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from scraper.cli import DB_ENV, DEFAULT_DB, EXIT_USAGE, Exit, handle_errors, printable

CONFIG_ENV = "COOP_ARCHIVE_CONFIG"

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    """``--config PATH``, else $COOP_ARCHIVE_CONFIG, else ./coop-archive.toml if there is one."""
    return click.option(
        "--config", "config_path", envvar=CONFIG_ENV, default=None,
        type=click.Path(dir_okay=False),
        help=f"The watch list (TOML); also ${CONFIG_ENV}; default ./coop-archive.toml when "
             "it exists, else the cooperation page alone.",
    )(func)


def watch_db_option(func: F) -> F:
    """``--db PATH``, else $COOP_ARCHIVE_DB, else the config's [archive] db, else
    ./coop-archive.db."""
    return click.option(
        "--db", "db", envvar=DB_ENV, default=None, type=click.Path(dir_okay=False),
        help=f"The archive (SQLite file); also ${DB_ENV}; default: the config's [archive] "
             f"db, else {DEFAULT_DB}.",
    )(func)


def load_watchlist(config_path: str | None) -> Any:
    """The checked watch list (scraper.config.WatchList); a broken one is exit 2, after one
    line on stderr per problem (as ``config check`` prints them)."""
    from scraper.config import ConfigError, load, locate
    from scraper.notify import target_problem

    try:
        return load(locate(config_path), target_problem=target_problem)
    except ConfigError as e:
        for line in e.lines():
            click.echo(printable(f"coop-archive: {line}"), err=True)
        raise SystemExit(EXIT_USAGE) from None


def resolve_db(db: str | None, watchlist: Any) -> str:
    """The archive: ``--db`` / $COOP_ARCHIVE_DB, else the config's, else the default. An
    empty ``--db ''`` is given, not absent: the archive layer refuses it."""
    return db if db is not None else watchlist.db or DEFAULT_DB


def watch_option(func: F) -> F:
    """``--watch NAME`` (and ``--config``): a watch's page in place of a URL argument."""
    func = click.option("--watch", "watch_name", metavar="NAME",
                        help="A watch of the watch list (see --config): its page in place "
                             "of URL (search, export: only its pages); the archive is the "
                             "config's unless --db is given.")(func)
    return config_option(func)


def watch_target(url: str | None, watch_name: str | None, config_path: str | None,
                 db: str) -> tuple[str | None, str]:
    """The URL and archive a command reads: ``url`` and ``db`` as given, or with ``--watch
    NAME`` the watch's URL and (when ``--db`` / $COOP_ARCHIVE_DB was not given) the
    config's archive."""
    if watch_name is None:
        return url, db
    if url is not None:
        raise Exit("give a URL or --watch, not both", EXIT_USAGE)
    watchlist = load_watchlist(config_path)
    source = click.get_current_context().get_parameter_source("db")
    if source in (ParameterSource.DEFAULT, None) and watchlist.db:
        db = watchlist.db
    return watchlist.watch(watch_name).url, db


@click.group("config")
def config_group() -> None:
    """The watch list file (coop-archive.toml)."""


@config_group.command("check")
@config_option
@click.option("--json", "as_json", is_flag=True,
              help="Print the problems (or the watches) as JSON.")
@handle_errors
def check(config_path: str | None, as_json: bool) -> None:
    """Read the watch list and report every problem in it, one line each with its line
    number (unknown key, wrong type, duplicate name, bad URL, bad selector, unknown
    notification scheme). Nothing is crawled. Exit 0 when it is usable, 2 when not."""
    from scraper.config import ConfigError, load, locate
    from scraper.notify import target_problem

    path = locate(config_path)
    try:
        watchlist = load(path, target_problem=target_problem)
    except ConfigError as e:
        if as_json:
            click.echo(json.dumps({"ok": False, "path": e.path, "problems": [
                {"line": p.line, "message": p.message} for p in e.problems]}, indent=2))
        for line in e.lines():
            click.echo(printable(f"coop-archive: {line}"), err=True)
        raise SystemExit(EXIT_USAGE) from None
    if path is None and config_path is None:
        where = "no config file (./coop-archive.toml): the default watch list"
    else:
        where = str(path)
    if as_json:
        click.echo(json.dumps({"ok": True, "path": path, "db": watchlist.db,
                               "watches": [{"name": w.name, "url": w.url, "tags": list(w.tags),
                                            "depth": w.settings.depth}
                                           for w in watchlist.watches]}, indent=2))
        return
    click.echo(printable(f"ok: {where}: {len(watchlist.watches)} watch(es): "
                         + ", ".join(w.name for w in watchlist.watches)))


@click.command()
@config_option
@watch_db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per watch.")
@handle_errors
def watches(config_path: str | None, db: str | None, as_json: bool) -> None:
    """Each watch of the watch list: its last run and status, its last change, and the
    notifications still pending for it."""
    import os

    from archive import outbox
    from archive.changes import watch_status
    from archive.store import Archive

    watchlist = load_watchlist(config_path)
    path = resolve_db(db, watchlist)
    rows = []
    archive = Archive.open(path, readonly=True) if os.path.exists(path) else None
    try:
        waiting = [e.watch for e in outbox.pending(archive)] if archive is not None else []
        for w in watchlist.watches:
            status = watch_status(archive, w.url) if archive is not None else {
                "last_run": None, "runs": 0, "last_change": None}
            rows.append({"name": w.name, "url": w.url, "tags": list(w.tags), **status,
                         "pending_notifications": waiting.count(w.name)})
    finally:
        if archive is not None:
            archive.close()
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    for row in rows:
        run = row["last_run"]
        last = (f"run {run['id']} {run['status']} {run['started_at'][:16]}" if run
                else "never crawled")
        change = f"changed {row['last_change'][:16]}" if row["last_change"] else "no change yet"
        pending = (f", {row['pending_notifications']} notification(s) pending"
                   if row["pending_notifications"] else "")
        click.echo(printable(f"{row['name']:<20} {last}; {change}{pending}  {row['url']}"))


def register(group: click.Group) -> None:
    """Add this module's commands to the CLI group."""
    group.add_command(config_group)
    group.add_command(watches)


__all__ = ["Exit", "config_option", "load_watchlist", "register", "resolve_db",
           "watch_db_option", "watch_option", "watch_target"]
