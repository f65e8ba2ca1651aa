"""Unit tests of podwall.apiserver.patch: the PATCH algorithms."""
