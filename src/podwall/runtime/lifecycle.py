"""The create/destroy life of a sandbox piece (underlay, node, cluster) as a context manager.

Owns only the pairing: `with piece:` creates it, and destroys it on the way out, also when the
body raised. What creating and destroying do is each piece's own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class Lifecycle(ABC):
    @abstractmethod
    def create(self) -> None: ...

    @abstractmethod
    def destroy(self) -> None: ...

    def __enter__(self) -> Self:
        self.create()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.destroy()
