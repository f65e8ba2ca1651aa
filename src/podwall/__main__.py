"""`python -m podwall`: the `podwall` command (how `podwall up` starts its daemon)."""

from podwall.cli.main import program

program()
