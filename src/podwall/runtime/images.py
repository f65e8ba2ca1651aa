"""The image table: what podwall runs for a container, without pulling any image.

Pure: no I/O except looking executables up on the host (`shutil.which`), which callers can
replace through the `which` argument. A container resolves to a `Launch` (argv, environment and
which kind of thing runs) or to a `Waiting` reason for the pod's status, never to a silent fake.

| image (any registry, tag or digest)         | runs                                               |
|---------------------------------------------|----------------------------------------------------|
| cilium/json-mock                            | the json-mock stand-in on $PORT (80 when unset)    |
| cilium/starwars                             | the deathstar stand-in on port 80 (Star Wars demo) |
| calico/star-probe                           | the stars demo's probe: `probe ARGS` (or ARGS      |
|                                             | alone); --urls polled every 5s, GET /status        |
| calico/star-collect                         | without a command, the stars demo's UI on 9001:    |
|                                             | the demo's 3 probes polled every 5s, GET           |
|                                             | /responses; a plain HTML page (no arbor.js graph)  |
| ahmet/app-on-two-ports                      | the recipes' app: hello on 8000, /metrics on 5000  |
| google-samples/.../hello-app                | GKE's hello-app on $PORT (8080 when unset)         |
| hashicorp/http-echo                         | the http-echo stand-in: -text, -listen (:5678)     |
| redis                                       | an in-memory Redis on 6379: strings and hashes     |
|                                             | (GET, SET, INCRBY, DEL, KEYS, HSET, HGETALL...),   |
|                                             | SELECT, PING, INFO; Redis's replies and errors; no |
|                                             | lists, sets, pub/sub, transactions or persistence  |
| dockercoins/rng, no command or args         | container.training's DockerCoins on port 80: rng   |
| dockercoins/hasher                          | (`/N`: N random bytes), hasher (`POST /`: hex      |
| dockercoins/worker                          | sha256), each one request at a time with its 0.1 s |
| dockercoins/webui                           | sleep; worker (rng → hasher → `INCRBY hashes` on   |
|                                             | redis, its log lines); webui (`/json` from redis,  |
|                                             | its own page at /index.html, not the Rickshaw one) |
| registry.k8s.io/echoserver (k8s.gcr.io/,    | the echoserver stand-in: the request echoed as     |
| e2e-test-images/), no command or args       | text on 8080 (no 8443); tags < 1.10: 1.4's page    |
| kicbase/echo-server, jmalloc/echo-server    | `Request served by POD` + the request, on $PORT    |
|                                             | (8080)                                             |
| traefik/whoami, containous/whoami           | the whoami stand-in: --port / $WHOAMI_PORT_NUMBER  |
|                                             | (80), --name; Hostname:, IP:, RemoteAddr:, the     |
|                                             | request; /api, /health, /bench, /data              |
| stefanprodan/podinfo (and ghcr.io/)         | the podinfo stand-in on --port / $PODINFO_PORT     |
|                                             | (9898): JSON at /, /api/info, /healthz, /readyz,   |
|                                             | /version, /headers, /env, /status/N (no web UI,    |
|                                             | gRPC or metrics port)                              |
| kennethreitz/httpbin, mccutchen/go-httpbin  | the httpbin stand-in on 80 / 8080 ($PORT, -port):  |
|                                             | /get, /ip, /headers, /user-agent, /uuid, /status/N,|
|                                             | /anything, /post, /put, /patch, /delete            |
| httpd                                       | Apache's `It works!` page on 80 (a stand-in, not   |
|                                             | Apache: no modules, no config, no htdocs)          |
| nginxdemos/hello (and :plain-text),         | its page (server name and address, URI, date) on   |
| nginxdemos/nginx-hello                      | 80 (nginx-hello: 8080)                             |
| paulbouwer/hello-kubernetes                 | its page on $PORT (8080): $MESSAGE, pod, node      |
| gcr.io/kuar-demo/kuard-*                    | a page naming the pod on 8080, /healthy, /ready    |
|                                             | (not kuard's React app or its API)                 |
| rxmllc/hostinfo (RX-M's training labs)      | `HOSTNAME IP` on 9898, as the labs show it         |
| postgres, mysql, mariadb, mongo, memcached  | a listener on 5432 / 3306 / 27017 / 11211 that     |
|                                             | holds no data: postgres asks for a password then   |
|                                             | refuses it; mysql/mariadb greet then deny access;  |
|                                             | memcached answers version, get (a miss) and quit;  |
|                                             | mongo accepts connections and speaks no protocol   |
|                                             | (these run with args that are flags; no command)   |
| bmuschko/nodejs-hello-world                 | `Hello World` on port 3000 (Muschko's courses)     |
| wbitt/network-multitool                     | without command or args: the multitool stand-in    |
|                                             | (its one-line page on $HTTP_PORT, $HTTPS_PORT);    |
|                                             | else a shell image, as below                       |
| */agnhost                                   | the agnhost stand-in: serve, serve-hostname,       |
|                                             | porter, netexec, connect, pause; without command   |
|                                             | or args its CMD, `pause`                           |
| nginx, */nginx                              | Debian's nginx, its welcome page on port 80        |
| alpine, busybox, curlimages/curl,           | busybox's applets (sh, wget, nc, nslookup, ...)    |
| byrnedo/alpine-curl, */curl, */alpine-curl, | first on PATH, then the host's binaries (curl,     |
| bitnami/kubectl, */kubectl,                 | kubectl, bash): command + args, else the           |
| nicolaka/netshoot, wbitt/network-multitool, | entrypoint (netshoot's zsh: the host's bash)       |
| radial/busyboxplus                          |                                                    |
| ubuntu, debian, fedora, centos, rockylinux, | the host's programs: command + args, else the      |
| almalinux, amazonlinux, opensuse/leap,      | image's CMD (bash; python3 for python); these      |
| python                                      | images have no ENTRYPOINT                          |
| anything else                               | an explicit command found on the host, else        |
|                                             | Waiting(ImageNotSupported)                         |

Kubernetes semantics: `command` replaces the image's ENTRYPOINT and `args` its CMD; with args
alone, the ENTRYPOINT gets the args.

Busybox-based images (alpine's userland is busybox) run the host's busybox through a directory
of applet links (`APPLETS_DIR`, made by `imagefiles`): it comes first on the container's PATH,
and `/bin/sh`, `/bin/ash`, `/bin/busybox`, `/usr/bin/wget` and the like map to their links, so
`wget --spider nginx` prints busybox's own words. Without busybox on the host they fall back to
the host's programs (`/bin/ash` as `/bin/sh`). nginx runs with `NGINX_CONF` (also `imagefiles`'):
in the foreground, as the pod's user, its pid and temporary files in the pod's private /tmp,
its logs on the container's stdout and stderr.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

KIND_JSON_MOCK = "json-mock"
KIND_DEATHSTAR = "deathstar"
KIND_STAR_PROBE = "star-probe"
KIND_STAR_COLLECT = "star-collect"
KIND_TWO_PORTS = "app-on-two-ports"
KIND_REDIS = "redis"
KIND_HELLO_APP = "hello-app"
KIND_NODE_HELLO = "nodejs-hello-world"
KIND_HTTP_ECHO = "http-echo"
KIND_MULTITOOL = "network-multitool"
KIND_AGNHOST = "agnhost"
KIND_HOST = "host"
KIND_DNS = "dns"
KIND_BUSYBOX = "busybox"
KIND_NGINX = "nginx"
KIND_ECHOSERVER = "echoserver"
KIND_WHOAMI = "whoami"
KIND_PODINFO = "podinfo"
KIND_DEMO_PAGE = "demo-page"
KIND_HTTPBIN = "httpbin"
KIND_DATABASE = "database"
KIND_DOCKERCOINS = "dockercoins"
SELF_DROPPING_KINDS = frozenset(
    {
        KIND_ECHOSERVER,
        KIND_WHOAMI,
        KIND_PODINFO,
        KIND_DEMO_PAGE,
        KIND_HTTPBIN,
        KIND_DATABASE,
        KIND_DOCKERCOINS,
        KIND_JSON_MOCK,
        KIND_DEATHSTAR,
        KIND_STAR_PROBE,
        KIND_STAR_COLLECT,
        KIND_AGNHOST,
        KIND_DNS,
        KIND_TWO_PORTS,
        KIND_REDIS,
        KIND_HELLO_APP,
        KIND_NODE_HELLO,
        KIND_HTTP_ECHO,
        KIND_MULTITOOL,
    }
)
NOT_SUPPORTED = "ImageNotSupported"
RUN_ERROR = "RunContainerError"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
AGNHOST_SUBCOMMANDS = ("serve", "serve-hostname", "porter", "netexec", "connect", "pause")
# The image's Dockerfile: ENTRYPOINT ["/agnhost"], CMD ["pause"].
AGNHOST_CMD = ("pause",)
STANDIN_PACKAGE = "podwall.runtime.standins"
IMAGE_FILES = PurePosixPath("/run/podwall-images")  # readable by every pod (the host, read-only)
APPLETS_DIR = IMAGE_FILES / "busybox"
NGINX_CONF = IMAGE_FILES / "nginx" / "nginx.conf"
BIN_DIRS = frozenset({"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin"})

Which = Callable[[str, str], str | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class ContainerSpec:
    """The parts of a Kubernetes container that decide what runs. `ports` change nothing, as
    `containerPort` changes nothing in Kubernetes; they are kept for callers' convenience."""

    image: str
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Launch:
    """A process to start in the pod: `argv[0]` is a host path or a name looked up on PATH."""

    argv: tuple[str, ...]
    env: dict[str, str]
    kind: str

    @property
    def drops_own_privileges(self) -> bool:
        """True for podwall's Python stand-ins: started as root, they drop to the pod's uid
        themselves."""
        return self.kind in SELF_DROPPING_KINDS


