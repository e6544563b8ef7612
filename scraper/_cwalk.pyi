"""Types of scraper/_cwalk.pyx, the compiled walk (see its docstring)."""

from collections.abc import Callable, Collection
from typing import Any

from scraper.extract import Extracted

BUILT_WITH_LXML: str

def walk(main: Any, base_url: str, page_url: str, keep: Callable[[Any], bool] | None,
         drop: Collection[Any]) -> Extracted: ...

def outside_raw(body: Any, main: Any, skipped: tuple[Any, ...],
                kinds: dict[str, int]) -> str | None: ...
SOURCE_SHA256: str

def check() -> None: ...

def text_rules(s: str, breaks: bool = False) -> tuple[str, int]: ...

def url_rules(href: str) -> tuple[bool, bool]: ...

def fold_lines(text: str) -> str: ...

UPDATED_FRAGMENTS: tuple[str, ...]

def mentions_any(text: str, words: tuple[str, ...]) -> bool: ...

MARK_KEYS: tuple[str, ...]

def gather(root: Any) -> dict[str, list[Any]]: ...

def votes(root: Any, tags: tuple[str, ...], least: int) -> list[tuple[Any, int, int]] | None: ...
