"""Real endpoints on loopback for reminder tests and benchmarks: a Web Push service that stores
what it receives (collapsing messages with the same Topic, as push services do), and the keys of
a browser's subscription so a test can decrypt the payload (RFC 8291) like the browser would."""
from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class BrowserKeys:
    """A browser's side of one push subscription: its P-256 key pair and auth secret."""

    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth_secret: bytes = field(default_factory=lambda: __import__("os").urandom(16))

    @property
    def p256dh(self) -> str:
        return b64url(self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def decrypt(self, body: bytes) -> dict:
        """The payload as the browser reads it (aes128gcm)."""
        return json.loads(http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth_secret,
                                           version="aes128gcm"))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


def serve(on_post) -> ThreadingHTTPServer:
    """An HTTP server on 127.0.0.1 (port chosen by the system) in a daemon thread, answering each
    POST with the status `on_post(path, headers, body)` returns (headers lower-cased)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = on_post(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class PushService:
    """A push service on 127.0.0.1. `answer[path] = status` makes a subscription answer that
    status (e.g. 410 Gone, 503); `messages` holds one message per (path, Topic), the newest."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.messages: dict[tuple[str, str], Received] = {}
        self.answer: dict[str, int] = {}
        #: Called with each message before the service answers (e.g. a phone acknowledging it).
        self.on_receive = None
        self._lock = threading.Lock()
        self.server = serve(self._receive)

    def _receive(self, path: str, headers: dict[str, str], body: bytes) -> int:
        received = Received(path, headers, body)
        status = self.answer.get(path, 201)
        if self.on_receive is not None and status == 201:
            self.on_receive(received)
        with self._lock:
            self.requests.append(received)
            if status == 201:
                self.messages[(path, headers.get("topic", ""))] = received
        return status

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def endpoint(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/push/{name}"

    def delivered_to(self, name: str) -> list[Received]:
        """The messages (collapsed by Topic) a subscription received."""
        with self._lock:
            return [m for (path, _topic), m in self.messages.items() if path == f"/push/{name}"]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.messages.clear()
            self.answer.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