@dataclass(frozen=True, slots=True)
class Waiting:
    """Why the container cannot run: a Kubernetes waiting `reason` and a message for users."""

    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class ImageRef:
    """An image reference reduced to its repository path: `docker.io/library/alpine:3` → alpine."""

    text: str
    repository: str

    @property
    def name(self) -> str:
        return self.repository.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class ShellImage:
    """An image whose binaries the host provides: its ENTRYPOINT and CMD."""

    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Standin:
    """A stand-in module run for an image: its leading arguments, whether the image's tag
    follows them, and the names by which a container's `command` may call the image's own
    program (ENTRYPOINT or CMD) and still get the stand-in."""

    module: str
    kind: str
    args: tuple[str, ...] = ()
    tagged: bool = False
    executables: frozenset[str] = frozenset()


# Images whose program the stand-in replaces when the container gives no command nor args.
SIMPLE_DEMOS: Mapping[str, Standin] = {
    "kicbase/echo-server": Standin("echoserver", KIND_ECHOSERVER, ("minikube",)),
    "jmalloc/echo-server": Standin("echoserver", KIND_ECHOSERVER, ("minikube",)),
    "nginxdemos/hello": Standin("demopages", KIND_DEMO_PAGE, ("nginx-hello",), tagged=True),
    "nginxdemos/nginx-hello": Standin(
        "demopages", KIND_DEMO_PAGE, ("nginx-hello-unprivileged",), tagged=True
    ),
    "paulbouwer/hello-kubernetes": Standin("demopages", KIND_DEMO_PAGE, ("hello-kubernetes",)),
    "httpd": Standin("demopages", KIND_DEMO_PAGE, ("httpd",)),
    "rxmllc/hostinfo": Standin("demopages", KIND_DEMO_PAGE, ("hostinfo",)),
    "kennethreitz/httpbin": Standin("httpbin", KIND_HTTPBIN, ("python",)),
}
# container.training's DockerCoins, run as the workshop does (`kubectl create deployment`).
DOCKERCOINS: Mapping[str, Standin] = {
    f"dockercoins/{service}": Standin(f"coin{service}", KIND_DOCKERCOINS)
    for service in ("rng", "hasher", "worker", "webui")
}
ECHOSERVER_REPOS = frozenset(
    {"echoserver", "google_containers/echoserver", "google-containers/echoserver",
     "e2e-test-images/echoserver"}
)  # fmt: skip
_WHOAMI = Standin("whoami", KIND_WHOAMI, executables=frozenset({"/whoami", "whoami"}))
# Images whose program takes flags as args (a command naming the program keeps the stand-in).
OWN_PROGRAMS: Mapping[str, Standin] = {
    "traefik/whoami": _WHOAMI,
    "containous/whoami": _WHOAMI,
    "emilevauge/whoami": _WHOAMI,
    # No ENTRYPOINT; CMD ./podinfo (WORKDIR /home/app): args alone must name the program.
    "stefanprodan/podinfo": Standin(
        "podinfo", KIND_PODINFO, tagged=True,
        executables=frozenset({"./podinfo", "podinfo", "/home/app/podinfo"}),
    ),
    "mccutchen/go-httpbin": Standin(
        "httpbin", KIND_HTTPBIN, ("go",),
        executables=frozenset({"/bin/go-httpbin", "go-httpbin"}),
    ),
}  # fmt: skip
# Their entrypoint scripts run the server with args that are flags (or name the server).
DATABASES: Mapping[str, Standin] = {
    name: Standin("databases", KIND_DATABASE, (name,), executables=frozenset(programs))
    for name, programs in (
        ("postgres", {"postgres"}), ("mysql", {"mysqld"}), ("mariadb", {"mariadbd", "mysqld"}),
        ("mongo", {"mongod"}), ("memcached", {"memcached"}),
    )
}  # fmt: skip

