"""Exponential back-off with jitter, for watches, refused nft batches and Lease writes.

Each failure doubles the delay up to a cap; the delay actually waited is drawn between half of
it and all of it, so the agents of a thousand nodes that lost the API server at once do not
come back at the same instant. A success resets it.
"""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    def __init__(
        self,
        first: float = 0.5,
        cap: float = 30.0,
        draw: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.first = first
        self.cap = cap
        self.failures = 0
        self._draw = draw

    def next(self) -> float:
        """The delay to wait after one more failure."""
        ceiling = min(self.cap, self.first * 2 ** min(self.failures, 32))
        self.failures += 1
        return self._draw(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.failures = 0
