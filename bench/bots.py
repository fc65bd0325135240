"""The bots under test, each a subprocess pointed at a stand-in: ours and the baselines."""

import asyncio
import contextlib
import enum
import os
import signal
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path

from bench.procinfo import cpu_seconds, peak_rss, rss
from bench.standin import GUILD, TOKEN, BenchStandIn

ROOT = Path(__file__).resolve().parent.parent
STOP_TIMEOUT = 10.0
READY_TIMEOUT = 60.0
# The clock our bot answers from: the day after the summit, so every answer is deterministic.
AS_OF = "2017-04-28T09:00Z"
# discord.py fires on_ready ``guild_ready_timeout`` (2 s) after GUILD_CREATE; measurements
# start after it so that neither bot is still settling.
SETTLE = 2.3

_OWN_SETTINGS = ("DISCORD_", "BRIEF", "REMINDER_", "DATABASE_URL", "DATA_DIR", "LOG_LEVEL")


@contextlib.contextmanager
def bytecode_cache() -> Iterator[Path]:
    """Give the bots started in the block a shared bytecode cache, removed afterwards.

    A deployed bot runs from cached bytecode. Where the environment forbids writing it
    (``PYTHONDONTWRITEBYTECODE``, as on some development machines), every start would
    recompile each module whose ``__pycache__`` entry is stale; here the bots write to a
    temporary ``PYTHONPYCACHEPREFIX`` instead, and the source tree is left untouched.
    """
    saved = {k: os.environ.get(k) for k in ("PYTHONPYCACHEPREFIX", "PYTHONDONTWRITEBYTECODE")}
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as cache:
        os.environ["PYTHONPYCACHEPREFIX"] = cache
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        try:
            yield Path(cache)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


class Kind(enum.StrEnum):
    """Which bot: ours, the plain baseline (answers "ok"), the equal-work baseline."""

    OURS = "briefbot"
    BASELINE = "baseline"
    EQUAL = "equal-work"


SCRIPTS = {Kind.BASELINE: "baseline_discord.py", Kind.EQUAL: "baseline_equal.py"}


class BenchError(RuntimeError):
    """A benchmark could not run (a bot failed to start, a wait ran out)."""


def command_line(kind: Kind, wrapper: Sequence[str] = ()) -> list[str]:
    """How to start ``kind``: ``python -m bot run``, or a baseline's script.

    ``wrapper`` goes between the interpreter and the program, e.g. ``-m pyinstrument``.
    """
    if kind is Kind.OURS:
        return [sys.executable, *wrapper, "-m", "bot", "run"]
    return [sys.executable, *wrapper, str(ROOT / "bench" / SCRIPTS[kind])]


