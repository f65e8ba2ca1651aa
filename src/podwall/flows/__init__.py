"""Flows: every verdict the dataplane gives a new connection, read back and attributed.

The compiled ruleset logs the first packet of each new connection a policy decides through
NFLOG, tagged with what the deciding rule means (`podwall.nft.logtags`). Here:

- `nflog`, `packet`: the nfnetlink_log wire format and the headers of a logged packet;
- `reader`: the netlink socket of one node's namespace, with its losses counted;
- `flow`: the flow record and its JSON; `attribution`: record + tag + snapshot -> flow;
- `collector`: one node's reader thread into its rings (`ring`: memory and file);
- `merge`, `filters`, `render`: what `podwall observe` does with the nodes' rings.
"""

from podwall.flows.flow import Flow, FlowEndpoint, RuleRef, Verdict

__all__ = ["Flow", "FlowEndpoint", "RuleRef", "Verdict"]
