"""The `podwall` command."""