SHELL_IMAGES: Mapping[str, ShellImage] = {
    "alpine": ShellImage((), ("/bin/sh",)),
    "busybox": ShellImage((), ("sh",)),
    "curlimages/curl": ShellImage(("curl",), ()),
    "byrnedo/alpine-curl": ShellImage(("curl",), ()),
    "curl": ShellImage(("curl",), ()),
    "alpine-curl": ShellImage(("curl",), ()),
    "bitnami/kubectl": ShellImage(("kubectl",), ()),
    "kubectl": ShellImage(("kubectl",), ()),
    # Its CMD is zsh, which hosts rarely have: the host's bash is the shell it gets.
    "nicolaka/netshoot": ShellImage((), ("bash",)),
    # Alpine with curl, bind-tools, nginx...: with a command it runs that (its entrypoint
    # script ends in `exec "$@"`); without, nginx (the multitool stand-in).
    "wbitt/network-multitool": ShellImage((), ("sh",)),
    # Busybox with curl (old Kubernetes docs and workshops): no ENTRYPOINT, CMD /bin/sh.
    "radial/busyboxplus": ShellImage((), ("/bin/sh",)),
}


# Base images with no ENTRYPOINT and a shell (or an interpreter) as CMD: `kubectl run -it x
# --image=ubuntu -- bash` runs its args alone. Their userland is GNU's, so the host's programs
# (not busybox's applets) are what they run.
BASE_IMAGES: Mapping[str, tuple[str, ...]] = {
    "ubuntu": ("/bin/bash",),
    "debian": ("bash",),
    "fedora": ("/bin/bash",),
    "centos": ("/bin/bash",),
    "rockylinux": ("/bin/bash",),
    "almalinux": ("/bin/bash",),
    "amazonlinux": ("/bin/bash",),
    "opensuse/leap": ("/bin/bash",),
    "python": ("python3",),
}
# The python image's `python` is its python3; a host may have only the latter.
_ALIASES: Mapping[str, Mapping[str, str]] = {"python": {"python": "python3"}}


