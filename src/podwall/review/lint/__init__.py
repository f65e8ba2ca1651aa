"""`podwall lint`: checks with stable ids for NetworkPolicies that probably do not do what
their author meant, each with a one-line message, a field path and a documentation entry.

One module per family of checks (`selection`, `ports`, `dns`, `peers`, `rules`), `registry`
lists them with their ids, severities and documentation, `sarif` renders findings for
code-scanning UIs. Checks read the snapshot through `context.Context` and ask the engine
(`selects`, `match_peer`, `decide`) for semantics, never re-implementing them. Pure: no I/O here.
"""
