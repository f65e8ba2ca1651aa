"""The local cluster of `podwall up`: the API server with its controllers and scheduler in one
process, the node agents (`podwall agent --sandbox`) in their own, joined by the sandbox's
fabric. It sits above `apiserver` and `agent` and starts both; neither imports it.
"""
