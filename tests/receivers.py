"""Loopback receivers for notifications: a JSON webhook and an SMTP server, both real.

``WebhookReceiver`` is an HTTP server on 127.0.0.1 that keeps every POST body; it can be
stopped and started again on the same port (a receiver that is down, then up).
``MailReceiver`` is aiosmtpd's SMTP server on 127.0.0.1 keeping every message, parsed.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Hook(BaseHTTPRequestHandler):
    server: _HookServer

    def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append((self.path, json.loads(body)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _HookServer(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    received: list[tuple[str, Any]]


class WebhookReceiver:
    """``json://127.0.0.1:PORT/hook`` target: ``received`` holds (path, JSON body) pairs."""

    def __init__(self) -> None:
        self.received: list[tuple[str, Any]] = []
        self.port = 0
        self._server: _HookServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def start(self) -> WebhookReceiver:
        server = _HookServer(("127.0.0.1", self.port), _Hook)
        server.received = self.received
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join()
        self._server = None


class _Keep:
    """aiosmtpd handler: every message received, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 Message accepted for delivery"


class MailReceiver:
    """An SMTP server on 127.0.0.1: ``messages`` holds what it received."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self._handler = _Keep()
        # aiosmtpd connects to its own port to check it is up, so it needs a real one.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self._handler.messages

    def url(self, to: str = "team@example.org") -> str:
        return f"mailto://127.0.0.1:{self.port}?from=archive@example.org&to={to}"

    def start(self) -> MailReceiver:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
