"""What every loopback stand-in shares: an aiohttp server on 127.0.0.1, and waiting on it."""
# ruff: noqa: ASYNC109 - test helpers take a timeout so a test reads as one line

import asyncio
import contextlib
import socket
from collections.abc import Callable
from types import TracebackType
from typing import Self

from aiohttp import web


class LoopbackServer:
    """An aiohttp app on an ephemeral 127.0.0.1 port, with ``wait_until`` on what it records.

    Subclasses build their app in ``start()`` and hand it to ``_serve``; ``close()``
    ends with ``_stop``. Whatever they record, they follow with ``notify()``.
    """

    def __init__(self) -> None:
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self._runner: web.AppRunner | None = None
        self._port = 0

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
