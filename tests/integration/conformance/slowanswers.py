"""A slow answer is not a denial: what the real-packet conformance tests do with a probe
that was expected to answer and did not within its short timeout.

The probes run with a short timeout (1 s, two tries) so that the many denied ones stay
cheap. An allowed UDP probe needs the server process to echo, which a loaded machine can
delay past that; such a probe is tried again with a bound a loaded machine keeps. A probe
that answered where none was expected is a leak: it is never tried again.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Callable, Sequence

from podwall.runtime.connect import Attempt, try_all
from podwall.runtime.probe import Probe, Session

SLOW_ANSWER_SECONDS = 10.0


def confirmed(
    attempts: Sequence[Attempt], expected: Sequence[bool], seen: Sequence[bool]
) -> list[bool]:
    """`seen`, where each attempt expected to answer that did not is tried again slowly."""
    pairs = zip(expected, seen, strict=True)
    again = [i for i, (want, got) in enumerate(pairs) if want and not got]
    out = list(seen)
    if again:
        retried = try_all([attempts[i] for i in again], timeout=SLOW_ANSWER_SECONDS)
        for i, answered in zip(again, retried, strict=True):
            out[i] = answered
    return out


def confirmed_probes(
    session: Session, probes: Sequence[Probe], expected: Callable[[Probe], bool]
) -> list[Probe]:
    """`probes` (from `session.probe_pods`), each that `expected` to answer and did not
    tried again slowly; probes not run (observed None) stay as they are."""
    pods = {p.key: p for p in session.cluster.pods}

    def attempt(p: Probe) -> Attempt:
        address = next(ip for ip in pods[p.dst].ips if isinstance(ip, ipaddress.IPv4Address))
        return Attempt(
            netns=session.netns_of[p.src], address=str(address), port=p.port, protocol=p.protocol
        )

    run = [p for p in probes if p.observed is not None]
    seen = confirmed(
        [attempt(p) for p in run], [expected(p) for p in run], [bool(p.observed) for p in run]
    )
    answers = dict(zip(map(id, run), seen, strict=True))
    return [dataclasses.replace(p, observed=answers.get(id(p), p.observed)) for p in probes]
