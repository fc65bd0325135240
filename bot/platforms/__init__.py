"""Chat platforms: each turns commands into core calls and replies into its own format."""
