"""Discord: slash commands answered with embeds rendered from the core's neutral reply."""
