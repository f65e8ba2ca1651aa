"""The image table: which stand-in or host command runs for a container, or why none does."""

from __future__ import annotations

import pytest

from podwall.runtime.images import (
    APPLETS_DIR,
    KIND_AGNHOST,
    KIND_BUSYBOX,
    KIND_DATABASE,
    KIND_DEATHSTAR,
    KIND_DEMO_PAGE,
    KIND_DNS,
    KIND_ECHOSERVER,
    KIND_HELLO_APP,
    KIND_HOST,
    KIND_HTTP_ECHO,
    KIND_HTTPBIN,
    KIND_JSON_MOCK,
    KIND_MULTITOOL,
    KIND_NGINX,
    KIND_NODE_HELLO,
    KIND_PODINFO,
    KIND_REDIS,
    KIND_TWO_PORTS,
    KIND_WHOAMI,
    NGINX_CONF,
    NOT_SUPPORTED,
    RUN_ERROR,
    ContainerSpec,
    Launch,
    Waiting,
    dns_launch,
    parse_image,
    resolve,
    resolve_exec,
)

PY = "/venv/bin/python"
HOST_BINARIES = {
    "sh",
    "/bin/sh",
    "sleep",
    "curl",
    "/usr/bin/curl",
    "nginx-on-host",
    "kubectl",
    "bash",
    "python3",
}


def which(executable: str, path: str) -> str | None:
    return executable if executable in HOST_BINARIES else None


def run(spec: ContainerSpec) -> Launch | Waiting:
    return resolve(spec, python=PY, which=which)


def launched(spec: ContainerSpec) -> Launch:
    result = run(spec)
    assert isinstance(result, Launch), result
    return result


JSON_MOCK = "docker.io/cilium/json-mock:1.2"
ALPINE_CURL = "docker.io/byrnedo/alpine-curl:0.1.8"
AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.47"


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        pytest.param("alpine", "alpine", id="a bare name is its own repository"),
        pytest.param("docker.io/library/alpine:3.19", "alpine", id="docker library prefix goes"),
        pytest.param(JSON_MOCK, "cilium/json-mock", id="registry and tag go"),
        pytest.param(AGNHOST, "e2e-test-images/agnhost", id="registry.k8s.io goes"),
        pytest.param("localhost:5000/x/y@sha256:ab", "x/y", id="registry port and digest go"),
        pytest.param("quay.io/Cilium/JSON-Mock", "cilium/json-mock", id="case does not matter"),
    ],
)
def test_parse_image(image: str, repository: str) -> None:
    assert parse_image(image).repository == repository


