"""The local cluster runtime: sandbox networks, processes and stand-ins on this host."""
