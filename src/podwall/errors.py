"""PodwallError, the root of every error podwall raises on purpose.

Such an error carries a message meant for the person at the keyboard (it names the file, object,
field or host resource at fault), so the CLI prints it and exits 2; anything else that escapes a
command is a bug (exit 70). Each layer roots its own small tree here; this module imports
nothing of podwall, so every layer, the pure core included, may import it.

    PodwallError
    ├── ValidationError ........... model.fielderrors: input that breaks the Kubernetes API's rules
    └── ...

Pure: no I/O here.
"""

from __future__ import annotations


class PodwallError(Exception):
    """An error podwall raises on purpose; `str()` is the message for the user."""