def parse_image(image: str) -> ImageRef:
    """Drop registry, tag and digest: `registry.k8s.io/e2e-test-images/agnhost:2.47`."""
    path = image.split("@", 1)[0]
    first, sep, rest = path.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        path = rest
    slash = path.rfind("/")
    colon = path.rfind(":")
    if colon > slash:
        path = path[:colon]
    return ImageRef(image, path.removeprefix("library/").lower())


def image_tag(image: str) -> str:
    """The tag of `image` (`registry:5000/x/y:1.0@sha256:...` → 1.0), "" when it has none."""
    path = image.split("@", 1)[0]
    name = path.rsplit("/", 1)[-1]
    return name.partition(":")[2]


def resolve(
    spec: ContainerSpec, *, python: str = sys.executable, which: Which | None = None
) -> Launch | Waiting:
    """What runs for `spec`; `python` is the interpreter for the stand-ins."""
    ref = parse_image(spec.image)
    env = container_env(spec.env)
    if ref.repository == "cilium/json-mock" and not spec.command:
        return _json_mock(spec, env, python)
    if ref.repository == "cilium/starwars" and not spec.command:
        return Launch((python, "-m", f"{STANDIN_PACKAGE}.deathstar"), env, KIND_DEATHSTAR)
    if ref.repository == "calico/star-probe" and _runs_star_probe(spec.command):
        probe = (python, "-m", f"{STANDIN_PACKAGE}.starprobe", *spec.command[1:], *spec.args)
        return Launch(probe, env, KIND_STAR_PROBE)
    if ref.repository == "calico/star-collect" and not spec.command:
        collect = (python, "-m", f"{STANDIN_PACKAGE}.starcollect", *spec.args)
        return Launch(collect, env, KIND_STAR_COLLECT)
    if ref.repository == "ahmet/app-on-two-ports" and not spec.command:
        return Launch((python, "-m", f"{STANDIN_PACKAGE}.twoports"), env, KIND_TWO_PORTS)
    if _is_hello_app(ref) and not spec.command:
        argv = (python, "-m", f"{STANDIN_PACKAGE}.helloapp", image_tag(ref.text))
        return Launch(argv, env, KIND_HELLO_APP)
    if ref.repository == "bmuschko/nodejs-hello-world" and not spec.command and not spec.args:
        return Launch((python, "-m", f"{STANDIN_PACKAGE}.nodehello"), env, KIND_NODE_HELLO)
    if ref.repository == "hashicorp/http-echo" and _runs_http_echo(spec.command):
        echo = (python, "-m", f"{STANDIN_PACKAGE}.httpecho", *spec.command[1:], *spec.args)
        return Launch(echo, env, KIND_HTTP_ECHO)
    demo = _demo_server(ref, spec, env, python)
    if demo is not None:
        return demo
    if ref.repository == "redis" and not spec.command and not spec.args:
        return Launch((python, "-m", f"{STANDIN_PACKAGE}.redis"), env, KIND_REDIS)
    if ref.repository == "wbitt/network-multitool" and not spec.command and not spec.args:
        return Launch((python, "-m", f"{STANDIN_PACKAGE}.multitool"), env, KIND_MULTITOOL)
    if ref.name == "agnhost" and not _runs_shell(spec.command):
        agnhost: tuple[str, ...] = (*spec.command, *spec.args) or AGNHOST_CMD
        return _agnhost(ref, agnhost, env, python)
    if ref.name == "nginx":
        if spec.command or spec.args:  # its ENTRYPOINT runs the args as a command
            return _host_command(ref, (*spec.command, *spec.args), env, which)
        return _nginx(ref, env, which)
    shell = _shell_image(ref)
    if shell is not None:
        return _busybox_command(ref, _effective_argv(shell, spec), spec.env, which)
    if ref.repository in BASE_IMAGES:
        return _base_image(ref, spec, env, which)
    if spec.command:
        return _host_command(ref, (*spec.command, *spec.args), env, which)
    return _not_supported(ref, "it has no command")


