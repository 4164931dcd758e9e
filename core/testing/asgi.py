"""Plumbing shared by the simulators of external APIs that plugins ship beside their code.

Simulators speak raw ASGI rather than a framework because they must misbehave on purpose (hang
until the client gives up, answer 200 with a cut body, replay stored bytes verbatim); what they
have in common — the ASGI types, answering, reading a bounded body, the lifespan handshake, JSON
bytes and serving on a background thread for tests — lives here once.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

START_TIMEOUT_S = 10.0


async def send_response(
    send: Send,
    status: int,
    body: bytes,
    *,
    content_type: str = "application/json",
    headers: Iterable[tuple[str, str]] = (),
) -> None:
    """Answer with a complete body: content type and length first, then `headers` as given."""
    raw = [(b"content-type", content_type.encode("latin-1")), (b"content-length", str(len(body)).encode("ascii"))]
    raw += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive, *, limit: int | None = None) -> bytes | None:
    """The whole request body, or None when the client left before sending it all or sent more
    than `limit` bytes (a simulator must never buffer without bound)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if limit is not None and size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class SimulatorApp:
    """Base of a simulator's ASGI app: it acknowledges the lifespan handshake (a simulator holds
    no resources of its own), ignores other kinds of connection and hands each HTTP request to
    `handle`."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        elif scope["type"] == "http":
            await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


def json_body(document: Any, *, indent: int | None = None) -> bytes:
    """UTF-8 JSON, non-ASCII text kept as text (as real APIs send it); compact unless `indent`."""
    separators = None if indent is not None else (",", ":")
    return json.dumps(document, ensure_ascii=False, indent=indent, separators=separators, default=str).encode()


def uvicorn_server(app: ASGIApp, host: str, port: int, *, foreground: bool, **options: Any) -> uvicorn.Server:
    """A uvicorn server for a simulator (`options` go to `uvicorn.Config`). In the foreground (a
    CLI command) it logs like uvicorn; in the background (tests, the demo) it leaves the host's
    logging alone. A request held open by a timeout fault never keeps shutdown waiting long."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="asyncio",
        log_level="info" if foreground else "warning",
        log_config=uvicorn.config.LOGGING_CONFIG if foreground else None,
        timeout_graceful_shutdown=2,
        **options,
    )
    return uvicorn.Server(config)


@contextmanager
def serve_in_thread(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    name: str = "simulator",
    stopping: threading.Event | None = None,
    **options: Any,
) -> Iterator[str]:
    """Serve `app` on a background thread and yield the base URL; `port=0` picks a free port.

    The socket is bound here, before the thread starts, so the port is known without a race.
    On exit `stopping` is set first, which releases requests a simulator holds open on purpose,
    so shutdown never waits for them. `options` go to `uvicorn.Config`.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on accepted sockets whose proto
    # says TCP, and without it every keep-alive request waits ~40 ms (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    bound_port = int(sock.getsockname()[1])
    server = uvicorn_server(app, host, bound_port, foreground=False, **options)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"{name}-{bound_port}", daemon=True)
    if stopping is not None:
        stopping.clear()
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(timeout=START_TIMEOUT_S)
            sock.close()
            raise RuntimeError(f"{name} failed to start on {host}:{bound_port}")
        time.sleep(0.005)
    shown_host = f"[{host}]" if family == socket.AF_INET6 else host
    try:
        yield f"http://{shown_host}:{bound_port}"
    finally:
        if stopping is not None:
            stopping.set()
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_S)
        sock.close()


__all__ = [
    "ASGIApp",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "SimulatorApp",
    "json_body",
    "read_body",
    "send_response",
    "serve_in_thread",
    "uvicorn_server",
]
