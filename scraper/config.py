"""The watch list: which pages to archive, with which settings, and whom to tell.

One TOML file (README, "Watch list")::

    [archive]
    db = "archive.db"                   # relative to the config file's folder
    user-agent = "coop-archive/0.1 (+https://example.org/contact)"
    delay = 2                            # any crawl setting: the CLI option's name
    feed = "changes.atom"                # rewritten after every crawl

    [notify]
    urls = ["mailto://archive:secret@mail.example.org?to=team@example.org"]
    date-only = false                    # also tell about date-only bumps
    failures = false                     # also tell about failed pages

    [[watch]]
    name = "coop"
    url = "https://www.transportation.gov/r2ze/US-China-Cooperation"
    depth = 1
    tags = ["dot"]
    main = "#main-content"               # where the content is (CSS)
    ignore = [".visit-counter"]          # dropped before records and hash are made
    notify = ["json://127.0.0.1:8080/hook"]   # replaces [notify] urls for this watch

Settings are spelt as the command-line options (``max-bytes``); ``max_bytes`` is accepted
too. Which file: the caller's explicit path (``--config``, or ``$COOP_ARCHIVE_CONFIG``, read by
the CLI), else ``./coop-archive.toml`` when it exists, else none: then the one watch is the
cooperation page at depth 1, as before there were watch lists.

Every problem is reported with its line (:class:`ConfigError` carries them all). TOML parsers
give no positions for values, so :class:`_KeyLines` finds each key's line by scanning the
text for table headers and ``key =``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from archive.errors import UsageError
from archive.urls import normalize_url, url_problem
from scraper import DEFAULT_SEED
from scraper.notify import redact
from scraper.settings import CrawlSettings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIG_FILE = "coop-archive.toml"
DEFAULT_WATCH = "default"

_SETTINGS = {f.name: f for f in dataclasses.fields(CrawlSettings)}
# Key spellings: the CLI's ("max-bytes"); "_" is accepted for "-"; --allow-host repeats, so
# its key is a list under either name.
_ALIASES = {"allow-host": "allow-hosts"}
_ARCHIVE_KEYS = {"db", "feed"}
_WATCH_KEYS = {"name", "url", "tags", "main", "ignore", "notify"}
_NOTIFY_KEYS = {"urls", "date-only", "failures"}
_TABLES = {"archive": "[archive]", "watch": "[[watch]]", "notify": "[notify]"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config file, at ``line`` (None when no line can be named)."""

    line: int | None
    message: str


