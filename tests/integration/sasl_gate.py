"""A SASL gate in front of the embedded broker, for tests: the server side of Kafka's
SASL exchange (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), then the connection is piped to
the broker.

Tansu 0.6.0 as shipped cannot authenticate anyone: its storage keeps no SCRAM
credentials and it offers no PLAIN (docs/kafka.md, "What was tested"). The gate lets
the clients' own SASL code (aiokafka, kafka-python, Faust) run over a real socket
against a server that accepts the right password and refuses a wrong one.

Before authentication a connection may send ApiVersions (forwarded to the broker, whose
answer lists SaslHandshake and SaslAuthenticate), SaslHandshake v1 and SaslAuthenticate
v0-v2; anything else closes it, as a broker requiring SASL does.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
UNSUPPORTED_SASL_MECHANISM, SASL_AUTHENTICATION_FAILED = 33, 58
SCRAM_HASHES = {"SCRAM-SHA-256": hashlib.sha256, "SCRAM-SHA-512": hashlib.sha512}
MECHANISMS = ("PLAIN", *SCRAM_HASHES)


class AuthFailed(Exception):
    pass


@dataclass
class _Scram:
    """The server side of RFC 5802 for one connection."""

    users: dict[str, str]
    hash_name: str
    user: str = ""
    nonce: str = ""
    client_first_bare: str = ""
    server_first: str = ""
    salt: bytes = field(default_factory=lambda: os.urandom(16))
    iterations: int = 4096

    def step(self, token: bytes) -> tuple[bytes, bool]:
        """The answer to a client message, and whether the exchange is over."""
        message = token.decode()
        if not self.server_first:
            self.client_first_bare = message.split(",", 2)[2]  # after the GS2 header
            attrs = dict(part.split("=", 1) for part in self.client_first_bare.split(","))
            self.user = attrs["n"]
            self.nonce = attrs["r"] + base64.b64encode(os.urandom(18)).decode()
            self.server_first = (f"r={self.nonce},s={base64.b64encode(self.salt).decode()},"
                                 f"i={self.iterations}")
            return self.server_first.encode(), False
        without_proof, _, proof = message.rpartition(",p=")
        password = self.users.get(self.user)
        if password is None or f"r={self.nonce}" not in without_proof.split(","):
            raise AuthFailed("unknown user or wrong nonce")
        digest = SCRAM_HASHES[self.hash_name]
        salted = hashlib.pbkdf2_hmac(digest().name, password.encode(), self.salt,
                                     self.iterations)
        client_key = hmac.digest(salted, b"Client Key", digest)
        auth_message = f"{self.client_first_bare},{self.server_first},{without_proof}".encode()
        signature = hmac.digest(digest(client_key).digest(), auth_message, digest)
        expected = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        if not hmac.compare_digest(base64.b64decode(proof), expected):
            raise AuthFailed("wrong password")
        server_key = hmac.digest(salted, b"Server Key", digest)
        verifier = base64.b64encode(hmac.digest(server_key, auth_message, digest)).decode()
        return f"v={verifier}".encode(), True


@dataclass
class _Plain:
    users: dict[str, str]

    def step(self, token: bytes) -> tuple[bytes, bool]:
        _authz, user, password = token.decode().split("\0")
        if self.users.get(user) != password:
            raise AuthFailed("wrong user or password")
        return b"", True


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">h", len(data)) + data


def _uvarint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_uvarint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


class SaslGate:
    """Listens on 127.0.0.1:``port`` and pipes authenticated connections to ``upstream``."""

    def __init__(self, port: int, upstream: tuple[str, int], users: dict[str, str]) -> None:
        self.port = port
        self.upstream = upstream
        self.users = users
        self.refused = 0  # connections that failed authentication
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def start(self) -> SaslGate:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", self.port), self._loop).result(10)
        return self

    def stop(self) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        try:
            if await self._authenticate(reader, writer, up_reader, up_writer):
                await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            up_writer.close()

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
        sink.close()

    @staticmethod
    async def _frame(reader: asyncio.StreamReader) -> bytes:
        size = struct.unpack(">i", await reader.readexactly(4))[0]
        return await reader.readexactly(size)

    async def _authenticate(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                            up_reader: asyncio.StreamReader,
                            up_writer: asyncio.StreamWriter) -> bool:
        step: Callable[[bytes], tuple[bytes, bool]] | None = None
        while True:
            request = await self._frame(reader)
            api_key, version, correlation = struct.unpack(">hhi", request[:8])
            client_id_size = struct.unpack(">h", request[8:10])[0]
            body_at = 10 + max(client_id_size, 0)
            if api_key == API_VERSIONS:
                up_writer.write(struct.pack(">i", len(request)) + request)
                response = await self._frame(up_reader)
                writer.write(struct.pack(">i", len(response)) + response)
            elif api_key == SASL_HANDSHAKE and version == 1:
                mechanism = request[body_at + 2:].decode()
                error = 0 if mechanism in MECHANISMS else UNSUPPORTED_SASL_MECHANISM
                if mechanism == "PLAIN":
                    step = _Plain(self.users).step
                elif mechanism in SCRAM_HASHES:
                    step = _Scram(self.users, mechanism).step
                body = struct.pack(">ihi", correlation, error, len(MECHANISMS)) + b"".join(
                    map(_string, MECHANISMS))
                writer.write(struct.pack(">i", len(body)) + body)
            elif api_key == SASL_AUTHENTICATE and step is not None:
                flexible = version >= 2
                if flexible:  # header v2: tagged fields after the client id, compact bytes
                    _tags, at = _read_uvarint(request, body_at)
                    size, at = _read_uvarint(request, at)
                    token = request[at:at + size - 1]
                else:
                    size = struct.unpack(">i", request[body_at:body_at + 4])[0]
                    token = request[body_at + 4:body_at + 4 + size]
                try:
                    answer, done = step(token)
                    error, message = 0, None
                except (AuthFailed, ValueError, KeyError) as exc:
                    self.refused += 1
                    answer, done = b"", True
                    error, message = SASL_AUTHENTICATION_FAILED, f"Authentication failed: {exc}"
                writer.write(self._authenticate_response(correlation, version, error, message,
                                                         answer))
                await writer.drain()
                if error:
                    return False
                if done:
                    return True
            else:
                return False  # a broker that requires SASL closes such a connection
            await writer.drain()

    @staticmethod
    def _authenticate_response(correlation: int, version: int, error: int,
                               message: str | None, answer: bytes) -> bytes:
        if version >= 2:
            text = b"\0" if message is None else _uvarint(len(message) + 1) + message.encode()
            body = (struct.pack(">ib", correlation, 0) + struct.pack(">h", error) + text
                    + _uvarint(len(answer) + 1) + answer + struct.pack(">q", 0) + b"\0")
        else:
            text = struct.pack(">h", -1) if message is None else _string(message)
            body = (struct.pack(">ih", correlation, error) + text
                    + struct.pack(">i", len(answer)) + answer
                    + (struct.pack(">q", 0) if version >= 1 else b""))
        return struct.pack(">i", len(body)) + body
