"""The briefs' events in each guild's Events tab: Discord scheduled events, kept in step.

With ``DISCORD_SCHEDULED_EVENTS=on``, every event of the briefs that has not begun is
copied into every guild this process serves (its shards' guilds) as an EXTERNAL scheduled
event: the event's name, place, start and end, and a description with why it matters, the
article's words and its source. All-day events run from 00:00 on their first day to 24:00
on their last, in the event's own zone. Follow-ups known only to the month or the year are
not events and are never copied. The ledger maps (guild, event) to Discord's id.

A sync runs when the gateway is ready, when the bot joins a guild and after the briefs are
reloaded; it changes nothing that is already right:

- a copy is created once: claimed in the ledger first, recorded after. A crash in between
  leaves the claim; the next sync finds the copy by the marker line at the end of its
  description (``briefbot event <uid>``) and adopts it instead of creating another, and a
  second copy made by a retried request is deleted;
- a changed event (its name, place, times or description) is edited in place;
- an event removed from the briefs is deleted from the guild if it has not begun; one that
  has begun or is over is left as it is, and so is every copy of a past event;
- a copy someone in the guild deleted is not made again; one they edited is left as they
  made it until the brief changes that event;
- at most 100 events may be scheduled in a guild: the soonest are copied while room is left;
- requests go one at a time, and discord.py waits out the route's rate limits.

Without Manage Events (or Create Events) in a guild the sync skips it with one warning
naming the guild and the permission, and tries again at the next sync.
"""

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import discord

from bot.delivery.ledger import Ledger, LedgerError, MirroredEvent, MirrorState
from bot.delivery.scheduler import real_now
from bot.platforms.discord.event_copies import Copy, marker, remote_fingerprint, wanted
from bot.runtime import Runtime

log = logging.getLogger(__name__)

PLATFORM = "discord"
MANAGE_EVENTS = 1 << 33
"""The permission to create, edit and delete scheduled events: 8589934592."""
MAX_EVENTS = 100
"""Discord's limit of scheduled or active events in one guild."""
CLAIM_LEASE = timedelta(minutes=2)
"""How long a claim to create a copy holds off other processes."""


def may_manage_events(guild: discord.Guild) -> bool:
    """Whether the bot may create (and change its own) scheduled events in ``guild``."""
    me = guild.me
    if me is None:
        return False
    permissions = me.guild_permissions
    return permissions.manage_events or permissions.create_events


