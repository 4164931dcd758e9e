"""A webhook receiver on 127.0.0.1 for the tests: a bare HTTP/1.1 server (one request per
connection) that answers from a script (a status code, "hang" past the client's timeout or "drop"
the connection) and verifies every delivery with the `standardwebhooks` library."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

Answer = int | str  # a status code, or "hang" / "drop"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: Answer
    verified: Any = None  # the JSON the library verified and parsed, or None
    refusal: str | None = None  # why the library refused it


@dataclass
class Receiver:
    url: str = ""
    secret: str | None = None
    script: list[Answer] = field(default_factory=list)  # one answer per request; then `otherwise`
    otherwise: Answer = 200
    received: list[Received] = field(default_factory=list)

    def reset(self) -> None:
        self.secret, self.script, self.otherwise, self.received = None, [], 200, []

    def answer(self) -> Answer:
        return self.script.pop(0) if self.script else self.otherwise

    def verify(self, headers: dict[str, str], body: bytes) -> tuple[Any, str | None]:
        if self.secret is None:
            return None, "no secret to verify with"
        try:
            return Webhook(self.secret).verify(body, headers), None
        except WebhookVerificationError as exc:
            return None, str(exc)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            answer = self.answer()
            verified, refusal = self.verify(headers, body)
            self.received.append(Received(headers, body, answer, verified, refusal))
            if answer == "drop":
                return
            if answer == "hang":  # longer than the timeouts the tests set, shorter than the session
                await asyncio.sleep(5)
                return
            text = f"answer {answer}: " + "x" * 3000  # longer than the excerpt the engine keeps
            writer.write(
                f"HTTP/1.1 {answer} X\r\ncontent-type: text/plain\r\ncontent-length: {len(text)}\r\n"
                f"connection: close\r\n\r\n{text}".encode()
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    receiver.url = f"http://127.0.0.1:{port}/hooks/emporio"
    try:
        yield receiver
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 5)
