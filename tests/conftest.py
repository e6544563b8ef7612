"""Shared pytest fixtures, and the tier markers.

Every test is marked by the folder it lives in: ``unit``, ``integration``, ``e2e`` or ``bench``
(registered in pyproject.toml), so ``pytest -m "not e2e"`` runs the fast tiers.
Loopback HTTP servers (see ``tests/servers.py``) and Fetchers that record instead of sleep.
Add fixtures for other areas in their own clearly headed section below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scraper.fetch import Fetcher
from tests.receivers import MailReceiver, WebhookReceiver
from tests.servers import LoopbackServer

# -- Tiers: a marker per folder ----------------------------------------------------------

TESTS = Path(__file__).resolve().parent
TIERS = ("unit", "integration", "e2e", "bench")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test under tests/ with its tier, the first folder below tests/.

    A test file outside the tier folders is an error rather than an unmarked test, which
    ``-m "not e2e"`` would silently run however slow it is.
    """
    for item in items:
        try:
            parts = item.path.resolve().relative_to(TESTS).parts
        except ValueError:
            continue  # not under tests/ (e.g. a doctest collected from a package)
        if len(parts) < 2 or parts[0] not in TIERS:
            raise pytest.UsageError(f"{item.path}: test files belong in tests/unit, "
                                    "tests/integration or tests/e2e (see tests/conftest.py)")
        item.add_marker(parts[0])


# -- HTTP: loopback servers and fetchers ---------------------------------------------------


@pytest.fixture(scope="session")
def _shared_servers() -> Iterator[dict[str, LoopbackServer]]:
    """One loopback server per address for the whole session, started when first asked for.

    Starting a threaded server per test costs more than the test; ``http_server`` lends these
    out and resets them after each test, so sharing leaks nothing between tests.
    """
    servers: dict[str, LoopbackServer] = {}
    yield servers
    for srv in servers.values():
        srv.stop()


@pytest.fixture
def http_server(_shared_servers: dict[str, LoopbackServer],
                ) -> Iterator[Callable[..., LoopbackServer]]:
    """Factory: ``http_server("127.0.0.3")`` is a server on that loopback address, no routes.

    The first call for an address lends the session's shared server for it (``own=True``
    asks for a private one instead); a second call for the same address in one test starts a
    private one. After the test, private servers are stopped (threads joined, sockets closed),
    shared ones reset (connections ended, routes and records forgotten; one a test stopped is
    replaced), and any handler error in either fails the test.
    """
    lent: list[LoopbackServer] = []
    private: list[LoopbackServer] = []

    def start(host: str = "127.0.0.2", *, own: bool = False) -> LoopbackServer:
        shared = _shared_servers.get(host)
        if own or any(srv.host == host for srv in lent):
            srv = LoopbackServer(host).start()
            private.append(srv)
            return srv
        if shared is None or not shared.running:  # a test may have stopped it on purpose
            shared = _shared_servers[host] = LoopbackServer(host).start()
        lent.append(shared)
        return shared

    yield start
    errors: list[BaseException] = []
    for srv in private:
        srv.stop()
        errors += srv.errors
    for srv in lent:
        errors += srv.reset() if srv.running else srv.errors
    assert not errors, f"loopback server handler errors: {errors!r}"


@pytest.fixture
def server(http_server: Callable[..., LoopbackServer]) -> LoopbackServer:
    """The loopback server on 127.0.0.2 (the session's shared one, fresh for this test)."""
    return http_server("127.0.0.2")


@pytest.fixture
def sleeps() -> list[float]:
    """The waits a ``make_fetcher`` Fetcher asked for, in order (nothing actually sleeps)."""
    return []


@pytest.fixture
def make_fetcher(sleeps: list[float]) -> Iterator[Callable[..., Fetcher]]:
    """Factory for Fetchers with test-friendly defaults, all closed after the test.

    Defaults: short timeouts, 3 retries, ``sleep=sleeps.append``. Any keyword overrides.
    """
    made: list[Fetcher] = []

    def make(**kwargs: Any) -> Fetcher:
        options: dict[str, Any] = {"timeout": (2.0, 2.0), "retries": 3, "sleep": sleeps.append}
        options.update(kwargs)
        fetcher = Fetcher(**options)
        made.append(fetcher)
        return fetcher

    yield make
    for fetcher in made:
        fetcher.close()


# -- notification receivers ------------------------------------------------------------------


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    """A JSON webhook receiver on 127.0.0.1 (``hook.url``); stop and start it to take it down
    and bring it back on the same port."""
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def mail() -> Iterator[MailReceiver]:
    """An SMTP server (aiosmtpd) on 127.0.0.1: ``mail.url()`` is its mailto:// target."""
    receiver = MailReceiver().start()
    yield receiver
    receiver.stop()
