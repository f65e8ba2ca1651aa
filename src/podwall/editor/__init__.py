"""`podwall editor`: a visual NetworkPolicy editor served on loopback, over the engine.

The server is a thin JSON layer: parsing, validation, rendering and every verdict come from
`podwall.model`, `podwall.manifests` and `podwall.engine`; the page in `static/` only draws.
"""
