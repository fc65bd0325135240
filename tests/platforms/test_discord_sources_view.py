"""The Sources view is rendered once with its answer and serves every message showing it."""

import pytest

from bot.core.commands import Invocation
from bot.platforms.cache import this_minute
from bot.runtime import Runtime
from standins.discord_standin import DiscordStandIn
from tests.platforms.discord_harness import GUILD, connected_bot

pytestmark = pytest.mark.timeout(30)


async def test_one_cached_view_serves_every_answer_and_each_button_still_works(
    discord: DiscordStandIn, discord_runtime: Runtime
) -> None:
    async with connected_bot(discord, discord_runtime) as bot:
        sent = [await discord.send_command("summit", guild_id=GUILD) for _ in range(3)]
        answers = [await record.wait_response() for record in sent]
        now = this_minute(discord_runtime.clock.now())
        _, first = bot.rendered.get(discord_runtime.library, Invocation("summit"), now)
        _, again = bot.rendered.get(discord_runtime.library, Invocation("summit"), now)
        assert first.view is not None
        assert first.view is again.view, "the view is kept with the cached render"
        assert first.view.is_persistent()
        buttons = []
        for answer in answers:
            assert answer.data is not None
            buttons.append(answer.data["components"][0]["components"][0]["custom_id"])
        assert len(set(buttons)) == 1, buttons
        # The oldest message's button works after the view went out with the later ones.
        click = await discord.click_button(buttons[0], message=min(discord.messages))
        shown = await click.wait_response()
    assert shown.type == 4
    assert shown.data is not None
    assert shown.data["flags"] & 64
    assert "“" in str(shown.data["embeds"])