class EventMirror:
    """Keeps the briefs' events in the Events tab of the guilds one client serves."""

    def __init__(
        self,
        client: discord.Client,
        runtime: Runtime,
        ledger: Ledger,
        *,
        now_real: Callable[[], datetime] = real_now,
    ) -> None:
        self.client = client
        self.runtime = runtime
        self.ledger = ledger
        self.now_real = now_real
        self.owner = f"briefbot-{uuid.uuid4().hex[:12]}"
        self.warnings: dict[int, str] = {}  # guild id -> what keeps its Events out of step
        self.syncs = 0
        """How many syncs have run to the end."""
        self._pending: dict[int, discord.Guild] | None = None  # None: nothing asked for
        self._task: asyncio.Task[None] | None = None
        self._retry: asyncio.TimerHandle | None = None
        if self.enabled:
            runtime.on_reload.append(self.briefs_reloaded)

    @property
    def enabled(self) -> bool:
        """Whether the operator turned the mirroring on (``DISCORD_SCHEDULED_EVENTS``)."""
        return self.runtime.settings.discord_scheduled_events

    # ------------------------------------------------------------------ when to sync

    def request(self, guilds: Iterable[discord.Guild]) -> None:
        """Sync these guilds soon, in the background, after any sync under way."""
        if not self.enabled or self.client.is_closed():
            return
        pending = self._pending if self._pending is not None else {}
        pending.update((guild.id, guild) for guild in guilds)
        self._pending = pending
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())

    def briefs_reloaded(self) -> None:
        """The briefs were reloaded: sync every guild (a closed client stops listening)."""
        if self.client.is_closed():
            if self.briefs_reloaded in self.runtime.on_reload:
                self.runtime.on_reload.remove(self.briefs_reloaded)
            return
        self.request(self.client.guilds)

    async def close(self) -> None:
        """Stop any sync under way."""
        if self._retry is not None:
            self._retry.cancel()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _drain(self) -> None:
        while self._pending:
            guilds, self._pending = list(self._pending.values()), None
            await self.sync(guilds)
            self.syncs += 1

    def _retry_later(self, guild: discord.Guild) -> None:
        """Another process is creating a copy there: look again once its claim runs out."""
        if self._retry is None or self._retry.cancelled():
            loop = asyncio.get_running_loop()
            self._retry = loop.call_later(
                CLAIM_LEASE.total_seconds(), lambda: self.request([guild])
            )

    # ------------------------------------------------------------------ syncing

    async def sync(self, guilds: Iterable[discord.Guild]) -> None:
        """Bring each guild's Events in step with the briefs, one guild after another."""
        for guild in guilds:
            try:
                await self.sync_guild(guild)
            except LedgerError as error:
                log.warning("Discord events: cannot sync %s now: %s", _named(guild), error)
            except discord.HTTPException as error:
                log.warning("Discord events: syncing %s failed: %s", _named(guild), error)

    async def sync_guild(self, guild: discord.Guild) -> None:
        """Create, edit, adopt and delete the copies in one guild, as the briefs say."""
        if not may_manage_events(guild):
            self._warn(guild, "lacks")
            return
        now = self.runtime.clock.now()
        copies, keys = wanted(self.runtime.library, now)
        rows = {
            row.event_key: row
            for row in await asyncio.to_thread(self.ledger.mirrored_events, PLATFORM, str(guild.id))
        }
        try:
            remote = {event.id: event for event in await guild.fetch_scheduled_events()}
        except discord.Forbidden:
            self._warn(guild, "was refused")
            return
        sync = _GuildSync(self, guild, now, rows, remote)
        try:
            await sync.run(copies, keys)
        except discord.Forbidden:
            self._warn(guild, "was refused")
            return
        if self.warnings.pop(guild.id, None) is not None:
            log.info("Discord events: %s: Manage Events is granted now", _named(guild))
        if sync.busy:
            self._retry_later(guild)
        if sync.counts:
            done = ", ".join(f"{count} {what}" for what, count in sync.counts.items())
            log.info("Discord events in %s: %s", _named(guild), done)
        if sync.left_out:
            log.warning(
                "Discord events: %s holds Discord's limit of %d scheduled events: %d of the "
                "briefs' events are not in its Events tab",
                _named(guild),
                MAX_EVENTS,
                sync.left_out,
            )

    def _warn(self, guild: discord.Guild, how: str) -> None:
        """One warning per guild while the bot lacks the permission there."""
        warning = (
            f"Discord guild {_named(guild)}: the bot {how} Manage Events (permission "
            f"{MANAGE_EVENTS}): the briefs' events are not in its Events tab; grant it "
            "and they are added at the next sync (start, reload or SIGHUP)"
        )
        if self.warnings.get(guild.id) is None:
            log.warning("%s", warning)
        self.warnings[guild.id] = warning


def _named(guild: discord.Guild) -> str:
    return f"{guild.name} ({guild.id})"


