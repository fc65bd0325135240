"""Command sync only when the command set changed, so restarts do not burn Discord's daily limit."""

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import discord
from discord import app_commands

log = logging.getLogger(__name__)

STATE_FILE = "discord-commands.json"


def fingerprint(tree: app_commands.CommandTree[Any], guild: discord.abc.Snowflake | None) -> str:
    """A hash of exactly what a sync would send."""
    payload = [command.to_dict(tree) for command in tree.get_commands(guild=guild)]
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _key(application_id: int, guild_id: int | None) -> str:
    return f"{application_id}:{guild_id if guild_id else 'global'}"


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        log.warning("ignoring unreadable %s (%s): commands will be synced", path, error)
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


async def sync_commands(
    tree: app_commands.CommandTree[Any],
    application_id: int,
    guild_id: int | None,
    data_dir: Path,
    *,
    force: bool = False,
) -> bool:
    """Sync to the guild (instant) or globally, when changed or forced. True if it synced."""
    guild = discord.Object(id=guild_id) if guild_id else None
    if guild is not None:
        tree.copy_global_to(guild=guild)
    digest = fingerprint(tree, guild)
    path = data_dir / STATE_FILE
    state = _read(path)
    key = _key(application_id, guild_id)
    where = f"guild {guild_id}" if guild_id else "all guilds (global)"
    if not force and state.get(key) == digest:
        log.info("slash commands unchanged since the last sync to %s: not syncing", where)
        return False
    synced = await tree.sync(guild=guild)
    state[key] = digest
    path.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
    log.info(
        "synced %d slash command(s) to %s: %s",
        len(synced),
        where,
        ", ".join(f"/{command.name}" for command in synced),
    )
    return True