@pytest.mark.parametrize(
    ("spec", "argv", "kind"),
    [
        pytest.param(
            ContainerSpec(image=JSON_MOCK, env={"PORT": "8080"}),
            (PY, "-m", "podwall.runtime.standins.jsonmock"),
            KIND_JSON_MOCK,
            id="json-mock runs the json-mock stand-in",
        ),
        pytest.param(
            ContainerSpec(image="cilium/json-mock"),
            (PY, "-m", "podwall.runtime.standins.jsonmock"),
            KIND_JSON_MOCK,
            id="json-mock without a registry or tag is json-mock too",
        ),
        pytest.param(
            ContainerSpec(image="quay.io/cilium/starwars:v2.1@sha256:" + "8" * 64),
            (PY, "-m", "podwall.runtime.standins.deathstar"),
            KIND_DEATHSTAR,
            id="the Star Wars demo's deathstar runs the deathstar stand-in",
        ),
        pytest.param(
            ContainerSpec(image="docker.io/cilium/starwars"),
            (PY, "-m", "podwall.runtime.standins.deathstar"),
            KIND_DEATHSTAR,
            id="cilium/starwars from Docker Hub is the deathstar too",
        ),
        pytest.param(
            ContainerSpec(image="ahmet/app-on-two-ports"),
            (PY, "-m", "podwall.runtime.standins.twoports"),
            KIND_TWO_PORTS,
            id="the recipes' two-port app runs its stand-in",
        ),
        pytest.param(
            ContainerSpec(image="us-docker.pkg.dev/google-samples/containers/gke/hello-app:1.0"),
            (PY, "-m", "podwall.runtime.standins.helloapp", "1.0"),
            KIND_HELLO_APP,
            id="GKE's hello-app runs its stand-in, told its tag",
        ),
        pytest.param(
            ContainerSpec(image="gcr.io/google-samples/hello-app"),
            (PY, "-m", "podwall.runtime.standins.helloapp", ""),
            KIND_HELLO_APP,
            id="hello-app from gcr.io without a tag",
        ),
        pytest.param(
            ContainerSpec(image="bmuschko/nodejs-hello-world:1.0.0"),
            (PY, "-m", "podwall.runtime.standins.nodehello"),
            KIND_NODE_HELLO,
            id="Muschko's nodejs-hello-world runs its stand-in",
        ),
        pytest.param(
            ContainerSpec(
                image="hashicorp/http-echo:0.2.3",
                args=("-text=Hello from backend", "-listen=:5678"),
            ),
            (
                PY,
                "-m",
                "podwall.runtime.standins.httpecho",
                "-text=Hello from backend",
                "-listen=:5678",
            ),
            KIND_HTTP_ECHO,
            id="http-echo runs its stand-in with the args its entrypoint gets",
        ),
        pytest.param(
            ContainerSpec(image="hashicorp/http-echo", command=("/http-echo", "-text=hi")),
            (PY, "-m", "podwall.runtime.standins.httpecho", "-text=hi"),
            KIND_HTTP_ECHO,
            id="http-echo with its entrypoint named as the command",
        ),
        pytest.param(
            ContainerSpec(image="redis:4"),
            (PY, "-m", "podwall.runtime.standins.redis"),
            KIND_REDIS,
            id="redis runs the Redis-like listener",
        ),
        pytest.param(
            ContainerSpec(image=JSON_MOCK, command=("curl", "-s", "x")),
            ("curl", "-s", "x"),
            KIND_HOST,
            id="json-mock with its own command runs that command on the host",
        ),
        pytest.param(
            ContainerSpec(image=ALPINE_CURL, command=("/bin/ash", "-c", "sleep 1000000000")),
            ("/bin/sh", "-c", "sleep 1000000000"),
            KIND_HOST,
            id="the tutorial's alpine-curl command runs with /bin/ash as /bin/sh",
        ),
        pytest.param(
            ContainerSpec(image="curlimages/curl:8.5.0", args=("-sI", "http://backend:8080")),
            ("curl", "-sI", "http://backend:8080"),
            KIND_HOST,
            id="curl image args go to its curl entrypoint",
        ),
        pytest.param(
            ContainerSpec(image="bitnami/kubectl:1.32", args=("get", "pods")),
            ("kubectl", "get", "pods"),
            KIND_HOST,
            id="kubectl image args go to its kubectl entrypoint",
        ),
        pytest.param(
            ContainerSpec(image="registry.k8s.io/kubectl:v1.32.0", args=("version",)),
            ("kubectl", "version"),
            KIND_HOST,
            id="any */kubectl image is kubectl",
        ),
        pytest.param(
            ContainerSpec(image="curlimages/curl", args=("sleep", "3600")),
            ("sleep", "3600"),
            KIND_HOST,
            id="curl image runs a non-option first argument as the command",
        ),
        pytest.param(
            ContainerSpec(image="busybox:1.36", command=("sleep", "3600")),
            ("sleep", "3600"),
            KIND_HOST,
            id="busybox runs its command with the host's binaries",
        ),
        pytest.param(
            ContainerSpec(image="busybox", command=("/bin/busybox", "sleep", "5")),
            ("sleep", "5"),
            KIND_HOST,
            id="busybox applet calls run the host's binary of that name",
        ),
        pytest.param(
            ContainerSpec(image="alpine"),
            ("/bin/sh",),
            KIND_HOST,
            id="alpine without a command runs its default shell (which exits at once)",
        ),
        pytest.param(
            ContainerSpec(image="nicolaka/netshoot:v0.14", args=("sleep", "3600")),
            ("sleep", "3600"),
            KIND_HOST,
            id="netshoot args replace its default command",
        ),
        pytest.param(
            ContainerSpec(image="nicolaka/netshoot"),
            ("bash",),
            KIND_HOST,
            id="netshoot without args runs the host's bash for its zsh",
        ),
        pytest.param(
            ContainerSpec(image="wbitt/network-multitool", env={"HTTPS_PORT": "3000"}),
            (PY, "-m", "podwall.runtime.standins.multitool"),
            KIND_MULTITOOL,
            id="network-multitool without a command runs its nginx stand-in",
        ),
        pytest.param(
            ContainerSpec(
                image="wbitt/network-multitool:alpine-extra", command=("sleep",), args=("3600",)
            ),
            ("sleep", "3600"),
            KIND_HOST,
            id="network-multitool with a command runs that command",
        ),
        pytest.param(
            ContainerSpec(
                image="radial/busyboxplus:curl",
                command=("curl",),
                args=("http://nginx.web-application",),
            ),
            ("curl", "http://nginx.web-application"),
            KIND_HOST,
            id="busyboxplus runs its command, the host's curl",
        ),
        pytest.param(
            ContainerSpec(image="radial/busyboxplus:curl"),
            ("/bin/sh",),
            KIND_HOST,
            id="busyboxplus without a command runs its CMD, /bin/sh",
        ),
        pytest.param(
            ContainerSpec(image="ubuntu:22.04", args=("bash",)),
            ("bash",),
            KIND_HOST,
            id="ubuntu has no entrypoint: its args run alone",
        ),
        pytest.param(
            ContainerSpec(image="docker.io/library/debian:12"),
            ("bash",),
            KIND_HOST,
            id="debian without args runs its CMD, bash",
        ),
        pytest.param(
            ContainerSpec(image="fedora", command=("sleep",), args=("60",)),
            ("sleep", "60"),
            KIND_HOST,
            id="a base image's command and args run as given",
        ),
        pytest.param(
            ContainerSpec(image="python:3.12", args=("python", "-m", "http.server", "8080")),
            ("python3", "-m", "http.server", "8080"),
            KIND_HOST,
            id="the python image's python is the host's python3 when the host has no python",
        ),
        pytest.param(
            ContainerSpec(image="python:3.12-slim"),
            ("python3",),
            KIND_HOST,
            id="python without args runs its CMD, python3",
        ),
        pytest.param(
            ContainerSpec(image="alpine", args=("sleep", "60")),
            ("sleep", "60"),
            KIND_HOST,
            id="alpine args replace its default command",
        ),
        pytest.param(
            ContainerSpec(image=AGNHOST, args=("serve", "--tcp-ports", "80,81")),
            (PY, "-m", "podwall.runtime.standins.agnhost", "serve", "--tcp-ports", "80,81"),
            KIND_AGNHOST,
            id="agnhost args run the agnhost stand-in",
        ),
        pytest.param(
            ContainerSpec(
                image=AGNHOST,
                command=("/agnhost", "serve-hostname", "--tcp", "--http=false", "--port", "80"),
            ),
            (
                PY,
                "-m",
                "podwall.runtime.standins.agnhost",
                "serve-hostname",
                "--tcp",
                "--http=false",
                "--port",
                "80",
            ),
            KIND_AGNHOST,
            id="upstream netpol e2e's /agnhost serve-hostname command runs the stand-in",
        ),
        pytest.param(
            ContainerSpec(image=AGNHOST),
            (PY, "-m", "podwall.runtime.standins.agnhost", "pause"),
            KIND_AGNHOST,
            id="agnhost without command or args runs its CMD, pause",
        ),
        pytest.param(
            ContainerSpec(image=AGNHOST, command=("sh", "-c", "sleep 1")),
            ("sh", "-c", "sleep 1"),
            KIND_HOST,
            id="agnhost with a shell command runs the host's shell",
        ),
        pytest.param(
            ContainerSpec(image="httpd:2.4", command=("nginx-on-host",)),
            ("nginx-on-host",),
            KIND_HOST,
            id="an unknown image with a command found on the host runs it",
        ),
    ],
)
def test_launch(spec: ContainerSpec, argv: tuple[str, ...], kind: str) -> None:
    launch = launched(spec)
    assert launch.argv == argv
    assert launch.kind == kind


