"""A running cluster as input: its objects listed with the official `kubernetes` client.

`reader` lists every kind the analyzer reads (I/O, over the network); `layer` puts manifests
on top of what was listed ("what if I apply this?"). Imported only by commands given a
cluster, so the client's import cost is paid only then.
"""