def resolve_exec(
    image: str,
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    *,
    python: str = sys.executable,
    which: Which | None = None,
) -> Launch | Waiting:
    """What `kubectl exec POD -- ARGV` runs in a container of `image` (`/agnhost connect ...`)."""
    ref = parse_image(image)
    full_env = container_env(env or {})
    if ref.name == "agnhost" and argv and _is_agnhost(argv[0]):
        return _agnhost(ref, tuple(argv), full_env, python)
    if _shell_image(ref) is not None:
        return _busybox_command(ref, tuple(argv), env or {}, which)
    return _host_command(ref, tuple(argv), full_env, which)


def dns_launch(records: str, *, port: int = 53, python: str = sys.executable) -> Launch:
    """The cluster DNS server (`podwall.runtime.dns`) as a pod process."""
    argv = (python, "-m", "podwall.runtime.dns", "--records", records, "--port", str(port))
    return Launch(argv, container_env({}), KIND_DNS)


def container_env(env: Mapping[str, str]) -> dict[str, str]:
    """The container's environment, with PATH as container runtimes default it."""
    return {"PATH": DEFAULT_PATH, **env}


def _demo_server(
    ref: ImageRef, spec: ContainerSpec, env: dict[str, str], python: str
) -> Launch | None:
    """The demo web servers' and databases' stand-ins, when the container runs the image's
    own program; None for any other image or command."""
    argv = (*spec.command, *spec.args)
    if ref.name == "echoserver" and ref.repository in ECHOSERVER_REPOS and not argv:
        return _standin(
            Standin("echoserver", KIND_ECHOSERVER, ("k8s",), True), ref, (), env, python
        )
    if ref.repository.startswith("kuar-demo/kuard") and not spec.command:
        return _standin(Standin("demopages", KIND_DEMO_PAGE, ("kuard",)), ref, (), env, python)
    simple = SIMPLE_DEMOS.get(ref.repository) or DOCKERCOINS.get(ref.repository)
    if simple is not None:
        return _standin(simple, ref, (), env, python) if not argv else None
    database = DATABASES.get(ref.repository)
    if database is not None:
        if spec.command or (spec.args and not _server_args(spec.args, database.executables)):
            return None
        return _standin(database, ref, spec.args, env, python)
    own = OWN_PROGRAMS.get(ref.repository)
    if own is None:
        return None
    if spec.command:
        if spec.command[0] not in own.executables:
            return None
        return _standin(own, ref, (*spec.command[1:], *spec.args), env, python)
    if own.kind == KIND_PODINFO and spec.args:  # args alone replace its CMD
        if spec.args[0] not in own.executables:
            return None
        return _standin(own, ref, spec.args[1:], env, python)
    return _standin(own, ref, spec.args, env, python)