S = "podwall.runtime.standins"


@pytest.mark.parametrize(
    ("spec", "argv", "kind"),
    [
        pytest.param(
            ContainerSpec(image="registry.k8s.io/echoserver:1.4"),
            (PY, "-m", f"{S}.echoserver", "k8s", "1.4"),
            KIND_ECHOSERVER,
            id="registry.k8s.io/echoserver runs the echoserver stand-in, told its tag",
        ),
        pytest.param(
            ContainerSpec(image="k8s.gcr.io/echoserver:1.10"),
            (PY, "-m", f"{S}.echoserver", "k8s", "1.10"),
            KIND_ECHOSERVER,
            id="k8s.gcr.io/echoserver too",
        ),
        pytest.param(
            ContainerSpec(image="registry.k8s.io/e2e-test-images/echoserver:2.5"),
            (PY, "-m", f"{S}.echoserver", "k8s", "2.5"),
            KIND_ECHOSERVER,
            id="the e2e-test-images echoserver too",
        ),
        pytest.param(
            ContainerSpec(image="kicbase/echo-server:1.0"),
            (PY, "-m", f"{S}.echoserver", "minikube"),
            KIND_ECHOSERVER,
            id="minikube's kicbase/echo-server runs the Go echo server's stand-in",
        ),
        pytest.param(
            ContainerSpec(image="traefik/whoami:v1.10"),
            (PY, "-m", f"{S}.whoami"),
            KIND_WHOAMI,
            id="traefik/whoami runs the whoami stand-in",
        ),
        pytest.param(
            ContainerSpec(image="containous/whoami", args=("--port", "8080")),
            (PY, "-m", f"{S}.whoami", "--port", "8080"),
            KIND_WHOAMI,
            id="containous/whoami's args are its flags",
        ),
        pytest.param(
            ContainerSpec(image="traefik/whoami", command=("/whoami",), args=("--port=81",)),
            (PY, "-m", f"{S}.whoami", "--port=81"),
            KIND_WHOAMI,
            id="whoami with its entrypoint named as the command",
        ),
        pytest.param(
            ContainerSpec(image="ghcr.io/stefanprodan/podinfo:6.5.4"),
            (PY, "-m", f"{S}.podinfo", "6.5.4"),
            KIND_PODINFO,
            id="podinfo from ghcr.io runs the podinfo stand-in, told its tag",
        ),
        pytest.param(
            ContainerSpec(
                image="stefanprodan/podinfo", command=("./podinfo",), args=("--port=9898",)
            ),
            (PY, "-m", f"{S}.podinfo", "", "--port=9898"),
            KIND_PODINFO,
            id="podinfo with ./podinfo as the command",
        ),
        pytest.param(
            ContainerSpec(image="stefanprodan/podinfo:6.0.0", args=("./podinfo", "--level=debug")),
            (PY, "-m", f"{S}.podinfo", "6.0.0", "--level=debug"),
            KIND_PODINFO,
            id="podinfo args naming the program replace its CMD",
        ),
        pytest.param(
            ContainerSpec(image="kennethreitz/httpbin"),
            (PY, "-m", f"{S}.httpbin", "python"),
            KIND_HTTPBIN,
            id="kennethreitz/httpbin runs the httpbin stand-in on 80",
        ),
        pytest.param(
            ContainerSpec(image="mccutchen/go-httpbin:v2.15", args=("-port", "8081")),
            (PY, "-m", f"{S}.httpbin", "go", "-port", "8081"),
            KIND_HTTPBIN,
            id="go-httpbin's args are its flags",
        ),
        pytest.param(
            ContainerSpec(image="httpd:2.4"),
            (PY, "-m", f"{S}.demopages", "httpd"),
            KIND_DEMO_PAGE,
            id="httpd answers It works!",
        ),
        pytest.param(
            ContainerSpec(image="nginxdemos/hello:plain-text"),
            (PY, "-m", f"{S}.demopages", "nginx-hello", "plain-text"),
            KIND_DEMO_PAGE,
            id="nginxdemos/hello, told its tag",
        ),
        pytest.param(
            ContainerSpec(image="paulbouwer/hello-kubernetes:1.10", env={"MESSAGE": "hi"}),
            (PY, "-m", f"{S}.demopages", "hello-kubernetes"),
            KIND_DEMO_PAGE,
            id="hello-kubernetes",
        ),
        pytest.param(
            ContainerSpec(image="gcr.io/kuar-demo/kuard-amd64:blue"),
            (PY, "-m", f"{S}.demopages", "kuard"),
            KIND_DEMO_PAGE,
            id="kuard",
        ),
        pytest.param(
            ContainerSpec(image="docker.io/rxmllc/hostinfo:latest"),
            (PY, "-m", f"{S}.demopages", "hostinfo"),
            KIND_DEMO_PAGE,
            id="rxmllc/hostinfo",
        ),
        pytest.param(
            ContainerSpec(image="postgres:16"),
            (PY, "-m", f"{S}.databases", "postgres"),
            KIND_DATABASE,
            id="postgres runs the database listener",
        ),
        pytest.param(
            ContainerSpec(
                image="mysql:8.0", args=("--default-authentication-plugin=mysql_native_password",)
            ),
            (PY, "-m", f"{S}.databases", "mysql",
             "--default-authentication-plugin=mysql_native_password"),
            KIND_DATABASE,
            id="mysql with server flags as args",
        ),
        pytest.param(
            ContainerSpec(image="mariadb:11"),
            (PY, "-m", f"{S}.databases", "mariadb"),
            KIND_DATABASE,
            id="mariadb",
        ),
        pytest.param(
            ContainerSpec(image="mongo:7", args=("mongod", "--bind_ip_all")),
            (PY, "-m", f"{S}.databases", "mongo", "mongod", "--bind_ip_all"),
            KIND_DATABASE,
            id="mongo with its server named in args",
        ),
        pytest.param(
            ContainerSpec(image="memcached:1.6", args=("-m", "64")),
            (PY, "-m", f"{S}.databases", "memcached", "-m", "64"),
            KIND_DATABASE,
            id="memcached",
        ),
        pytest.param(
            ContainerSpec(image="postgres:16", command=("sleep", "3600")),
            ("sleep", "3600"),
            KIND_HOST,
            id="a database image with a command runs that command",
        ),
        pytest.param(
            ContainerSpec(image="traefik/whoami", command=("sleep",), args=("3600",)),
            ("sleep", "3600"),
            KIND_HOST,
            id="whoami with another command runs that command",
        ),
        pytest.param(
            ContainerSpec(image="kicbase/echo-server", command=("sleep", "1")),
            ("sleep", "1"),
            KIND_HOST,
            id="an echo server with a command runs that command",
        ),
    ],
)  # fmt: skip
def test_demo_server_images(spec: ContainerSpec, argv: tuple[str, ...], kind: str) -> None:
    launch = launched(spec)
    assert (launch.argv, launch.kind) == (argv, kind)
    assert launch.drops_own_privileges is (kind != KIND_HOST)


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(ContainerSpec(image="mongo", args=("sleep", "1")), id="mongo, not a server"),
        pytest.param(ContainerSpec(image="stefanprodan/podinfo", args=("sleep", "1")),
                     id="podinfo args not naming the program"),
        pytest.param(ContainerSpec(image="httpd", args=("-X",)), id="httpd with args"),
    ],
)  # fmt: skip
def test_demo_images_with_other_args_are_not_faked(spec: ContainerSpec) -> None:
    result = run(spec)
    assert isinstance(result, Waiting)
    assert result.reason == NOT_SUPPORTED


