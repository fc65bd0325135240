"""What both loopback stand-ins share: the server, the records, injected faults and waiting.

An aiohttp server on an ephemeral ``127.0.0.1`` port; the lists of what was asked of it and of
what real Discord or Slack would have refused (:meth:`LoopbackServer.assert_clean`); a queue of
injected faults taken one request at a time; and ``wait_until`` on anything recorded. See
``docs/standins.md`` for what each stand-in models.
"""
# ruff: noqa: ASYNC109 - test helpers take a timeout so a test reads as one line

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

from aiohttp import web

T = TypeVar("T")
F = TypeVar("F", bound="InjectedFault")


class Waiter(Protocol):
    """The part of a stand-in a record uses to wait for what happens to it."""

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "a condition"
    ) -> None:
        """Wait until ``predicate()`` holds."""
        ...


@dataclass
class InjectedFault:
    """A failure waiting for the next ``remaining`` matching requests.

    ``processed``: the request is carried out first and only its answer fails (the platform
    did the work, the reply was lost). ``reset``: the connection is reset instead of answered.
    """

    remaining: int
    processed: bool
    reset: bool


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON answer with ``Content-Type`` exactly ``application/json``.

    (With ``; charset=utf-8``, as aiohttp's ``json_response`` sends, discord.py hands the
    caller the raw text instead of parsed JSON.)
    """
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def reset_connection(request: web.Request) -> None:
    """Close ``request``'s connection at once with a TCP reset, answering nothing."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class LoopbackServer(Generic[F]):
    """An aiohttp app on 127.0.0.1 that records what it was asked and what it refused.

    Subclasses build their app in ``start()`` and hand it to ``_serve``; ``close()`` ends
    with ``_stop``. Whatever they record, they follow with ``notify()``. ``platform`` names
    the platform in :meth:`assert_clean`'s message.
    """

    platform = "loopback"

    def __init__(self) -> None:
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._faults: list[F] = []
        #: Requests for routes or methods the stand-in does not model.
        self.unhandled: list[str] = []
        #: What real Discord or Slack would have refused.
        self.protocol_errors: list[str] = []
        self.rate_limited_count = 0  # 429s served because ``enforce_limits`` is on
        self.injected_fault_count = 0

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Build the app and serve it (subclasses)."""
        raise NotImplementedError

    async def close(self) -> None:
        """Stop serving (subclasses add their own clean-up before ``_stop``)."""
        await self._stop()

    async def _serve(self, app: web.Application) -> None:
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for _, future in self._waiters:
            future.cancel()
        self._waiters.clear()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def port(self) -> int:
        """The TCP port the stand-in listens on."""
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self._port}"

    # ----------------------------------------------------------------- checking

    def protocol_error(self, text: str) -> None:
        """Record something the real platform would have refused (fails :meth:`assert_clean`)."""
        self.protocol_errors.append(text)

    def assert_clean(self) -> None:
        """Raise AssertionError listing unhandled requests and protocol errors, if any."""
        problems = [f"unhandled request: {u}" for u in self.unhandled]
        problems += [f"protocol error: {e}" for e in self.protocol_errors]
        if problems:
            raise AssertionError(
                f"{self.platform} stand-in saw problems:\n  " + "\n  ".join(problems)
            )

    # ----------------------------------------------------------------- faults

    def _inject(self, fault: F) -> None:
        self._faults.append(fault)

    def _take_fault(self, matches: Callable[[F], bool]) -> F | None:
        """The first injected fault that ``matches`` this request, counted down by one."""
        fault = next((f for f in self._faults if matches(f)), None)
        if fault is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            self.injected_fault_count += 1
        return fault

    # ----------------------------------------------------------------- waiting

    def notify(self) -> None:
        """Wake the waiters whose condition now holds (called whenever something is recorded)."""
        for predicate, future in list(self._waiters):
            if future.done():
                continue
            try:
                if predicate():
                    future.set_result(None)
            except Exception as exc:  # noqa: BLE001 - handed to the waiting test
                future.set_exception(exc)

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "a condition"
    ) -> None:
        """Wait until ``predicate()`` holds (checked whenever the stand-in records something).

        Raises :class:`TimeoutError` naming ``what`` after ``timeout`` seconds.
        """
        if predicate():
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (predicate, future)
        self._waiters.append(entry)
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise TimeoutError(f"stand-in: timed out after {timeout}s waiting for {what}") from None
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(entry)

    async def wait_for_records(
        self, records: Callable[[], Sequence[T]], n: int, timeout: float, what: str
    ) -> list[T]:
        """Wait until ``records()`` holds at least ``n`` entries; return them."""
        await self.wait_until(lambda: len(records()) >= n, timeout, f"{n} {what}")
        return list(records())
