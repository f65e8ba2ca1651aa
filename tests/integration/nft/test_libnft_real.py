"""libnftables in-process against the real kernel: the same batches as `nft -f`, in the node
namespace asked for and nowhere else, and nft's own refusals."""

from __future__ import annotations

import os
import subprocess
import threading

import pytest

from podwall.nft import NftError, libnft, runner

SCRIPT = """add table inet pwtest
add chain inet pwtest c
add set inet pwtest s { type ipv4_addr ; }
add element inet pwtest s { 198.18.7.1, 198.18.7.2 }
add rule inet pwtest c ip saddr @s accept comment "from the set"
"""


def _binary(script: str) -> str:
    """What the nft binary makes of `script`, loaded into a new throwaway namespace."""
    return runner.trial(script)


def _host_tables() -> str:
    done = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True)
    return done.stdout


@pytest.mark.netns
def test_the_library_is_there_where_nftables_is() -> None:
    assert libnft.available()


@pytest.mark.netns
def test_a_batch_lands_in_the_namespace_as_nft_would_load_it(node: str) -> None:
    libnft.run(SCRIPT, node)
    assert runner.list_ruleset(node) == _binary(SCRIPT)
    assert "pwtest" not in _host_tables()  # nor in the caller's own namespace


@pytest.mark.netns
def test_a_refused_batch_applies_nothing_and_says_why(node: str) -> None:
    libnft.run(SCRIPT, node)
    before = runner.list_ruleset(node)
    bad = "add element inet pwtest s { 198.18.7.3 }\nadd rule inet pwtest nowhere accept\n"
    with pytest.raises(NftError, match="No such file or directory"):
        libnft.run(bad, node)
    assert runner.list_ruleset(node) == before  # 198.18.7.3 did not land either


@pytest.mark.netns
def test_a_missing_namespace_is_named() -> None:
    with pytest.raises(NftError, match="pw-no-such-namespace"):
        libnft.run(SCRIPT, "pw-no-such-namespace")
    with pytest.raises(NftError, match="bad network namespace"):
        libnft.run(SCRIPT, "../etc")


@pytest.mark.netns
def test_the_calling_thread_stays_where_it_was(node: str) -> None:
    def netns_of_this_thread() -> str:
        return os.readlink(f"/proc/self/task/{threading.get_native_id()}/ns/net")

    before = netns_of_this_thread()
    libnft.run(SCRIPT, node)
    assert netns_of_this_thread() == before
    assert "pwtest" not in _host_tables()