def test_container_env_is_kept_and_path_defaulted() -> None:
    launch = launched(ContainerSpec(image=JSON_MOCK, env={"PORT": "8080"}))
    assert launch.env["PORT"] == "8080"
    assert launch.env["PATH"].startswith("/usr/local/sbin")


def test_container_path_wins_over_the_default() -> None:
    launch = launched(ContainerSpec(image="alpine", command=("sh",), env={"PATH": "/x"}))
    assert launch.env["PATH"] == "/x"


@pytest.mark.parametrize(
    ("kind", "drops"),
    [(KIND_JSON_MOCK, True), (KIND_AGNHOST, True), (KIND_DNS, True), (KIND_HOST, False)],
    ids=[
        "json-mock drops its own privileges",
        "agnhost drops its own privileges",
        "dns drops its own privileges",
        "host commands are dropped by setpriv",
    ],
)
def test_who_drops_privileges(kind: str, drops: bool) -> None:
    assert Launch(("x",), {}, kind).drops_own_privileges is drops


@pytest.mark.parametrize(
    ("spec", "reason", "words"),
    [
        pytest.param(
            ContainerSpec(image="quay.io/example/unknown:2.4"),
            NOT_SUPPORTED,
            ("quay.io/example/unknown:2.4", "cilium/json-mock", "agnhost", "nginx", "whoami"),
            id="an unknown image without a command waits with ImageNotSupported",
        ),
        pytest.param(
            ContainerSpec(image="httpd", command=("httpd",)),
            RUN_ERROR,
            ('"httpd"', "not found"),
            id="an unknown image whose command is not on the host waits with RunContainerError",
        ),
        pytest.param(
            ContainerSpec(image="nginx:1.27"),
            RUN_ERROR,
            ("nginx:1.27", "apt-get install nginx-light"),
            id="nginx without nginx on the host says which package it needs",
        ),
        pytest.param(
            ContainerSpec(image=AGNHOST, args=("guestbook", "--http-port", "8080")),
            NOT_SUPPORTED,
            ("guestbook", "serve-hostname", "netexec", "connect"),
            id="an agnhost subcommand outside the subset waits and lists the subset",
        ),
        pytest.param(
            ContainerSpec(image=AGNHOST, command=("/agnhost",)),
            NOT_SUPPORTED,
            ("no subcommand",),
            id="a command replaces the CMD too: /agnhost alone has no subcommand",
        ),
    ],
)
def test_waiting(spec: ContainerSpec, reason: str, words: tuple[str, ...]) -> None:
    result = run(spec)
    assert isinstance(result, Waiting)
    assert result.reason == reason
    for word in words:
        assert word in result.message