def environment(
    standin: BenchStandIn, data_dir: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment both bots get: the stand-in's endpoints, our settings, nothing stray."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_SETTINGS)}
    return {
        **keep,
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_GUILD_ID": str(GUILD),
        "DISCORD_API_BASE_URL": standin.api_base,
        "DISCORD_GATEWAY_URL": standin.gateway_url,
        "BRIEFS_DIR": str(ROOT / "briefs"),
        "DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
        "BRIEFBOT_AS_OF": AS_OF,
        **(extra or {}),
    }


class BotProcess:
    """One bot subprocess: started, watched (its output, its RSS), always stopped."""

    def __init__(
        self,
        kind: Kind,
        env: Mapping[str, str],
        cwd: Path,
        watch: Sequence[str] = (),
        wrapper: Sequence[str] = (),
    ) -> None:
        self.kind = kind
        self.wrapper = tuple(wrapper)
        self.env = dict(env)
        self.cwd = cwd
        self.watch = tuple(watch)
        self.started_at = 0.0
        self.marks: dict[str, float] = {}  # watched text -> perf_counter when first seen
        self.cpu_marks: dict[str, float] = {}  # watched text -> the bot's CPU seconds then
        self.seen: Counter[str] = Counter()  # watched text -> lines carrying it
        self.tail: deque[str] = deque(maxlen=60)
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    @property
    def process(self) -> asyncio.subprocess.Process:
        """The running subprocess."""
        if self._process is None:
            raise BenchError(f"{self.kind} was not started")
        return self._process

    def command(self) -> list[str]:
        """The command line that starts this bot."""
        return command_line(self.kind, self.wrapper)

    async def start(self) -> None:
        """Start the bot; ``started_at`` is taken just before the process is created."""
        self.started_at = time.perf_counter()
        self._process = await asyncio.create_subprocess_exec(
            *self.command(),
            env=self.env,
            cwd=self.cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while raw := await stream.readline():
            now = time.perf_counter()
            line = raw.decode(errors="replace").rstrip()
            self.tail.append(line)
            for text in self.watch:
                if text not in line:
                    continue
                self.seen[text] += 1
                if text not in self.marks:
                    self.marks[text] = now
                    self.cpu_marks[text] = self.cpu()

    async def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after ``STOP_TIMEOUT``; return the exit status."""
        process = self._process
        if process is None:
            return None
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        if self._reader is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._reader, STOP_TIMEOUT)
        return process.returncode

    def rss(self) -> int:
        """The subprocess's resident set size, in bytes."""
        return rss(self.process.pid)

    def peak_rss(self) -> int | None:
        """The subprocess's highest resident set size so far, in bytes, where known."""
        return peak_rss(self.process.pid)

    def cpu(self) -> float:
        """The CPU time (user and system) the subprocess has used so far, in seconds."""
        return cpu_seconds(self.process.pid)

    def failure(self, what: str) -> BenchError:
        """An error naming ``what`` went wrong, with the bot's last output lines."""
        code = self._process.returncode if self._process else None
        status = f" (exit status {code})" if code is not None else ""
        tail = "\n    ".join(list(self.tail)[-15:]) or "(no output)"
        return BenchError(f"{self.kind}: {what}{status}; its last output:\n    {tail}")

    async def until(
        self, standin: BenchStandIn, predicate: Callable[[], bool], within: float, what: str
    ) -> None:
        """Wait until ``predicate()`` holds on ``standin``, failing early if the bot exits."""
        waiter = asyncio.ensure_future(standin.wait_until(predicate, within, what))
        exited = asyncio.ensure_future(self.process.wait())
        try:
            done, _ = await asyncio.wait({waiter, exited}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (waiter, exited):
                task.cancel()
            await asyncio.gather(waiter, exited, return_exceptions=True)
        if waiter not in done:
            raise self.failure(f"exited while waiting for {what}")
        error = waiter.exception()
        if isinstance(error, TimeoutError):
            raise self.failure(f"timed out after {within:.0f} s waiting for {what}")
        if error is not None:
            raise error

    async def wait_ready(self, standin: BenchStandIn, within: float = READY_TIMEOUT) -> float:
        """Wait until the bot synced its commands and identified; return when (perf_counter)."""
        await self.until(
            standin,
            lambda: standin.ready_since(self.started_at) is not None,
            within,
            "commands synced and the gateway identified",
        )
        ready = standin.ready_since(self.started_at)
        assert ready is not None
        return ready


@contextlib.asynccontextmanager
async def running(
    kind: Kind,
    standin: BenchStandIn,
    *,
    extra_env: Mapping[str, str] | None = None,
    watch: Sequence[str] = (),
    wrapper: Sequence[str] = (),
) -> AsyncIterator[BotProcess]:
    """Run ``kind`` against ``standin`` in a fresh data directory until the block ends."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{kind}-") as tmp:
        env = environment(standin, Path(tmp) / "data", extra_env)
        bot = BotProcess(kind, env, Path(tmp), watch, wrapper)
        try:
            await bot.start()
            yield bot
        finally:
            await bot.stop()
