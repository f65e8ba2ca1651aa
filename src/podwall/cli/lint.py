"""`podwall lint`: policies that probably do not do what their author meant.

Exit status: 0 nothing at or above --fail-on, 1 findings, 2 bad input.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from podwall import __version__
from podwall.cli import options, output, snapshot
from podwall.cli.command import Command
from podwall.manifests.reader import field_line
from podwall.review.lint.finding import Finding, Severity
from podwall.review.lint.registry import CHECKS, Report, UnknownCheck, find
from podwall.review.lint.registry import lint as run_checks
from podwall.review.lint.sarif import Located, render

if TYPE_CHECKING:
    from podwall.cli.livetarget import LiveTarget

EXIT_CLEAN, EXIT_FINDINGS = 0, 1


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("more_paths", nargs="*", metavar="PATH", help="As -f PATH.")
    options.add_filename(parser)
    options.add_git(parser)
    options.add_live(parser)
    parser.add_argument(
        "--disable",
        dest="disabled",
        action="append",
        default=[],
        metavar="ID",
        help="Do not run this check (id or name; repeat, or separate with commas).",
    )
    parser.add_argument(
        "--fail-on",
        choices=[*(s.value for s in Severity), "never"],
        default=Severity.WARNING.value,
        help="Exit 1 when a finding is at least this severe. [default: %(default)s]",
    )
    parser.add_argument(
        "--explain", dest="explain_id", metavar="ID", help="Print a check's documentation."
    )
    parser.add_argument("--list", dest="list_checks", action="store_true", help="List the checks.")
    options.add_output(parser, ("text", "json", "sarif"))


def _run(args: argparse.Namespace) -> None:
    lint(
        more_paths=args.more_paths,
        paths=args.paths,
        revisions=args.revisions,
        live=options.live_target(args),
        disabled=args.disabled,
        fail_on=args.fail_on,
        explain_id=args.explain_id,
        list_checks=args.list_checks,
        fmt=args.fmt,
    )


def lint(
    *,
    more_paths: Sequence[str],
    paths: Sequence[str],
    revisions: Sequence[str],
    live: LiveTarget | None,
    disabled: Sequence[str],
    fail_on: str,
    explain_id: str | None,
    list_checks: bool,
    fmt: str,
) -> None:
    """Policies that probably do not do what their author meant.

      podwall lint k8s/
      podwall lint -f k8s/ --disable PW004 -o sarif > podwall.sarif
      podwall lint --git origin/main:k8s      # as the base branch has it
      podwall lint --explain PW005

    Every finding has a stable id, a severity (error, warning, note), file:line and a
    documentation entry (--explain ID). Checks that compare policies with pods are skipped
    when no pods or workloads are given. Exit status: 0 clean, 1 a finding at or above
    --fail-on, 2 bad input.
    """
    if explain_id is not None:
        _explain(explain_id)
    if list_checks:
        _list(fmt)
    off = _disabled(disabled)
    given = snapshot.read_inputs([*more_paths, *paths], live, revisions=revisions)
    report = run_checks(given.cluster, off)
    located = sorted(
        (_locate(f, given.texts) for f in report.findings),
        key=lambda item: (item.finding.source.file, item.line, item.finding.check),
    )
    _print(report, located, fmt)
    raise SystemExit(EXIT_FINDINGS if _fails(report.findings, fail_on) else EXIT_CLEAN)


LINT = Command(lint.__doc__, _arguments, _run)


def _list(fmt: str) -> NoReturn:
    """The checks, one a line, or with -o json a list of objects (SARIF lists them as the
    `rules` of every run: `podwall lint -o sarif`)."""
    if fmt != "json":
        for check in CHECKS:
            output.line(f"{check.id}  {check.name:<36} {check.severity:<8} {check.summary}")
    else:
        output.emit_json(
            [
                {"id": c.id, "name": c.name, "severity": c.severity.value, "summary": c.summary}
                for c in CHECKS
            ]
        )
    raise SystemExit(EXIT_CLEAN)


def _explain(ref: str) -> None:
    try:
        check = find(ref)
    except UnknownCheck as exc:
        snapshot.fail(str(exc))
    for text in check.explain().rstrip().splitlines():
        output.line(text)
    raise SystemExit(EXIT_CLEAN)


def _disabled(refs: Sequence[str]) -> list[str]:
    out = [part for ref in refs for part in ref.split(",") if part.strip()]
    for ref in out:
        try:
            find(ref)
        except UnknownCheck as exc:
            snapshot.fail(f"--disable {exc}")
    return out


def _locate(finding: Finding, texts: dict[str, str]) -> Located:
    src = finding.source
    text = texts.get(src.file)
    line = src.line
    if text:
        line = field_line(text, src.document, finding.path, src.line) or src.line
    uri = None if text is None else _uri(src.file)
    return Located(finding=finding, uri=uri, line=line)


def _uri(name: str) -> str:
    """A file as SARIF wants it: relative with forward slashes (`REV:path` from git is `path`),
    or a file:// URI when absolute."""
    from pathlib import Path  # SARIF only: text findings never pay for pathlib's import

    rev, sep, path = name.partition(":")
    if sep and "/" not in rev and not rev.startswith("<"):
        name = path
    if Path(name).is_absolute():
        return Path(name).as_uri()
    return Path(name).as_posix().removeprefix("./")


def _fails(findings: Sequence[Finding], fail_on: str) -> bool:
    if fail_on == "never":
        return False
    threshold = Severity(fail_on).rank
    return any(f.severity.rank <= threshold for f in findings)


def _print(report: Report, located: list[Located], fmt: str) -> None:
    if fmt == "sarif":
        output.emit_json(render(located, __version__))
    elif fmt == "json":
        output.emit_json(
            {
                "findings": [_json(item) for item in located],
                "skipped": [c.id for c in report.skipped],
            }
        )
    else:
        for item in located:
            output.line(_text(item))
        _summary(report)


def _json(item: Located) -> dict[str, object]:
    f = item.finding
    return {
        "id": f.check,
        "name": f.name,
        "severity": f.severity.value,
        "object": f.obj,
        "path": f.path,
        "message": f.message,
        "file": f.source.file,
        "line": item.line,
    }


def _text(item: Located) -> str:
    f = item.finding
    where = f"{f.source.file}:{item.line}" if item.line else f.source.file
    return f"{where}: {f.severity}: {f.obj}: {f.path}: {f.message} [{f.check} {f.name}]"


def _summary(report: Report) -> None:
    if report.skipped:
        ids = ", ".join(c.id for c in report.skipped)
        output.note(f"no pods or workloads given: skipped {ids} (they compare policies with pods)")
    if not report.findings:
        output.note("no findings")
        return
    counts = {s: sum(1 for f in report.findings if f.severity is s) for s in Severity}
    listed = ", ".join(f"{n} {s.value}(s)" for s, n in counts.items() if n)
    output.note(f"{listed}; `podwall lint --explain ID` says more about each check")