@pytest.mark.parametrize(
    ("image", "argv", "expected"),
    [
        pytest.param(
            AGNHOST,
            ["/agnhost", "connect", "198.18.0.2:80", "--timeout=1s"],
            (
                PY,
                "-m",
                "podwall.runtime.standins.agnhost",
                "connect",
                "198.18.0.2:80",
                "--timeout=1s",
            ),
            id="kubectl exec of /agnhost connect runs the agnhost stand-in",
        ),
        pytest.param(
            ALPINE_CURL,
            ["curl", "-I", "--connect-timeout", "5", "backend:8080"],
            ("curl", "-I", "--connect-timeout", "5", "backend:8080"),
            id="the tutorial's kubectl exec curl runs the host's curl",
        ),
        pytest.param(
            "alpine", ["/bin/ash"], ("/bin/sh",), id="kubectl exec of ash gets the host's sh"
        ),
    ],
)
def test_resolve_exec(image: str, argv: list[str], expected: tuple[str, ...]) -> None:
    result = resolve_exec(image, argv, python=PY, which=which)
    assert isinstance(result, Launch)
    assert result.argv == expected


def test_exec_of_a_missing_command_says_so() -> None:
    result = resolve_exec("alpine", ["wget", "x"], which=which)
    assert isinstance(result, Waiting)
    assert '"wget"' in result.message


