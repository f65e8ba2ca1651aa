"""uvicorn's httptools protocol (llhttp, in C), plus the `podwall.spdy` extension.

The same contract as `spdyexec.SpdyH11Protocol`: a request with `Connection: Upgrade` and
`Upgrade: SPDY/3.1` reaches the app as an ordinary HTTP request whose scope offers the
`podwall.spdy` extension; the app either answers it (a Status: the connection then closes, as
llhttp reads nothing after an upgrade request) or upgrades (101, the connection handed to a
`RawConnection`). Whatever the client sent after the request's end is kept and handed over.

Importing this module needs httptools; `coalesce` falls back to the h11 protocol without it.
"""

from __future__ import annotations

from typing import Any, cast

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from podwall.apiserver.spdyexec import EXTENSION, RawConnection, switch_to_raw

SPDY = b"spdy/3.1"


class SpdyHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol that can hand a connection over to SPDY/3.1."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._upgrade_pending = False  # llhttp stopped at an upgrade request's end
        self._trailing = bytearray()  # what came after it

    def _should_upgrade(self) -> bool:
        if self._get_upgrade() == SPDY:
            scope = cast("dict[str, Any]", self.scope)
            scope.setdefault("extensions", {})[EXTENSION] = {"upgrade": self._upgrade_spdy}
            return False  # an HTTP request to the app, which may answer it or upgrade
        return super()._should_upgrade()

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if self.parser.should_upgrade() and self._get_upgrade() == SPDY:
            # llhttp parses nothing after an upgrade request: an answer that is not a 101
            # ends the connection.
            self.cycle.keep_alive = False

    def data_received(self, data: bytes) -> None:
        if self._upgrade_pending:
            self._trailing += data
            return
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            message = "Invalid HTTP request received."
            self.logger.warning(message)
            self.send_400_response(message)
        except httptools.HttpParserUpgrade as upgrade:
            if self._get_upgrade() == SPDY:
                # llhttp stopped at the request's end (a body, too, is left unparsed: kubectl
                # sends none); what follows is the client's first SPDY bytes, if any.
                self._upgrade_pending = True
                offset = int(upgrade.args[0]) if upgrade.args else len(data)
                self._trailing += data[offset:]
            elif self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    def _upgrade_spdy(self, headers: list[tuple[bytes, bytes]]) -> RawConnection:
        trailing = bytes(self._trailing)
        self._trailing.clear()
        return switch_to_raw(self, headers, trailing)
