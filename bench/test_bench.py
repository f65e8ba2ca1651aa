"""Tests of the benchmark's NCA parser and comparison: `.venv/bin/pytest bench`."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.bench_engine import measure
from bench.compare import Difference, check_podwall_file, compare, load_podwall, report
from bench.conns import ALL, NONE, make_conn, render, subtract
from bench.nca_output import NcaFormatError, parse_connection, parse_nca_file, parse_nca_lines

FIXTURES = Path(__file__).parent / "fixtures"
QUIRKS = FIXTURES / "quirks"


def test_make_conn_merges_adjacent_ranges() -> None:
    assert make_conn([("TCP", 80, 80), ("TCP", 81, 90), ("TCP", 85, 100)]) == {("TCP", 80, 100)}


def test_subtract_cuts_holes() -> None:
    got = subtract(make_conn([("TCP", 1, 100)]), make_conn([("TCP", 10, 20), ("UDP", 1, 5)]))
    assert got == make_conn([("TCP", 1, 9), ("TCP", 21, 100)])


def test_render() -> None:
    assert render(ALL) == "all"
    assert render(NONE) == "none"
    conn = make_conn([("UDP", 53, 53), ("TCP", 80, 81), ("TCP", 1, 1)])
    assert render(conn) == "TCP 1, TCP 80-81, UDP 53"


@pytest.mark.parametrize(
    ("text", "expected", "other"),
    [
        ("All connections", ALL, True),
        ("No connections", NONE, False),
        ("{protocols:TCP,dst_ports:6379}", make_conn([("TCP", 6379, 6379)]), False),
        ("{protocols:TCP, UDP,dst_ports:53}", make_conn([("TCP", 53, 53), ("UDP", 53, 53)]), False),
        ("{protocols:TCP,dst_ports:5432,8000-9100}",
         make_conn([("TCP", 5432, 5432), ("TCP", 8000, 9100)]), False),
        ("{protocols:UDP}", make_conn([("UDP", 1, 65535)]), False),
        ("{protocols:SCTP,dst_ports:1-10},{protocols:UDP,dst_ports:5}",
         make_conn([("SCTP", 1, 10), ("UDP", 5, 5)]), False),
        ("{dst_ports:80}", make_conn([(p, 80, 80) for p in ("TCP", "UDP", "SCTP")]), True),
        ("{protocols:all but TCP}", make_conn([("UDP", 1, 65535), ("SCTP", 1, 65535)]), True),
        ("{protocols:ICMP, TCP,dst_ports:22}", make_conn([("TCP", 22, 22)]), True),
        ("{protocols:ICMP,icmp_type:8}", NONE, True),
        ("All but {protocols:TCP,dst_ports:1-79,81-65535}", subtract(ALL, make_conn(
            [("TCP", 1, 79), ("TCP", 81, 65535)])), True),
    ],
)  # fmt: skip
def test_parse_connection(text: str, expected: frozenset[Any], other: bool) -> None:
    parsed = parse_connection(text)
    assert parsed.conn == expected
    assert parsed.other_protocols is other


@pytest.mark.parametrize("text", ["{protocols:TCP", "{src_ports:80}", "{paths:/x}", "TCP 80"])
def test_parse_connection_rejects(text: str) -> None:
    with pytest.raises(NcaFormatError):
        parse_connection(text)


def test_parse_lines_unions_pairs_and_counts_external() -> None:
    parsed = parse_nca_lines(
        [
            "Warning: something\n",
            "global: cluster has 3 unique endpoints, 1 namespaces\n",
            "0.0.0.0-255.255.255.255 => a/x[Pod] : All connections\n",
            "a/x[Pod] => 198.19.0.0/24 : All connections\n",
            "a/x[Pod] => a/y[Pod] : {protocols:TCP,dst_ports:80}\n",
            "a/x[Pod] => a/y[Pod] : {protocols:UDP,dst_ports:53}\n",
            "a/d[Deployment] => a/y[Pod] : All connections\n",
            "Total run time:   0.02 seconds\n",
        ]
    )
    assert parsed.pairs == {("a/x", "a/y"): make_conn([("TCP", 80, 80), ("UDP", 53, 53)])}
    assert parsed.endpoints == 3
    assert parsed.external_lines == 2
    assert parsed.workload_lines == 1
    assert parsed.multi_line_pairs == 1


def test_parse_quirks_fixture() -> None:
    parsed = parse_nca_file(QUIRKS / "nca.txt")
    assert parsed.endpoints == 4
    assert parsed.pairs[("a/db", "a/web")] == make_conn(
        [("TCP", 8080, 8080), ("UDP", 1, 65535), ("SCTP", 100, 200)]
    )
    # ipBlock 198.18.0.0/16 does not match pod IPs in NCA: only the named port UDP 9999.
    assert parsed.pairs[("a/web", "a/db")] == make_conn([("UDP", 9999, 9999)])
    assert ("b/client", "a/db") not in parsed.pairs


def _podwall_doc() -> dict[str, Any]:
    return {
        "pods": ["a/x", "a/y", "a/z"],
        "groups": [[0, 2], [1]],
        "connections": [
            {"from": [0], "to": [1], "ports": {"TCP": [[80, 80]], "UDP": [[53, 53]]}, "text": ""},
            {"from": [0], "to": [0], "ports": {"TCP": [[1, 65535]]}, "text": ""},
        ],
        "self": "every pod can reach itself on every port",
    }


def _nca_lines(xz: str) -> list[str]:
    return [
        "global: cluster has 3 unique endpoints, 1 namespaces",
        "a/x[Pod] => a/y[Pod] : {protocols:TCP,dst_ports:80}",
        "a/x[Pod] => a/y[Pod] : {protocols:UDP,dst_ports:53}",
        "a/z[Pod] => a/y[Pod] : {protocols:UDP,dst_ports:53},{protocols:TCP,dst_ports:80}",
        f"a/x[Pod] => a/z[Pod] : {xz}",
        "a/z[Pod] => a/x[Pod] : {protocols:TCP}",
    ]


def test_podwall_pairs_expand_groups() -> None:
    pairs = dict(load_podwall(_podwall_doc()).pairs())
    assert set(pairs) == {("a/x", "a/y"), ("a/z", "a/y"), ("a/x", "a/z"), ("a/z", "a/x")}
    assert pairs[("a/x", "a/z")] == make_conn([("TCP", 1, 65535)])


def test_compare_identical() -> None:
    nca = parse_nca_lines(_nca_lines("{protocols:TCP}"))
    result = compare(nca, load_podwall(_podwall_doc()))
    assert result.pairs_compared == 6
    assert result.self_pairs_excluded == 3
    assert result.identical, result.details


def test_compare_reports_differences() -> None:
    nca = parse_nca_lines(_nca_lines("All connections"))
    result = compare(nca, load_podwall(_podwall_doc()))
    assert result.differences == 1
    assert result.details[0].kind() == "NCA allows more"  # "all" includes "TCP all"
    out = io.StringIO()
    report(result, out)
    assert "a/x -> a/z: NCA all | podwall TCP all" in out.getvalue()


def test_compare_flags_pods_unknown_to_podwall() -> None:
    nca = parse_nca_lines(["a/q[Pod] => a/x[Pod] : All connections"])
    result = compare(nca, load_podwall(_podwall_doc()))
    assert result.pods_only_in_nca == ["a/q"]
    assert not result.identical


def test_load_podwall_rejects_bad_partition() -> None:
    doc = _podwall_doc()
    doc["groups"] = [[0, 1], [1]]
    with pytest.raises(ValueError, match="in groups"):
        load_podwall(doc)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda d: d.update(groups=[[0, 1], [1]]), "in groups"),
        (lambda d: d["connections"][0].update({"to": [3]}), "names pod 3 of 3"),
        (lambda d: d["connections"][0].update(ports={"TCP": [["x", 1]]}), ""),
    ],
    ids=["bad partition", "pod out of range", "bad port range"],
)
def test_check_podwall_file_counts_pods_and_rejects_a_malformed_map(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], error: str
) -> None:
    path = tmp_path / "podwall.json"
    path.write_text(json.dumps(_podwall_doc()))
    assert check_podwall_file(path) == 3
    doc = _podwall_doc()
    change(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises((ValueError, TypeError), match=error or None):
        check_podwall_file(path)


def test_difference_kind_uses_port_ranges() -> None:
    diff = Difference("a/x", "a/y", make_conn([("UDP", 9999, 9999)]), ALL)
    assert diff.kind() == "podwall allows more"


def _podwall_matrix(folder: Path) -> dict[str, Any]:
    podwall = Path(sys.executable).with_name("podwall")
    if not podwall.exists():
        pytest.skip(f"{podwall} not installed")
    cmd = [str(podwall), "matrix", "-f", str(folder), "-o", "json"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


def test_podwall_agrees_with_nca_on_ipblock_except() -> None:
    folder = FIXTURES / "ipblock-except"
    result = compare(parse_nca_file(folder / "nca.txt"), load_podwall(_podwall_matrix(folder)))
    assert result.identical, [d.render() for d in result.details]


def test_podwall_differs_from_nca_only_on_ipblocks_holding_pod_ips() -> None:
    """NCA never matches pods by address; podwall does (a/web, b/client are in 198.18.0.0/16)."""
    result = compare(parse_nca_file(QUIRKS / "nca.txt"), load_podwall(_podwall_matrix(QUIRKS)))
    assert {(d.src, d.dst) for d in result.details} == {("a/web", "a/db"), ("b/client", "a/db")}
    assert all(d.kind() == "podwall allows more" for d in result.details)


def test_podwall_differs_from_nca_on_host_network_pods() -> None:
    """NCA applies policies to host-network pods; podwall leaves them unisolated."""
    folder = FIXTURES / "host-network"
    result = compare(parse_nca_file(folder / "nca.txt"), load_podwall(_podwall_matrix(folder)))
    assert [(d.src, d.dst, d.kind()) for d in result.details] == [
        ("a/web", "a/agent", "podwall allows more")
    ]


def test_measure_reports_peak_rss_of_that_child(tmp_path: Path) -> None:
    cmd = [sys.executable, "-c", "x = bytearray(80 * 2**20); x[::4096] = b'1' * len(x[::4096])"]
    measured = measure(cmd, tmp_path / "out", tmp_path / "err", timeout=60)
    assert measured.error is None
    assert measured.mib >= 80
    small = measure([sys.executable, "-c", "pass"], tmp_path / "out", tmp_path / "err", 60)
    # Per child, not the maximum over all children so far. (A child's peak can include the
    # parent's pages at fork time, so it is compared with the big child, not a constant.)
    assert small.mib < measured.mib


def test_measure_kills_on_timeout(tmp_path: Path) -> None:
    cmd = [sys.executable, "-c", "import time; time.sleep(30)"]
    measured = measure(cmd, tmp_path / "out", tmp_path / "err", timeout=0.5)
    assert measured.error is not None
    assert measured.error.startswith("timeout")
    assert measured.seconds < 10


def test_the_cluster_network_policies_are_deterministic_and_valid(tmp_path: Path) -> None:
    import yaml

    from podwall.model.cnpvalidation import validate_cluster_network_policy

    generator = Path(__file__).parent / "gen_tiers.py"
    outs = [tmp_path / "a.yaml", tmp_path / "b.yaml"]
    for out in outs:
        cmd = [sys.executable, str(generator), "--count", "40", "--out", str(out)]
        subprocess.run(cmd, check=True)
    assert outs[0].read_bytes() == outs[1].read_bytes()
    docs = [d for d in yaml.safe_load_all(outs[0].read_text()) if d]
    assert len(docs) == 40
    assert {d["spec"]["tier"] for d in docs} == {"Admin", "Baseline"}
    assert all(validate_cluster_network_policy(d) == [] for d in docs)