def test_dns_launch_runs_the_dns_module() -> None:
    launch = dns_launch("/run/podwall/dns.json", port=53, python=PY)
    assert launch.argv == (
        PY, "-m", "podwall.runtime.dns", "--records", "/run/podwall/dns.json", "--port", "53",
    )  # fmt: skip
    assert launch.drops_own_privileges


APPLETS = str(APPLETS_DIR)
WITH_BUSYBOX = {*HOST_BINARIES, "/usr/sbin/nginx"} | {
    f"{APPLETS}/{name}" for name in ("busybox", "sh", "ash", "wget", "sleep", "nslookup")
}


def which_with_busybox(executable: str, path: str) -> str | None:
    """The host with busybox's applet links and nginx: bare names are found on `path`."""
    if "/" in executable:
        return executable if executable in WITH_BUSYBOX else None
    for directory in path.split(":"):
        if f"{directory}/{executable}" in WITH_BUSYBOX:
            return f"{directory}/{executable}"
    return executable if executable in WITH_BUSYBOX else None


@pytest.mark.parametrize(
    ("spec", "argv", "kind"),
    [
        pytest.param(
            ContainerSpec(image="nginx"),
            ("/usr/sbin/nginx", "-e", "stderr", "-c", str(NGINX_CONF)),
            KIND_NGINX,
            id="nginx runs Debian's nginx with podwall's config",
        ),
        pytest.param(
            ContainerSpec(image="docker.io/library/nginx:1.27", args=("sleep", "9")),
            ("sleep", "9"),
            KIND_HOST,
            id="nginx args run as a command, as its entrypoint does",
        ),
        pytest.param(
            ContainerSpec(image="busybox:1.28", args=("/bin/sh",)),
            (f"{APPLETS}/sh",),
            KIND_BUSYBOX,
            id="busybox's /bin/sh is busybox's ash",
        ),
        pytest.param(
            ContainerSpec(image="busybox"),
            ("sh",),
            KIND_BUSYBOX,
            id="busybox without a command runs sh from the applets on PATH",
        ),
        pytest.param(
            ContainerSpec(image="alpine", command=("/bin/ash", "-c", "sleep 1")),
            (f"{APPLETS}/ash", "-c", "sleep 1"),
            KIND_BUSYBOX,
            id="alpine's /bin/ash is busybox's ash",
        ),
        pytest.param(
            ContainerSpec(image="alpine", command=("/bin/busybox", "sleep", "5")),
            (f"{APPLETS}/busybox", "sleep", "5"),
            KIND_BUSYBOX,
            id="alpine's /bin/busybox is busybox",
        ),
        pytest.param(
            ContainerSpec(image="curlimages/curl", args=("-s", "http://x")),
            ("curl", "-s", "http://x"),
            KIND_BUSYBOX,
            id="curl images keep curl, found after the applets on PATH",
        ),
        pytest.param(
            ContainerSpec(image="busybox", command=("/opt/tool",)),
            ("/opt/tool",),
            None,
            id="a path outside the image's bin directories is not an applet",
        ),
    ],
)
def test_busybox_and_nginx_images(
    spec: ContainerSpec, argv: tuple[str, ...], kind: str | None
) -> None:
    result = resolve(spec, python=PY, which=which_with_busybox)
    if kind is None:
        assert isinstance(result, Waiting)
        assert '"/opt/tool"' in result.message
        return
    assert isinstance(result, Launch), result
    assert (result.argv, result.kind) == (argv, kind)


