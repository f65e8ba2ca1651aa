"""The node agent: NetworkPolicy enforcement on the nodes of a Kubernetes cluster.

`podwall agent` reaches an API server over HTTPS like any client (`client`), keeps one
list+watch per kind (`watch`) feeding a cache whose unchanged objects stay the same model
objects (`cache`), and a sync loop that compiles the node's ruleset and loads it into its own
nftables table, `inet podwall` (`sync`), compiling only the policies that can matter on the
node (`scope`). It reports through HTTP probes and Prometheus metrics (`health`, `metrics`) and
a Lease per node (`lease`); `run` wires it all together, `kinds` says what is watched and
kept, `backoff` how failures are retried.

Nothing below `podwall.cli` imports this package; it imports the runtime (the Dataplane), the
compiler and the model, never the API server's code.
"""
