"""Tests of podwall.nft (the pure nftables layer and its runner)."""