class ConfigError(UsageError):
    """A config file that cannot be used: every problem found, each with its line."""

    def __init__(self, path: str, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        first = self.lines()[0] if problems else f"{path}: invalid"
        more = f" (and {len(problems) - 1} more problem(s): coop-archive config check)" \
            if len(problems) > 1 else ""
        super().__init__(first + more)

    def lines(self) -> list[str]:
        """One line per problem: ``PATH:LINE: message``."""
        return [f"{self.path}:{p.line}: {p.message}" if p.line else f"{self.path}: {p.message}"
                for p in self.problems]


@dataclass(frozen=True)
class NotifySettings:
    """The ``[notify]`` table: where to send a run's changes and what counts as news."""

    urls: tuple[str, ...] = ()
    date_only: bool = False
    failures: bool = False


@dataclass(frozen=True)
class Watch:
    """One ``[[watch]]``: a seed and how to crawl it. ``notify`` None means [notify] urls."""

    name: str
    url: str
    settings: CrawlSettings
    tags: tuple[str, ...] = ()
    main: str | None = None
    ignore: tuple[str, ...] = ()
    notify: tuple[str, ...] | None = None
    line: int | None = None


@dataclass(frozen=True)
class WatchList:
    """A whole config file (or the default one when there is none, ``path`` None)."""

    path: str | None
    watches: tuple[Watch, ...]
    settings: CrawlSettings = field(default_factory=CrawlSettings)
    db: str | None = None
    feed: str | None = None
    notify: NotifySettings = field(default_factory=NotifySettings)

    def watch(self, name: str) -> Watch:
        """The watch called ``name``; UsageError naming the known ones otherwise."""
        for w in self.watches:
            if w.name == name:
                return w
        known = ", ".join(w.name for w in self.watches)
        raise UsageError(f"no watch {name!r} in {self.path or 'the default watch list'} "
                         f"(watches: {known})")

    def select(self, *, names: Iterable[str] = (), tags: Iterable[str] = ()) -> list[Watch]:
        """The watches named or tagged (every watch when neither is given), in file order."""
        names, tags = list(names), set(tags)
        for n in names:
            self.watch(n)  # an unknown name is an error, not an empty selection
        if not names and not tags:
            return list(self.watches)
        chosen = [w for w in self.watches if w.name in names or tags & set(w.tags)]
        if not chosen:
            raise UsageError(f"no watch has tag(s) {', '.join(sorted(tags))}")
        return chosen

    def targets(self, watch: Watch) -> tuple[str, ...]:
        """Where a change of ``watch`` is sent: its own ``notify`` list, else [notify] urls."""
        return watch.notify if watch.notify is not None else self.notify.urls

    def all_targets(self) -> tuple[str, ...]:
        """Every notification URL in the file, each once."""
        seen = dict.fromkeys(self.notify.urls)
        for w in self.watches:
            seen.update(dict.fromkeys(w.notify or ()))
        return tuple(seen)


def default_watchlist() -> WatchList:
    """The watch list without a config file: the cooperation page, depth 1."""
    settings = CrawlSettings()
    return WatchList(None, (Watch(DEFAULT_WATCH, DEFAULT_SEED, settings),), settings)


def locate(explicit: str | None, *, cwd: str = ".") -> str | None:
    """The config file to read: ``explicit`` (which must exist), else ``./coop-archive.toml``
    when there is one, else None (the default watch list)."""
    if explicit is not None:
        if not os.path.isfile(explicit):
            raise UsageError(f"no config file {explicit}")
        return explicit
    here = os.path.join(cwd, CONFIG_FILE)
    return here if os.path.isfile(here) else None


def load(path: str | None, *,
         target_problem: Callable[[str], str | None] | None = None) -> WatchList:
    """Read and check the watch list at ``path`` (None: :func:`default_watchlist`).

    ``target_problem`` says what is wrong with a notification URL (None when nothing is);
    without it notification URLs are not checked. Raises ConfigError with every problem.
    """
    if path is None:
        return default_watchlist()
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read config file {path}: {e}") from None
    return parse(text, path=path, target_problem=target_problem)


def parse(text: str, *, path: str = CONFIG_FILE,
          target_problem: Callable[[str], str | None] | None = None) -> WatchList:
    """The watch list in ``text`` (a config file read from ``path``); ConfigError lists every
    problem found, each with its line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column \d+\)", str(e))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e))
        raise ConfigError(path, [Problem(int(m[1]) if m else None,
                                         f"not valid TOML: {message}")]) from None
    checker = _Checker(_KeyLines(text), target_problem)
    result = checker.watchlist(data, path)
    if checker.problems:
        raise ConfigError(path, sorted(checker.problems,
                                       key=lambda p: (p.line or 0, p.message)))
    return result


class _KeyLines:
    """Where each key and table header of a TOML text is: a small scan, not a parser.

    Keys are found per table occurrence: ``("watch", 2, "url")`` is the ``url =`` line of the
    third ``[[watch]]``. Lines inside multi-line strings are skipped.
    """

    _ARRAY = re.compile(r"^\[\[\s*(\"[^\"]*\"|'[^']*'|[^\]]+?)\s*\]\]")
    _TABLE = re.compile(r"^\[\s*(\"[^\"]*\"|'[^']*'|[^\]]+?)\s*\]")
    _KEY = re.compile(r"^(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_.-]+)\s*=")

    def __init__(self, text: str) -> None:
        self.keys: dict[tuple[str, int, str], int] = {}
        self.tables: dict[tuple[str, int], int] = {}
        table, index = "", 0
        counts: dict[str, int] = {}
        open_quote: str | None = None
        for n, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if open_quote is not None:
                if open_quote in line:
                    open_quote = None
                continue
            if m := self._ARRAY.match(line):
                table = m[1].strip("\"'")
                index = counts.get(table, 0)
                counts[table] = index + 1
                self.tables[(table, index)] = n
            elif m := self._TABLE.match(line):
                table, index = m[1].strip("\"'"), 0
                self.tables[(table, index)] = n
            elif m := self._KEY.match(line):
                self.keys.setdefault((table, index, m[1].strip("\"'")), n)
                rest = line[m.end():]
                for quote in ('"""', "'''"):
                    if rest.count(quote) == 1:
                        open_quote = quote

    def of(self, table: str, index: int, key: str | None = None) -> int | None:
        """The line of ``key`` in that table occurrence, else of the table's header."""
        if key is not None and (table, index, key) in self.keys:
            return self.keys[(table, index, key)]
        return self.tables.get((table, index))


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


class _Checker:
    """Walks the parsed TOML, collecting every problem instead of stopping at the first."""

    def __init__(self, lines: _KeyLines,
                 target_problem: Callable[[str], str | None] | None) -> None:
        self.lines = lines
        self.target_problem = target_problem
        self.problems: list[Problem] = []

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(line, message))

    # -- the file ---------------------------------------------------------------------------

    def watchlist(self, data: dict[str, Any], path: str) -> WatchList:
        base = os.path.dirname(os.path.abspath(path))
        for key in data:
            if key not in _TABLES:
                self.problem(self.lines.of(key, 0) or self.lines.of("", 0, key),
                             f"unknown table or key {key!r} (known: archive, watch, notify)")
        archive = self.table(data, "archive")
        notify_table = self.table(data, "notify")
        settings_changes: dict[str, Any] = {}
        db = feed = None
        for key, value in archive.items():
            line = self.lines.of("archive", 0, key)
            name = _canonical(key)
            if name in _ARCHIVE_KEYS:
                if self.expect(value, str, line, f"[archive]: {key}"):
                    if not value.strip():
                        self.problem(line, f"[archive]: {key}: empty path")
                    elif name == "db":
                        db = os.path.join(base, os.path.expanduser(value))
                    else:
                        feed = os.path.join(base, os.path.expanduser(value))
            else:
                self.setting(settings_changes, key, value, line, "[archive]", _ARCHIVE_KEYS)
        notify = self.notify_settings(notify_table)
        settings = dataclasses.replace(CrawlSettings(), **settings_changes)
        watches = self.watches(data.get("watch", []), settings)
        if not watches:
            watches = [dataclasses.replace(default_watchlist().watches[0], settings=settings)]
        return WatchList(path, tuple(watches), settings, db, feed, notify)

    def table(self, data: dict[str, Any], name: str) -> dict[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, dict):
            self.problem(self.lines.of("", 0, name) or self.lines.of(name, 0),
                         f"{name} must be a table ({_TABLES[name]}), not {_kind(value)}")
            return {}
        return value

    def expect(self, value: Any, kind: type, line: int | None, what: str) -> bool:
        ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
        if kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok:
            self.problem(line, f"{what} must be {_kind(kind())}, not {_kind(value)} "
                               f"({value!r})")
        return ok

    def strings(self, value: Any, line: int | None, what: str, *,
                single: bool = False) -> tuple[str, ...] | None:
        """A list of strings (or one string, with ``single``); None after a problem."""
        if single and isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(line, f"{what} must be a list of strings, not {value!r}")
            return None
        return tuple(value)

    # -- settings ---------------------------------------------------------------------------

    def setting(self, changes: dict[str, Any], key: str, value: Any, line: int | None,
                where: str, others: Iterable[str]) -> None:
        name = _canonical(key)
        attr = name.replace("-", "_")
        spec = _SETTINGS.get(attr)
        if spec is None:
            known = ", ".join(sorted([*others, *(n.replace("_", "-") for n in _SETTINGS)]))
            self.problem(line, f"{where}: unknown key {key!r} (known: {known})")
            return
        if attr in changes:
            self.problem(line, f"{where}: {name} given twice ({key!r})")
            return
        what = f"{where}: {key}"
        default = spec.default
        if isinstance(default, tuple):
            hosts = self.strings(value, line, what, single=True)
            if hosts is not None:
                changes[attr] = hosts
            return
        kind: type = str if default is None else type(default)
        if not self.expect(value, kind, line, what):
            return
        lo, hi = spec.metadata.get("min"), spec.metadata.get("max")
        if lo is not None and hi is not None and not lo <= value <= hi:
            self.problem(line, f"{what} = {value} is not in {lo}..{hi}")
            return
        changes[attr] = float(value) if kind is float else value

    def notify_settings(self, table: dict[str, Any]) -> NotifySettings:
        out = NotifySettings()
        for key, value in table.items():
            line = self.lines.of("notify", 0, key)
            name = _canonical(key)
            if name == "urls":
                urls = self.strings(value, line, f"[notify]: {key}")
                if urls is not None:
                    self.targets(urls, line, "[notify]")
                    out = dataclasses.replace(out, urls=urls)
            elif name in _NOTIFY_KEYS:
                if self.expect(value, bool, line, f"[notify]: {key}"):
                    out = dataclasses.replace(out, **{name.replace("-", "_"): value})
            else:
                self.problem(line, f"[notify]: unknown key {key!r} "
                                   f"(known: {', '.join(sorted(_NOTIFY_KEYS))})")
        return out

    def targets(self, urls: Iterable[str], line: int | None, where: str) -> None:
        if self.target_problem is None:
            return
        for url in urls:
            why = self.target_problem(url)
            if why is not None:
                self.problem(line, f"{where}: notification URL {redact(url)!r}: {why}")

    # -- watches ----------------------------------------------------------------------------

    def watches(self, entries: Any, settings: CrawlSettings) -> list[Watch]:
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            self.problem(self.lines.of("watch", 0) or self.lines.of("", 0, "watch"),
                         "watch must be an array of tables ([[watch]]), "
                         f"not {_kind(entries)}")
            return []
        out: list[Watch] = []
        names: dict[str, int | None] = {}
        for index, entry in enumerate(entries):
            name = entry.get("name")
            if isinstance(name, str):
                line = self.lines.of("watch", index, "name")
                if name in names:
                    self.problem(line, f"duplicate watch name {name!r} (first at line "
                                       f"{names[name]})")
                names.setdefault(name, line)
            watch = self.watch(index, entry, settings)
            if watch is None:
                continue
            # The archive tells a watch's runs by their seed: two watches of one page would
            # read each other's runs as their own previous ones.
            same = next((w for w in out if normalize_url(w.url) == normalize_url(watch.url)),
                        None)
            if same is not None:
                self.problem(self.lines.of("watch", index, "url"),
                             f"watch {watch.name!r}: the same url as watch {same.name!r} "
                             f"(line {same.line}): give it one watch")
                continue
            out.append(watch)
        return out

    def watch(self, index: int, entry: dict[str, Any], settings: CrawlSettings) -> Watch | None:
        header = self.lines.of("watch", index)
        before = len(self.problems)
        name = entry.get("name")
        label = f"watch {name!r}" if isinstance(name, str) else f"[[watch]] #{index + 1}"
        fields: dict[str, Any] = {}
        changes: dict[str, Any] = {}
        for key, value in entry.items():
            line = self.lines.of("watch", index, key)
            canon = _canonical(key)
            if canon not in _WATCH_KEYS:
                self.setting(changes, key, value, line, label, _WATCH_KEYS)
            elif canon in ("name", "url", "main"):
                if self.expect(value, str, line, f"{label}: {key}"):
                    fields[canon] = value
            elif canon in ("tags", "ignore", "notify"):
                got = self.strings(value, line, f"{label}: {key}", single=canon != "notify")
                if got is not None:
                    fields[canon] = got
        for required in ("name", "url"):
            if required not in entry:
                self.problem(header, f"{label}: no {required} (every [[watch]] needs "
                                     "a name and a url)")
        name_value = fields.get("name")
        if isinstance(name_value, str) and (not name_value.strip() or name_value != name_value
                                            .strip() or not name_value.isprintable()):
            self.problem(self.lines.of("watch", index, "name"),
                         f"{label}: a name must be printable text without leading or "
                         "trailing spaces")
        url = fields.get("url")
        if isinstance(url, str):
            why = url_problem(url)
            if why is not None:
                self.problem(self.lines.of("watch", index, "url"), f"{label}: url: {why}: "
                                                                   f"{url!r}")
        for key in ("main", "ignore"):
            selectors = fields.get(key)
            if selectors is None:
                continue
            for sel in (selectors,) if isinstance(selectors, str) else selectors:
                why = selector_problem(sel)
                if why is not None:
                    self.problem(self.lines.of("watch", index, key),
                                 f"{label}: {key}: bad CSS selector {sel!r}: {why}")
        if "notify" in fields:
            self.targets(fields["notify"], self.lines.of("watch", index, "notify"), label)
        if len(self.problems) > before:
            return None
        return Watch(fields["name"], fields["url"], dataclasses.replace(settings, **changes),
                     tags=fields.get("tags", ()), main=fields.get("main"),
                     ignore=fields.get("ignore", ()), notify=fields.get("notify"),
                     line=header)


def _canonical(key: str) -> str:
    name = key.replace("_", "-")
    return _ALIASES.get(name, name)


def selector_problem(selector: str) -> str | None:
    """Why lxml's cssselect cannot use ``selector`` (None when it can)."""
    from lxml.cssselect import CSSSelector, SelectorError

    if not selector.strip():
        return "empty"
    try:
        CSSSelector(selector)
    except SelectorError as e:
        return str(e) or type(e).__name__
    return None