def _server_args(args: Sequence[str], executables: frozenset[str]) -> bool:
    """Args a database image's entrypoint passes to its server: flags, or the server named."""
    return args[0].startswith("-") or args[0] in executables


def _standin(
    standin: Standin, ref: ImageRef, args: Sequence[str], env: dict[str, str], python: str
) -> Launch:
    tag = (image_tag(ref.text),) if standin.tagged else ()
    argv = (python, "-m", f"{STANDIN_PACKAGE}.{standin.module}", *standin.args, *tag, *args)
    return Launch(argv, env, standin.kind)


def _json_mock(spec: ContainerSpec, env: dict[str, str], python: str) -> Launch:
    argv = (python, "-m", f"{STANDIN_PACKAGE}.jsonmock", *spec.args)
    return Launch(argv, env, KIND_JSON_MOCK)


def _agnhost(
    ref: ImageRef, argv: tuple[str, ...], env: dict[str, str], python: str
) -> Launch | Waiting:
    args = argv[1:] if argv and _is_agnhost(argv[0]) else argv
    if not args or args[0] not in AGNHOST_SUBCOMMANDS:
        what = f"subcommand {args[0]!r}" if args else "no subcommand"
        return Waiting(
            NOT_SUPPORTED,
            f"image {ref.text!r}: agnhost {what} is not supported; podwall's agnhost "
            f"stand-in runs {', '.join(AGNHOST_SUBCOMMANDS)}",
        )
    return Launch((python, "-m", f"{STANDIN_PACKAGE}.agnhost", *args), env, KIND_AGNHOST)


def _runs_http_echo(command: Sequence[str]) -> bool:
    """No command (the image's ENTRYPOINT, /http-echo), or that ENTRYPOINT named."""
    return not command or command[0] in ("/http-echo", "http-echo")


def _runs_star_probe(command: Sequence[str]) -> bool:
    """No command (args go to the probe), or the probe named as the demo's manifests do."""
    return not command or command[0] in ("probe", "/probe", "star-probe")


def _is_hello_app(ref: ImageRef) -> bool:
    return ref.name == "hello-app" and ref.repository.startswith("google-samples/")


def _is_agnhost(executable: str) -> bool:
    return executable in ("agnhost", "/agnhost")


def _runs_shell(command: Sequence[str]) -> bool:
    return bool(command) and not _is_agnhost(command[0])


def _shell_image(ref: ImageRef) -> ShellImage | None:
    return SHELL_IMAGES.get(ref.repository) or SHELL_IMAGES.get(ref.name)


def _effective_argv(image: ShellImage, spec: ContainerSpec) -> tuple[str, ...]:
    if spec.command:
        return (*spec.command, *spec.args)
    if spec.args and image.entrypoint == ("curl",) and not spec.args[0].startswith("-"):
        return spec.args  # curl images' entrypoints run a non-option first argument as is
    return (*image.entrypoint, *(spec.args or image.cmd))