def test_busybox_images_put_the_applets_first_on_path() -> None:
    result = resolve(ContainerSpec(image="busybox"), which=which_with_busybox)
    assert isinstance(result, Launch)
    assert result.env["PATH"].split(":")[0] == APPLETS


def test_kubectl_exec_in_busybox_runs_busybox_nslookup() -> None:
    result = resolve_exec("busybox:1.28", ["nslookup", "nginx"], which=which_with_busybox)
    assert isinstance(result, Launch)
    assert result.kind == KIND_BUSYBOX
    assert which_with_busybox(result.argv[0], result.env["PATH"]) == f"{APPLETS}/nslookup"


@pytest.mark.parametrize("service", ["rng", "hasher", "worker", "webui"])
def test_dockercoins_images_run_their_stand_ins_as_the_workshop_deploys_them(service: str) -> None:
    """`kubectl create deployment rng --image=dockercoins/rng:v0.1`: no command, no args."""
    launch = resolve(ContainerSpec(image=f"dockercoins/{service}:v0.1"), python=PY)
    assert isinstance(launch, Launch)
    assert launch.argv == (PY, "-m", f"podwall.runtime.standins.coin{service}")
    assert launch.drops_own_privileges


def test_a_dockercoins_image_with_a_command_runs_that_command() -> None:
    spec = ContainerSpec(image="dockercoins/worker:v0.1", command=("sh",))
    launch = resolve(spec, python=PY, which=lambda name, path: f"/bin/{name}")
    assert isinstance(launch, Launch)
    assert launch.argv == ("sh",)