class _GuildSync:
    """One sync of one guild: what the ledger and the guild hold, and what was done."""

    def __init__(
        self,
        mirror: EventMirror,
        guild: discord.Guild,
        now: datetime,
        rows: dict[str, MirroredEvent],
        remote: dict[int, discord.ScheduledEvent],
    ) -> None:
        self.mirror, self.ledger, self.guild, self.now = mirror, mirror.ledger, guild, now
        self.rows, self.remote = rows, remote
        self.counts: dict[str, int] = {}
        self.busy = False  # another process is creating a copy here
        self.left_out = 0  # copies the guild has no room for
        me = mirror.client.user
        self.me = me.id if me is not None else None

    def _count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def _ours(self, key: str) -> list[discord.ScheduledEvent]:
        """The guild's events carrying ``key``'s marker, made by this bot, oldest first."""
        line = marker(key)
        found = [
            event
            for event in self.remote.values()
            if (event.description or "").rstrip().rsplit("\n", 1)[-1] == line
            and event.creator_id in (None, self.me)
        ]
        return sorted(found, key=lambda event: event.id)

    async def run(self, copies: list[Copy], keys: set[str]) -> None:
        created = False
        for copy in copies:
            created = await self._one(copy) or created
        for key, row in self.rows.items():
            if key not in keys and row.state is MirrorState.SCHEDULED:
                await self._cancel(row)
        if created:  # a retried request may have left a second copy: look once more
            self.remote = {e.id: e for e in await self.guild.fetch_scheduled_events()}
        for copy in copies:
            await self._dedupe(copy.key)

    async def _one(self, copy: Copy) -> bool:
        """Bring one copy in step; True if it was created."""
        row = self.rows.get(copy.key)
        if row is not None and row.state is MirrorState.GONE:
            return False
        if row is not None and row.state is MirrorState.SCHEDULED:
            event = self.remote.get(int(row.remote_id or 0))
            if event is None:
                await self._end(copy.key, MirrorState.GONE)
                log.info(
                    "Discord events: %s was deleted in %s: not made again",
                    copy.key,
                    _named(self.guild),
                )
                return False
            if row.fingerprint != copy.fingerprint:
                await self._edit(event, copy)
            return False
        found = self._ours(copy.key)
        if found:
            await self._adopt(found[0], copy)
            return False
        if len(self.remote) >= MAX_EVENTS:
            self.left_out += 1
            return False
        return await self._create(copy)

    async def _create(self, copy: Copy) -> bool:
        claimed = await asyncio.to_thread(
            self.ledger.claim_mirror,
            PLATFORM,
            str(self.guild.id),
            copy.key,
            owner=self.mirror.owner,
            now=self.mirror.now_real(),
            lease=CLAIM_LEASE,
        )
        if not claimed:
            self.busy = True
            return False
        try:
            event = await self.guild.create_scheduled_event(
                name=copy.name,
                description=copy.description,
                start_time=copy.start,
                end_time=copy.end,
                entity_type=discord.EntityType.external,
                privacy_level=discord.PrivacyLevel.guild_only,
                location=copy.location,
                reason=f"briefbot: the briefs' event {copy.key}",
            )
        except discord.HTTPException as error:
            if error.status is not None and 400 <= error.status < 500:  # not made: try again later
                await asyncio.to_thread(
                    self.ledger.abandon_mirror,
                    PLATFORM,
                    str(self.guild.id),
                    copy.key,
                    owner=self.mirror.owner,
                )
            if isinstance(error, discord.Forbidden):
                raise
            log.warning(
                "Discord events: cannot create %s in %s: %s", copy.key, _named(self.guild), error
            )
            return False
        self.remote[event.id] = event
        await self._record(copy, event.id)
        self._count("created")
        return True

    async def _adopt(self, event: discord.ScheduledEvent, copy: Copy) -> None:
        """A copy made before a crash (or before the ledger knew it): take it as ours."""
        if remote_fingerprint(event) != copy.fingerprint and event.start_time > self.now:
            event = await self._push(event, copy)
        await self._record(copy, event.id)
        self._count("found again")

    async def _edit(self, event: discord.ScheduledEvent, copy: Copy) -> None:
        if event.start_time <= self.now or event.status is not discord.EventStatus.scheduled:
            return  # begun: left as it is
        event = await self._push(event, copy)
        await self._record(copy, event.id)
        self._count("updated")

    async def _push(self, event: discord.ScheduledEvent, copy: Copy) -> discord.ScheduledEvent:
        edited = await event.edit(
            name=copy.name,
            description=copy.description,
            start_time=copy.start,
            end_time=copy.end,
            location=copy.location,
            reason=f"briefbot: the briefs' event {copy.key} changed",
        )
        self.remote[edited.id] = edited
        return edited

    async def _cancel(self, row: MirroredEvent) -> None:
        """An event left the briefs: delete its copy if it has not begun."""
        event = self.remote.get(int(row.remote_id or 0))
        if event is None:
            await self._end(row.event_key, MirrorState.GONE)
            return
        if event.start_time <= self.now or event.status is not discord.EventStatus.scheduled:
            return
        await event.delete(reason=f"briefbot: {row.event_key} is no longer in the briefs")
        self.remote.pop(event.id, None)
        await self._end(row.event_key, MirrorState.CANCELLED)
        self._count("deleted (no longer in the briefs)")

    async def _dedupe(self, key: str) -> None:
        """Delete second copies of one event (a retried create), keeping the recorded one."""
        row = self.rows.get(key)
        found = self._ours(key)
        if row is None or row.state is not MirrorState.SCHEDULED or len(found) < 2:
            return
        for event in found:
            if str(event.id) != row.remote_id and event.status is discord.EventStatus.scheduled:
                await event.delete(reason=f"briefbot: a second copy of {key}")
                self.remote.pop(event.id, None)
                self._count("second copies deleted")

    async def _record(self, copy: Copy, remote_id: int) -> None:
        now = self.mirror.now_real()
        await asyncio.to_thread(
            self.ledger.record_mirror,
            PLATFORM,
            str(self.guild.id),
            copy.key,
            remote_id=str(remote_id),
            fingerprint=copy.fingerprint,
            sequence=copy.sequence,
            now=now,
        )
        self.rows[copy.key] = MirroredEvent(
            platform=PLATFORM,
            guild_id=str(self.guild.id),
            event_key=copy.key,
            state=MirrorState.SCHEDULED,
            remote_id=str(remote_id),
            fingerprint=copy.fingerprint,
            sequence=copy.sequence,
            owner=None,
            lease_until=None,
            updated_at=now,
        )

    async def _end(self, key: str, state: MirrorState) -> None:
        await asyncio.to_thread(
            self.ledger.end_mirror,
            PLATFORM,
            str(self.guild.id),
            key,
            state,
            now=self.mirror.now_real(),
        )
        row = self.rows.get(key)
        if row is not None:
            row.state = state