def host_argv(argv: Sequence[str]) -> tuple[str, ...]:
    """Alpine's and busybox's names for host binaries: `/bin/ash` → `/bin/sh`, no `busybox`."""
    mapped = list(argv)
    if mapped and mapped[0] in ("busybox", "/bin/busybox") and len(mapped) > 1:
        mapped = mapped[1:]
    if mapped and mapped[0] in ("ash", "/bin/ash"):
        mapped[0] = "/bin/sh"
    return tuple(mapped)


def _host_command(
    ref: ImageRef, argv: tuple[str, ...], env: dict[str, str], which: Which | None
) -> Launch | Waiting:
    return _checked(ref, host_argv(argv), env, which, KIND_HOST)


def _checked(
    ref: ImageRef, mapped: tuple[str, ...], env: dict[str, str], which: Which | None, kind: str
) -> Launch | Waiting:
    """`mapped` if its executable exists on the container's PATH, else why not."""
    if not mapped:
        return _not_supported(ref, "it has no command")
    lookup = which or _which
    if lookup(mapped[0], env.get("PATH", DEFAULT_PATH)) is None:
        return Waiting(
            RUN_ERROR,
            f'image {ref.text!r}: exec: "{mapped[0]}": executable file not found on this host',
        )
    return Launch(mapped, env, kind)


def _base_image(
    ref: ImageRef, spec: ContainerSpec, env: dict[str, str], which: Which | None
) -> Launch | Waiting:
    """No ENTRYPOINT: the command and args, else the args alone, else the image's CMD."""
    argv = (*spec.command, *spec.args) or BASE_IMAGES[ref.repository]
    aliases = _ALIASES.get(ref.repository, {})
    lookup = which or _which
    if argv[0] in aliases and lookup(argv[0], env.get("PATH", DEFAULT_PATH)) is None:
        argv = (aliases[argv[0]], *argv[1:])
    return _host_command(ref, argv, env, which)


def _busybox_command(
    ref: ImageRef, argv: tuple[str, ...], env: Mapping[str, str], which: Which | None
) -> Launch | Waiting:
    """`argv` with busybox's applets first: their links on PATH, and absolute paths of the
    image's /bin mapped to them. The host's programs when busybox is not installed here."""
    lookup = which or _which
    applets = str(APPLETS_DIR)
    if lookup(f"{applets}/busybox", DEFAULT_PATH) is None:
        return _host_command(ref, argv, container_env(env), which)
    full_env = {"PATH": f"{applets}:{DEFAULT_PATH}", **env}
    mapped = (applet_path(argv[0], lookup), *argv[1:]) if argv else ()
    return _checked(ref, mapped, full_env, which, KIND_BUSYBOX)


def applet_path(executable: str, which: Which) -> str:
    """The applet link for `/bin/sh`, `/usr/bin/wget`, `/bin/busybox`...; else `executable`."""
    directory, _, name = executable.rpartition("/")
    if not directory or directory not in BIN_DIRS:
        return executable
    link = f"{APPLETS_DIR}/{name}"
    return link if which(link, DEFAULT_PATH) is not None else executable


def _nginx(ref: ImageRef, env: dict[str, str], which: Which | None) -> Launch | Waiting:
    lookup = which or _which
    nginx = lookup("nginx", DEFAULT_PATH)
    if nginx is None:
        return Waiting(
            RUN_ERROR,
            f"image {ref.text!r}: nginx is not installed on this host "
            "(apt-get install nginx-light)",
        )
    argv = (nginx, "-e", "stderr", "-c", str(NGINX_CONF))
    return Launch(argv, env, KIND_NGINX)


def _which(executable: str, path: str) -> str | None:
    return shutil.which(executable, path=path)


def _not_supported(ref: ImageRef, why: str) -> Waiting:
    return Waiting(
        NOT_SUPPORTED,
        f"image {ref.text!r} is not pulled by podwall and {why}: podwall runs cilium/json-mock, "
        "agnhost (serve, serve-hostname, porter, netexec, connect, pause), nginx, the demo "
        "servers of public tutorials (echoserver, whoami, podinfo, httpbin, httpd...), "
        "alpine/busybox/curl images with the host's busybox and curl, base images (ubuntu, "
        "debian, python...) with the host's programs, or any image whose command exists on "
        "this host",
    )
