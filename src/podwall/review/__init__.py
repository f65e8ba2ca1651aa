"""Review: what a change to the manifests does, and what in them is probably a mistake.

`diff` compares two snapshots' connectivity maps, `lint` checks policies against the pods they
are meant for, `exposure` says who reaches a pod, `graph` draws a map. Everything here is built
on the engine's public functions (`connectivity`, `decide`); pure: no I/O, no YAML here. The
command line reads the inputs and prints what these modules return.
"""
