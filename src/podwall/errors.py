"""PodwallError, the root of every error podwall raises on purpose.

Such an error carries a message meant for the person at the keyboard (it names the file, object,
field or host resource at fault), so the CLI prints it and exits 2; anything else that escapes a
command is a bug (exit 70). Each layer roots its own small tree here. This module imports
nothing, so every layer, the pure core included, may import it (it is the bottom layer).

    PodwallError
    ├── ValidationError ........ model.fielderrors: input that breaks the Kubernetes API's rules
    │   ├── SelectorError ...... model.labelselectors: a label selector that does not parse
    │   └── InvalidManifests ... cli.loading: manifests that fail validation, every error listed
    ├── AddressesExhausted ..... model.addressing: the sandbox address range is full
    ├── LoadError .............. manifests.reader: a file that cannot be read or parsed
    ├── UnknownCheck ........... review.lint.registry: a lint check id or name that names none
    ├── NftError ............... nft.errors: nft refused a transaction
    ├── TargetError ............ engine.targets: a --from/--to that names nothing (ValueError)
    ├── SandboxError ........... runtime.errors: a sandbox network or namespace on this host
    │   ├── ProcessError ....... runtime.process: a pod process (CommandNotFound: no such command)
    │   ├── SandboxStartError .. runtime.podsandbox: a pod's PID 1 did not start
    │   ├── SetupError ......... runtime.podinit: the pod's PID 1 could not set up its mounts
    │   ├── PodRootError ....... runtime.podroot: a pod's root that cannot be planned
    │   ├── MountPlanError ..... runtime.mountplan: a volume's mount path that cannot be placed
    │   ├── PrivilegeError ..... runtime.standins.privileges: dropping to the pod's user failed
    │   └── UidsExhausted ...... runtime.podrecords: no pod uid left in the range
    ├── ReaderError ............ flows.reader: a log group that cannot be bound or configured
    │   └── LogGroupBusy ....... flows.reader: another socket already reads the group
    ├── FilterError ............ flows.filters: a flow filter that cannot mean anything
    ├── AgentUnreachable ....... flows.remote: a node agent whose /flows cannot be read
    ├── BadQuery ............... agent.flowapi: a /flows query that means nothing (a 400)
    ├── ClientError ............ live.connect: podwall and a cluster's API server
    │   ├── ConfigError, Unreachable ... live.connect: no usable kubeconfig; no answer
    │   └── ApiError ........... agent.client: an HTTP error with the server's Status
    ├── StartupError ........... agent.run: what the agent is missing, in one line
    ├── TokenUnavailable ....... agent.tokens: the API server issued no token for a pod
    ├── EnvError ............... agent.podenv: a container's environment cannot be made
    ├── VolumeError ............ agent.podvolumes: a pod's volumes cannot be made (FailedMount)
    ├── NodesNotReady .......... cluster.local: a node of `podwall up` did not get ready
    ├── ClusterIPError ......... controllers.services: no ClusterIP (answered 422)
    ├── NodePortError .......... controllers.nodeports: node ports a Service cannot have (422)
    ├── NodePortRangeFull ...... controllers.nodeports: no free node port (answered 500)
    ├── ScheduleError .......... controllers.cronschedule: a CronJob schedule that does not parse
    ├── ApiError ............... apiserver.errors: answered as a metav1.Status
    │   ├── NotFoundError, AlreadyExistsError, ConflictError, ExpiredError
    │   │   └── ContinueExpiredError ... apiserver.listoptions: a continue token too old
    │   └── PatchError ......... apiserver.patch.errors: a patch that cannot be applied
    ├── PodLookupError ......... apiserver.podruntime: the pod or container is not running here
    ├── ExecStartError ......... apiserver.podruntime: the exec'd command could not start
    ├── PortForwardError ....... apiserver.podruntime: a forwarded port could not be reached
    ├── SpdyError .............. apiserver.spdy: a SPDY frame that makes no sense
    └── EditorError ............ editor.errors
        ├── FormError, AttachedError, BadRequest, BindError, AskError, CheckError
        ├── ClusterError, Refused
        └── ViewError ......... editor.views: a matrix request that names no group

Errors that take a builtin's place keep it as a second base (ValueError, LookupError), so code
that catches the builtin still catches them. Outside the tree on purpose: nft's
InvalidOperation (podwall asked nft for something it never accepts: a bug, exit 70) and the
private errors raised and caught inside one part (jsonpatch's _OpError; the watch history's
TooOld, which the store answers as a 410 ExpiredError; the YAML reader's _Fallback, its short
path handing a node to PyYAML; the http-echo stand-in's UsageError, printed as upstream's words
by the stand-in's own main; the network-multitool stand-in's PortError, a bad $HTTP_PORT printed
by its main as the image's entrypoint fails; the star stand-ins' HelpRequested and FetchError,
`--help` and a target that gave no HTTP answer, both handled by the stand-in itself; the Redis
stand-in's ProtocolError, ReplyError and CommandError, answered to the client as Redis's own
error replies; the DockerCoins worker's WorkError, logged and retried as worker.py does).

Pure: no I/O here.
"""

from __future__ import annotations


class PodwallError(Exception):
    """An error podwall raises on purpose; `str()` is the message for the user."""
