"""Guild scheduled events (the Events tab) for the Discord stand-in, checked as Discord checks them.

Modelled: ``GET``, ``POST /guilds/{guild}/scheduled-events``, ``PATCH`` and ``DELETE
/guilds/{guild}/scheduled-events/{event}``, for EXTERNAL events (entity type 3), the only
kind briefbot makes; other entity types are recorded as unhandled. Refused as Discord refuses
them, with 400 ``Invalid Form Body`` (50035) naming each field:

- ``name`` 1 to 100 characters; ``description`` at most 1,000; ``privacy_level`` 2
  (GUILD_ONLY), the only one there is;
- an EXTERNAL event needs ``entity_metadata.location`` (1 to 100 characters) and
  ``scheduled_end_time``, and takes no ``channel_id``;
- ``scheduled_start_time`` in the future (on the stand-in's wall clock, injectable) and
  ``scheduled_end_time`` after it, both ISO 8601 with an offset;
- at most 100 events scheduled or active in a guild (400, 30038);
- creating needs Manage Events (``1 << 33``) or Create Events (``1 << 44``) in the guild;
  changing or deleting needs Manage Events, or Create Events for one's own event (403
  Missing Permissions, 50013); an unknown event is 404 (10070).

Cancelled and completed events leave the list, as on Discord.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .discord_payloads import JSON, DiscordError, StandInUser, invalid_form

MANAGE_EVENTS = 1 << 33
CREATE_EVENTS = 1 << 44
MAX_EVENTS = 100
"""Scheduled or active events one guild may hold."""
EXTERNAL = 3
GUILD_ONLY = 2
SCHEDULED, ACTIVE, COMPLETED, CANCELED = 1, 2, 3, 4
_NEXT_STATUS = {SCHEDULED: {ACTIVE, CANCELED}, ACTIVE: {COMPLETED}}

TOO_MANY_EVENTS = DiscordError(
    400, 30038, "Maximum number of uncompleted guild scheduled events reached (100)"
)
UNKNOWN_EVENT = DiscordError(404, 10070, "Unknown Guild Scheduled Event")
MISSING_PERMISSIONS = DiscordError(403, 50013, "Missing Permissions")


@dataclass
class EventWrite:
    """One change the bot asked for: ``create``, ``modify`` or ``delete``, and its answer."""

    action: str
    guild_id: int
    event_id: int | None
    body: Any
    status: int = 0


class ScheduledEvents:
    """Every guild's scheduled events, as Discord keeps them for one bot."""

    def __init__(
        self,
        bot: StandInUser,
        snowflake: Callable[[], int],
        now: Callable[[], dt.datetime],
        unhandled: list[str],
    ) -> None:
        self.bot = bot
        self.snowflake = snowflake
        self.now = now
        """The wall clock a start must lie ahead of."""
        self.events: dict[int, dict[int, JSON]] = {}  # guild id -> event id -> event
        self.writes: list[EventWrite] = []
        self.unhandled = unhandled  # the stand-in's: requests it does not model

    # ------------------------------------------------------------------ for tests

    def of(self, guild_id: int) -> list[JSON]:
        """The guild's scheduled and active events, soonest first."""
        listed = [e for e in self.events.get(guild_id, {}).values() if e["status"] <= ACTIVE]
        return sorted(listed, key=lambda e: (e["scheduled_start_time"], int(e["id"])))

    def add(
        self,
        guild_id: int,
        name: str,
        start: dt.datetime,
        end: dt.datetime,
        *,
        location: str = "Elsewhere",
        description: str | None = None,
        creator_id: int | None = None,
    ) -> JSON:
        """An event someone made in the guild (the bot, by default), without any check."""
        event = self._payload(
            guild_id,
            {
                "name": name,
                "description": description,
                "scheduled_start_time": start.isoformat(),
                "scheduled_end_time": end.isoformat(),
                "entity_metadata": {"location": location},
            },
            creator_id if creator_id is not None else self.bot.id,
        )
        self.events.setdefault(guild_id, {})[int(event["id"])] = event
        return event

    def created(self, guild_id: int | None = None) -> list[EventWrite]:
        """The creations that succeeded (in one guild, or in all)."""
        return self._done("create", guild_id)

    def modified(self, guild_id: int | None = None) -> list[EventWrite]:
        """The changes that succeeded."""
        return self._done("modify", guild_id)

    def deleted(self, guild_id: int | None = None) -> list[EventWrite]:
        """The deletions that succeeded."""
        return self._done("delete", guild_id)

    def _done(self, action: str, guild_id: int | None) -> list[EventWrite]:
        return [
            w
            for w in self.writes
            if w.action == action
            and w.status < 300
            and (guild_id is None or w.guild_id == guild_id)
        ]

    # ------------------------------------------------------------------ the routes

    def list(self, guild_id: int, with_user_count: bool) -> list[JSON]:
        """``GET /guilds/{guild}/scheduled-events``."""
        listed = [dict(event) for event in self.of(guild_id)]
        if with_user_count:
            for event in listed:
                event["user_count"] = 0
        return listed

    def create(self, guild_id: int, body: Any, permissions: int) -> JSON | DiscordError:
        """``POST``: the new event, or the error Discord would answer."""
        write = EventWrite("create", guild_id, None, body)
        self.writes.append(write)
        answer = self._create(guild_id, body, permissions)
        if isinstance(answer, DiscordError):
            write.status = answer.status
        else:
            write.status, write.event_id = 200, int(answer["id"])
        return answer

    def _create(self, guild_id: int, body: Any, permissions: int) -> JSON | DiscordError:
        if not permissions & (MANAGE_EVENTS | CREATE_EVENTS):
            return MISSING_PERMISSIONS
        if not isinstance(body, dict):
            return invalid_form([("_", "the body must be a JSON object")])
        if body.get("entity_type") != EXTERNAL:
            self.unhandled.append(f"a scheduled event of entity type {body.get('entity_type')!r}")
            return invalid_form([("entity_type", "only EXTERNAL (3) is modelled")])
        problems = _field_problems(body) + _time_problems(body, body, self.now())
        if problems:
            return invalid_form(problems)
        if len(self.of(guild_id)) >= MAX_EVENTS:
            return TOO_MANY_EVENTS
        event = self._payload(guild_id, body, self.bot.id)
        self.events.setdefault(guild_id, {})[int(event["id"])] = event
        return dict(event)

    def modify(
        self, guild_id: int, event_id: int, body: Any, permissions: int
    ) -> JSON | DiscordError:
        """``PATCH``: the changed event, or the error."""
        write = EventWrite("modify", guild_id, event_id, body)
        self.writes.append(write)
        answer = self._modify(guild_id, event_id, body, permissions)
        write.status = answer.status if isinstance(answer, DiscordError) else 200
        return answer

    def _modify(
        self, guild_id: int, event_id: int, body: Any, permissions: int
    ) -> JSON | DiscordError:
        event = self.events.get(guild_id, {}).get(event_id)
        if event is None or event["status"] > ACTIVE:
            return UNKNOWN_EVENT
        if not self._may_change(event, permissions):
            return MISSING_PERMISSIONS
        if not isinstance(body, dict):
            return invalid_form([("_", "the body must be a JSON object")])
        if body.get("entity_type", EXTERNAL) != EXTERNAL:
            self.unhandled.append("changing a scheduled event's entity type")
            return invalid_form([("entity_type", "only EXTERNAL (3) is modelled")])
        merged = {**event, **{k: v for k, v in body.items() if k != "entity_metadata"}}
        if body.get("entity_metadata") is not None:
            merged["entity_metadata"] = body["entity_metadata"]
        moved = body if event["status"] == SCHEDULED else {}  # only a new start must lie ahead
        problems = _field_problems(merged) + _time_problems(moved, merged, self.now())
        status = body.get("status", event["status"])
        if status != event["status"] and status not in _NEXT_STATUS.get(event["status"], ()):
            problems.append(("status", f"cannot go from status {event['status']} to {status!r}"))
        if problems:
            return invalid_form(problems)
        for key in ("name", "description", "scheduled_start_time", "scheduled_end_time", "status"):
            if key in body:
                event[key] = merged[key]
        for key in ("scheduled_start_time", "scheduled_end_time"):
            event[key] = _instant(event[key]).isoformat()
        event["entity_metadata"] = {"location": merged["entity_metadata"]["location"]}
        return dict(event)

    def delete(self, guild_id: int, event_id: int, permissions: int) -> DiscordError | None:
        """``DELETE``: None when deleted, else the error."""
        write = EventWrite("delete", guild_id, event_id, None)
        self.writes.append(write)
        event = self.events.get(guild_id, {}).get(event_id)
        error: DiscordError | None = None
        if event is None:
            error = UNKNOWN_EVENT
        elif not self._may_change(event, permissions):
            error = MISSING_PERMISSIONS
        else:
            del self.events[guild_id][event_id]
        write.status = 204 if error is None else error.status
        return error

    def _may_change(self, event: JSON, permissions: int) -> bool:
        own = event.get("creator_id") == str(self.bot.id)
        return bool(permissions & MANAGE_EVENTS or (own and permissions & CREATE_EVENTS))

    def _payload(self, guild_id: int, body: JSON, creator_id: int) -> JSON:
        creator = self.bot.payload() if creator_id == self.bot.id else None
        return {
            "id": str(self.snowflake()),
            "guild_id": str(guild_id),
            "channel_id": None,
            "creator_id": str(creator_id),
            "name": body["name"],
            "description": body.get("description"),
            "scheduled_start_time": _instant(body["scheduled_start_time"]).isoformat(),
            "scheduled_end_time": _instant(body["scheduled_end_time"]).isoformat(),
            "privacy_level": GUILD_ONLY,
            "status": SCHEDULED,
            "entity_type": EXTERNAL,
            "entity_id": None,
            "entity_metadata": {"location": body["entity_metadata"]["location"]},
            "creator": creator,
            "image": None,
            "recurrence_rule": None,
        }


