"""Helpers the bot benchmarks share: running both bots side by side, sending commands."""

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from bench.bots import SETTLE, BenchError, BotProcess, Kind, running
from bench.standin import BenchStandIn
from standins.discord_records import InteractionRecord

COMMANDS = ("summit", "mous", "next-meeting")
DISCORD_DEADLINE = 3.0  # seconds Discord allows for the first answer to an interaction
ANSWER_TIMEOUT = 30.0
EPHEMERAL = 64


@dataclass
class Contender:
    """A bot and the stand-in it alone talks to."""

    kind: Kind
    standin: BenchStandIn
    bot: BotProcess


@contextlib.asynccontextmanager
async def side_by_side(
    kinds: Sequence[Kind] = (Kind.OURS, Kind.BASELINE),
) -> AsyncIterator[tuple[Contender, ...]]:
    """The bots ``kinds``, each on its own stand-in (same settings), all ready and settled.

    All stay up for the whole benchmark, so the work can alternate between them.
    """
    async with contextlib.AsyncExitStack() as stack:
        contenders = []
        for kind in kinds:
            standin = await stack.enter_async_context(BenchStandIn())
            bot = await stack.enter_async_context(running(kind, standin))
            await bot.wait_ready(standin)
            contenders.append(Contender(kind, standin, bot))
        await asyncio.sleep(SETTLE)
        yield tuple(contenders)


class Forgetful(Protocol):
    """A stand-in that can drop what it recorded so far."""

    def forget(self) -> None:
        """Clear the recordings."""


def alternate(contenders: tuple[Contender, ...], round_number: int) -> tuple[Contender, ...]:
    """The contenders in the order for ``round_number``: each goes first in turn."""
    shift = round_number % len(contenders)
    return contenders[shift:] + contenders[:shift]


@contextlib.contextmanager
def measuring(standin: Forgetful) -> Iterator[None]:
    """Around a measured block: a clean stand-in, and no garbage collection in this process."""
    standin.forget()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def check_answers(kind: Kind, records: Sequence[InteractionRecord]) -> None:
    """Every interaction got a public answer (not an error message)."""
    for record in records:
        callback = record.callback
        if callback is None:
            raise BenchError(f"{kind}: /{record.name} was not answered")
        data = callback.data or {}
        if callback.type != 4 or (data.get("flags") or 0) & EPHEMERAL:
            raise BenchError(f"{kind}: /{record.name} got {callback.type}: {str(data)[:300]}")


async def sequential(contender: Contender, name: str, n: int) -> list[float]:
    """``n`` commands one after the other; each one's latency in seconds."""
    standin, records = contender.standin, []
    for _ in range(n):
        record = await standin.send_command(name)
        try:
            await record.wait_response(ANSWER_TIMEOUT)
        except TimeoutError:
            raise contender.bot.failure(f"no answer to /{name}") from None
        records.append(record)
    check_answers(contender.kind, records)
    return [r.latency for r in records if r.latency is not None]


async def concurrent(contender: Contender, names: Sequence[str], n: int) -> list[float]:
    """``n`` commands (cycling through ``names``) sent without waiting; each one's latency."""
    standin = contender.standin
    before = len(standin.callbacks)
    records = await asyncio.gather(*(standin.send_command(names[i % len(names)]) for i in range(n)))
    await contender.bot.until(
        standin,
        lambda: len(standin.callbacks) >= before + n,
        ANSWER_TIMEOUT + n * 0.01,
        f"answers to {n} concurrent commands",
    )
    check_answers(contender.kind, records)
    return [r.latency for r in records if r.latency is not None]
