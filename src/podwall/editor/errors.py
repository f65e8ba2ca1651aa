"""EditorError, the root of the editor's own errors.

Each module of the editor raises its own subclass (a malformed form, a question it cannot
answer, a cluster it cannot reach, ...); the API answers the request-shaped ones with 400 and
the CLI prints the rest. Those that callers also catch as ValueError keep it as a second base.
Pure: no I/O here.
"""

from __future__ import annotations

from podwall.errors import PodwallError


class EditorError(PodwallError):
    """An error of the editor; `str()` is what its user reads."""