def _instant(value: Any) -> dt.datetime:
    """An ISO 8601 timestamp with its offset, in UTC; ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError(value)
    instant = dt.datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise ValueError(value)
    return instant.astimezone(dt.UTC)


def _text_problem(value: Any, longest: int, *, required: bool) -> str | None:
    if value is None:
        return "This field is required" if required else None
    if not isinstance(value, str) or not 1 <= len(value) <= longest:
        return f"Must be between 1 and {longest} in length."
    return None


def _field_problems(body: JSON) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    name = _text_problem(body.get("name"), 100, required=True)
    if name:
        problems.append(("name", name))
    description = _text_problem(body.get("description"), 1000, required=False)
    if description:
        problems.append(("description", description))
    if body.get("privacy_level") != GUILD_ONLY:
        problems.append(("privacy_level", "Value must be one of {2}."))
    if body.get("channel_id") is not None:
        problems.append(("channel_id", "An EXTERNAL event takes no channel."))
    metadata = body.get("entity_metadata")
    location = metadata.get("location") if isinstance(metadata, dict) else None
    where = _text_problem(location, 100, required=True)
    if where:
        problems.append(("entity_metadata.location", where))
    if body.get("scheduled_end_time") is None:
        problems.append(("scheduled_end_time", "An EXTERNAL event needs an end time."))
    return problems


def _time_problems(given: JSON, merged: JSON, now: dt.datetime) -> list[tuple[str, str]]:
    """The start (if ``given``) must lie ahead; the end must follow the start."""
    problems: list[tuple[str, str]] = []
    try:
        start = _instant(merged.get("scheduled_start_time"))
    except ValueError:
        return [("scheduled_start_time", "Could not parse an ISO 8601 timestamp.")]
    if "scheduled_start_time" in given and start <= now:
        problems.append(("scheduled_start_time", "Cannot schedule event in the past."))
    if merged.get("scheduled_end_time") is not None:
        try:
            end = _instant(merged["scheduled_end_time"])
        except ValueError:
            return [*problems, ("scheduled_end_time", "Could not parse an ISO 8601 timestamp.")]
        if end <= start:
            problems.append(("scheduled_end_time", "Must be after the start time."))
    return problems
