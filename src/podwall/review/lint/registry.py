"""Every lint check with its stable id, name, severity and documentation; `lint()` runs them.

Ids never change meaning and are never reused: tooling and `--disable` refer to them. Checks
that compare policies with pods (`needs_pods`) are skipped, and reported as skipped, when the
input holds no pods at all (a directory of policies only). Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from podwall.errors import PodwallError
from podwall.model.cluster import Cluster
from podwall.model.record import Record, field
from podwall.review.lint import dns, ipblock, ports, rules, selection, shadow, split
from podwall.review.lint.context import Context
from podwall.review.lint.finding import Finding, Raw, Severity


class Check(Record):
    """A lint check: its id, name, severity and documentation, and the function it runs."""

    id: str
    name: str
    severity: Severity
    summary: str  # one line, for listings and SARIF's shortDescription
    doc: str  # the documentation entry, for `podwall lint --explain ID`
    run: Callable[[Context], Iterator[Raw]]
    needs_pods: bool = True

    def explain(self) -> str:
        head = f"{self.id} {self.name} ({self.severity}): {self.summary}"
        return f"{head}\n\n{self.doc}"


CHECKS: tuple[Check, ...] = (
    Check(
        id="PW001",
        name="policy-selects-nothing",
        severity=Severity.WARNING,
        summary="the policy's podSelector selects no pod: it has no effect",
        doc=selection.SELECTS_NOTHING_DOC,
        run=selection.selects_nothing,
    ),
    Check(
        id="PW002",
        name="peer-selects-nothing",
        severity=Severity.WARNING,
        summary="a from/to peer selects no pod: it allows nothing",
        doc=selection.PEER_SELECTS_NOTHING_DOC,
        run=selection.peer_selects_nothing,
    ),
    Check(
        id="PW003",
        name="named-port-undeclared",
        severity=Severity.WARNING,
        summary="a named port no destination pod declares: it allows nothing",
        doc=ports.DOC,
        run=ports.named_port_undeclared,
    ),
    Check(
        id="PW004",
        name="egress-without-dns",
        severity=Severity.WARNING,
        summary="pods isolated for egress cannot reach cluster DNS",
        doc=dns.DOC,
        run=dns.egress_without_dns,
    ),
    Check(
        id="PW005",
        name="split-peer",
        severity=Severity.WARNING,
        summary="a namespaceSelector item and a podSelector item probably meant as one peer",
        doc=split.DOC,
        run=split.split_peer,
        needs_pods=False,
    ),
    Check(
        id="PW006",
        name="shadowed-rule",
        severity=Severity.NOTE,
        summary="a rule another rule already covers: it adds nothing",
        doc=shadow.DOC,
        run=shadow.shadowed_rule,
    ),
    Check(
        id="PW007",
        name="ipblock-contains-cluster-addresses",
        severity=Severity.WARNING,
        summary="an ipBlock contains pod or Service addresses: behaviour differs between CNIs",
        doc=ipblock.DOC,
        run=ipblock.ipblock_contains_cluster,
    ),
    Check(
        id="PW008",
        name="ignored-rules",
        severity=Severity.WARNING,
        summary="rules for a direction policyTypes does not list are ignored",
        doc=rules.IGNORED_DOC,
        run=rules.ignored_rules,
        needs_pods=False,
    ),
    Check(
        id="PW009",
        name="unsaid-default-deny",
        severity=Severity.WARNING,
        summary="the policy isolates but allows nothing, without saying a deny is meant",
        doc=rules.ALLOWS_NOTHING_DOC,
        run=rules.allows_nothing,
        needs_pods=False,
    ),
)


class UnknownCheck(PodwallError, LookupError):
    """An id or name that names no check; the message lists the known ones."""

    def __str__(self) -> str:
        known = ", ".join(f"{c.id} ({c.name})" for c in CHECKS)
        return f"{self.args[0]}: no such check; the checks are {known}"


def find(ref: str) -> Check:
    """A check by id (`PW005`, any case) or by name (`split-peer`)."""
    wanted = ref.strip()
    for check in CHECKS:
        if wanted.upper() == check.id or wanted.lower() == check.name:
            return check
    raise UnknownCheck(ref)


# A result read field by field, never compared or hashed: identity equality is enough.
class Report(Record, frozen=False, eq=False):
    """What a lint run found, and the checks it skipped."""

    findings: list[Finding] = field(default_factory=list)
    skipped: list[Check] = field(default_factory=list)  # needed pods, and none were given


def lint(cluster: Cluster, disabled: Iterable[str] = ()) -> Report:
    """Run every check not disabled (by id or name); findings sorted by file, line, check."""
    off = {find(ref).id for ref in disabled}
    ctx = Context(cluster)
    report = Report()
    for check in CHECKS:
        if check.id in off:
            continue
        if check.needs_pods and not ctx.has_pods:
            report.skipped.append(check)
            continue
        for policy, path, message in check.run(ctx):
            report.findings.append(
                Finding(
                    check=check.id,
                    name=check.name,
                    severity=check.severity,
                    message=message,
                    obj=f"NetworkPolicy {policy.key}",
                    path=path,
                    source=policy.source,
                )
            )
    report.findings.sort(key=Finding.sort_key)
    return report
