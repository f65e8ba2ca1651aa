"""The host files the image table's programs need: busybox's applet links, nginx's config.

Debian builds busybox's wget without its `-T`/`--timeout` option, which every NetworkPolicy
tutorial passes; the applet directory's `wget` is a busybox `sh` script (`WGET_SCRIPT`) that
takes the option off and runs busybox's wget under busybox's `timeout`, which interrupts it
(SIGINT, which the shell does not announce) after that many seconds. The script then says what
busybox's own wget says when its timeout fires: `wget: download timed out`, exit status 1. As
busybox's own timeout, it does not cover the name's lookup: the script looks the name up first
(with the host's system Python, through the pod's resolv.conf), untimed, and a name that does
not resolve (no such Service, or DNS blocked by a policy) gets busybox's words for it,
`wget: bad address 'host:port'`.

Debian builds busybox's `nc` small, without `-v` (and its "host (ip:port) open" line), which
the recipes use: the applet directory's `nc` is a short Python program (`NC_SCRIPT`, run by the
host's system Python, readable by every pod) saying what Alpine's busybox nc says for
`-v`, `-w` and `-z`, and handing any other use to busybox's own nc.

Busybox's `ping` opens a raw socket, which only root (CAP_NET_RAW) may: a container's root has
it, a pod's user here has not ("permission denied (are you root?)"). The applet directory's
`ping` is a Python program (`PING_SCRIPT`) sending the same echo requests over the kernel's ICMP
ping sockets, which every pod's user may open (`netns` sets the pod's ping_group_range), and
printing what busybox's ping prints (`-c`, `-i`, `-q`, `-s`, `-W`, `-w`; other options are
busybox's own). The echo requests are ordinary ICMP, which the pod's policies see as any other.

Files at an image's own paths live in the pod's own root (`podroot`), which its PID 1 fills,
copying them from here, before the pod runs: `pod_files()` writes them (when changed) and says
which goes where. The agnhost image's `/agnhost` (`AGNHOST_PROGRAM` here) is a Python zip
application of podwall's agnhost stand-in (the same one `images` runs for the image) started by
the host's system Python, which every pod's user may run: typed in a shell in the pod, it runs
as the pod's user, with the pod's arguments.

`images` names them (`APPLETS_DIR`, `NGINX_CONF`) and stays pure; this module writes them, as
root, world-readable, under /run (which every pod sees, read-only). `install()` is idempotent
and cheap when nothing changed; call it before resolving images (`Node.start()` does). It never
touches the host's own busybox or nginx configuration.
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from podwall.runtime.images import (
    APPLETS_DIR,
    DEFAULT_PATH,
    IMAGE_FILES,
    NGINX_CONF,
    STANDIN_PACKAGE,
    parse_image,
)

# As the nginx image's default.conf, for an unprivileged master: no `user` (only root may
# switch), the pid and every temporary directory in the pod's private /tmp, the access log on
# the container's stdout (its log file belongs to the pod's user) and errors on stderr.
NGINX_CONFIG = """\
# podwall: the nginx image's configuration, for a master that runs as the pod's user.
worker_processes 1;
daemon off;
pid /tmp/nginx.pid;
error_log stderr notice;
events {
    worker_connections 1024;
}
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format main '$remote_addr - $remote_user [$time_local] "$request" '
                    '$status $body_bytes_sent "$http_referer" '
                    '"$http_user_agent" "$http_x_forwarded_for"';
    access_log /dev/stdout main;
    client_body_temp_path /tmp/nginx-client-body;
    proxy_temp_path /tmp/nginx-proxy;
    fastcgi_temp_path /tmp/nginx-fastcgi;
    uwsgi_temp_path /tmp/nginx-uwsgi;
    scgi_temp_path /tmp/nginx-scgi;
    sendfile on;
    keepalive_timeout 65;
    server {
        listen 80;
        server_name localhost;
        location / {
            root /usr/share/nginx/html;
            index index.html index.htm;
        }
        error_page 500 502 503 504 /50x.html;
        location = /50x.html {
            root /usr/share/nginx/html;
        }
    }
}
"""

WGET_SCRIPT = """\
#!{applets}/sh
# podwall: busybox's wget with its -T/--timeout option, which Debian's busybox leaves out.
n=$#; t=
while [ "$n" -gt 0 ]; do
  a=$1; shift; n=$((n - 1))
  case $a in
    --timeout=*) t=${{a#--timeout=}} ;;
    --timeout|-T) t=$1; shift; n=$((n - 1)) ;;
    -T*) t=${{a#-T}} ;;
    *) set -- "$@" "$a" ;;
  esac
done
[ -z "$t" ] && exec {busybox} wget "$@"
# The timeout is the connection's and the download's: the name is looked up first, untimed.
RESOLVE='import socket, sys; socket.getaddrinfo(sys.argv[1], None, socket.AF_INET)'
# The URL: the first argument that is neither an option nor an option's value (`-O -`).
u=; v=
for a; do
  if [ -n "$v" ]; then v=; continue; fi
  case $a in
    -O|-o|-P|-U|-Y|-e|--header|--post-data|--post-file|--user-agent) v=1 ;;
    -*) ;;
    *) [ -z "$u" ] && u=$a ;;
  esac
done
u=${{u#*://}}; hp=${{u%%/*}}; hp=${{hp##*@}}; h=${{hp%:*}}
if [ -x {python} ] && ! {python} -I -c "$RESOLVE" "$h" 2>/dev/null; then
  echo "wget: bad address '$hp'" >&2
  exit 1
fi
{busybox} timeout -s INT "$t" {busybox} wget "$@"
rc=$?
[ "$rc" = 130 ] || exit "$rc"
echo "wget: download timed out" >&2
exit 1
"""


NC_SCRIPT = """\
#!{python} -I
# podwall: busybox's nc with -v, -w and -z, as Alpine builds it; anything else is busybox's.
import os, select, socket, sys
args, verbose, wait, scan = sys.argv[1:], False, None, False
while args and args[0].startswith("-") and len(args[0]) > 1:
    flags = args.pop(0)[1:]
    while flags:
        flag, flags = flags[0], flags[1:]
        if flag == "v":
            verbose = True
        elif flag == "z":
            scan = True
        elif flag == "w" and (flags or args):
            value, flags = (flags, "") if flags else (args.pop(0), "")
            if not value.isdigit():
                os.execv("{busybox}", ["nc", *sys.argv[1:]])
            wait = int(value)
        else:
            os.execv("{busybox}", ["nc", *sys.argv[1:]])
if len(args) != 2 or not (verbose or scan or wait is not None):
    os.execv("{busybox}", ["nc", *sys.argv[1:]])
host, port = args
try:
    address = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)[0][4]
except (socket.gaierror, UnicodeError):
    sys.exit(f"nc: bad address '{{host}}'")
where = f"{{host}} ({{address[0]}}:{{address[1]}})"
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.settimeout(wait)
try:
    sock.connect(address)
except TimeoutError:
    sys.exit(f"nc: {{where}}: Operation timed out")
except OSError as exc:
    sys.exit(f"nc: {{where}}: {{exc.strerror}}")
if verbose:
    print(f"{{where}} open", file=sys.stderr, flush=True)
if scan:
    sys.exit(0)
sock.setblocking(True)
inputs = [sock, sys.stdin.buffer]
while True:
    ready, _, _ = select.select(inputs, [], [], wait if len(inputs) == 1 else None)
    if not ready:
        sys.exit(0)  # -w: the final net read timed out
    if sock in ready:
        data = sock.recv(65536)
        if not data:
            sys.exit(0)
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            sys.exit(0)
    if sys.stdin.buffer in ready:
        data = os.read(sys.stdin.fileno(), 65536)
        if data:
            sock.sendall(data)
        else:
            inputs.remove(sys.stdin.buffer)
"""
PING_SCRIPT = """\
#!{python} -I
# podwall: busybox's ping over the kernel's ICMP (ping) sockets, which a pod's unprivileged
# user may open, where busybox's needs a raw socket; what it prints is busybox's. Options other
# than -c, -i, -q, -s, -W, -w and -4 are busybox's own.
import os, select, signal, socket, struct, sys, time
def busybox():
    os.execv("{busybox}", ["ping"] + sys.argv[1:])
VALUED = dict(c="count", i="interval", s="size", W="timeout", w="deadline")
opts = dict(count=0, interval=1.0, size=56, timeout=10.0, deadline=0.0)
quiet, args, rest = False, [], sys.argv[1:]
while rest:
    arg = rest.pop(0)
    if not arg.startswith("-") or len(arg) == 1:
        args.append(arg)
        continue
    flags = arg[1:]
    while flags:
        flag, flags = flags[0], flags[1:]
        if flag == "q":
            quiet = True
        elif flag == "4":
            pass
        elif flag in VALUED and (flags or rest):
            value, flags = (flags, "") if flags else (rest.pop(0), "")
            try:
                opts[VALUED[flag]] = type(opts[VALUED[flag]])(value)
            except ValueError:
                busybox()
        else:
            busybox()
if len(args) != 1:
    busybox()
host = args[0]
try:
    address = socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_DGRAM)[0][4][0]
except (socket.gaierror, UnicodeError):
    sys.exit("ping: bad address '%s'" % host)
try:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
except PermissionError:
    busybox()  # no ping sockets for this user: busybox says what it says without a raw one
sock.setsockopt(socket.IPPROTO_IP, 12, 1)  # IP_RECVTTL: each reply's TTL
count, size = opts["count"], opts["size"]
sent, received, rtts, sent_at = 0, 0, [], dict()
def stats(*_):
    print("\\n--- %s ping statistics ---" % host)
    loss = (sent - received) * 100 // sent if sent else 0
    print("%d packets transmitted, %d packets received, %d%% packet loss" % (sent, received, loss))
    if rtts:
        low, avg, high = min(rtts), sum(rtts) // len(rtts), max(rtts)
        print("round-trip min/avg/max = %d.%03d/%d.%03d/%d.%03d ms"
              % (low // 1000, low % 1000, avg // 1000, avg % 1000, high // 1000, high % 1000))
    sys.stdout.flush()
    os._exit(1 if received == 0 or (opts["deadline"] and received < count) else 0)
signal.signal(signal.SIGINT, stats)
print("PING %s (%s): %d data bytes" % (host, address, size), flush=True)
start = time.monotonic()
next_send, last_wait = start, None
while True:
    now = time.monotonic()
    if opts["deadline"] and now - start >= opts["deadline"]:
        break
    if (not count or sent < count) and now >= next_send:
        try:
            echo = struct.pack("!BBHHH", 8, 0, 0, 0, sent & 0xFFFF) + bytes(size)
            sock.sendto(echo, (address, 0))
        except OSError as exc:
            sys.exit("ping: sendto: %s" % exc.strerror)
        sent_at[sent & 0xFFFF] = now
        sent, next_send = sent + 1, now + opts["interval"]
        if count and sent >= count and not opts["deadline"]:
            # As busybox: about two round trips once one came back, else -W seconds.
            last_wait = now + (max(max(rtts) // (512 * 1024), 1) if rtts else opts["timeout"])
    ends = [end for end in (last_wait, opts["deadline"] and start + opts["deadline"]) if end]
    if not count or sent < count:
        ends.append(next_send)
    ready = select.select([sock], [], [], max(min(ends) - time.monotonic(), 0))[0]
    if ready:
        data, ancillary, _, _ = sock.recvmsg(65536, 64)
        now = time.monotonic()
        if len(data) >= 8 and data[0] == 0:
            seq = struct.unpack("!H", data[6:8])[0]
            ttl = next((c[2][0] for c in ancillary if c[0] == socket.IPPROTO_IP and c[1] == 2), 0)
            if seq in sent_at:
                rtt = int((now - sent_at.pop(seq)) * 1000000)
                received, rtts = received + 1, rtts + [rtt]
                if not quiet:
                    print("%d bytes from %s: seq=%d ttl=%d time=%d.%03d ms"
                          % (len(data), address, seq, ttl, rtt // 1000, rtt % 1000), flush=True)
        if count and received >= count:
            break
    if last_wait and time.monotonic() >= last_wait:
        break
stats()
"""
SYSTEM_PYTHON = "/usr/bin/python3"  # the host's own, which every pod's user may run
AGNHOST_PATH = "/agnhost"
# What the agnhost stand-in imports of podwall (stdlib aside), relative to the source root.
AGNHOST_SOURCES = (
    "podwall/__init__.py",
    "podwall/errors.py",
    "podwall/runtime/__init__.py",
    "podwall/runtime/errors.py",
    "podwall/runtime/standins/__init__.py",
    "podwall/runtime/standins/agnhost.py",
    "podwall/runtime/standins/privileges.py",
    "podwall/runtime/standins/sockets.py",
)
_AGNHOST_MAIN = f"""\
import sys
from {STANDIN_PACKAGE}.agnhost import main
sys.exit(main())
"""
_SOURCE_ROOT = Path(__file__).resolve().parents[2]


def pod_files(images: Sequence[str], directory: Path = Path(IMAGE_FILES)) -> dict[str, Path]:
    """The files a pod of these images has at the images' own paths: by path in the pod, the
    host file (under `directory`, written now if it changed) its PID 1 copies there."""
    files: dict[str, Path] = {}
    if any(parse_image(image).name == "agnhost" for image in images):
        program = directory / "agnhost" / "agnhost"
        _write_program(program, _agnhost_program_for_pods())
        files[AGNHOST_PATH] = program
    return files


@functools.cache
def _agnhost_program_for_pods() -> bytes:
    return agnhost_program(_python_for_pods())


def agnhost_program(python: str, source_root: Path = _SOURCE_ROOT) -> bytes:
    """`/agnhost`: a zip application of the agnhost stand-in, run by `python` in isolated mode."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name in AGNHOST_SOURCES:
            zipped.writestr(name, (source_root / name).read_bytes())
        zipped.writestr("__main__.py", _AGNHOST_MAIN)
    return f"#!{python} -I\n".encode() + archive.getvalue()


def _python_for_pods() -> str:
    """The host's system Python when it has one (podwall's own may be under /root, mode 700)."""
    return SYSTEM_PYTHON if os.access(SYSTEM_PYTHON, os.X_OK) else os.path.realpath(sys.executable)


def install() -> None:
    """Write the applet links (when busybox is installed) and nginx's config."""
    _make_dir(Path(IMAGE_FILES))
    busybox = shutil.which("busybox", path=DEFAULT_PATH)
    if busybox is not None:
        install_applets(Path(APPLETS_DIR), busybox, applets(busybox))
    _write(Path(NGINX_CONF), NGINX_CONFIG)


def applets(busybox: str) -> list[str]:
    """The applets `busybox` was built with (`busybox --list`)."""
    listed = subprocess.run(
        [busybox, "--list"], capture_output=True, text=True, check=True, env={}, timeout=10
    )
    return [name for name in listed.stdout.split() if name and "/" not in name]


def install_applets(directory: Path, busybox: str, names: list[str]) -> None:
    """`directory` holds a link to `busybox` for each applet and for `busybox` itself; replaced
    whole (rename), so a pod never sees it half made."""
    scripts = {"wget": WGET_SCRIPT.format(applets=directory, busybox=busybox, python=SYSTEM_PYTHON)}
    if os.access(SYSTEM_PYTHON, os.X_OK):
        scripts["nc"] = NC_SCRIPT.format(python=SYSTEM_PYTHON, busybox=busybox)
        scripts["ping"] = PING_SCRIPT.format(python=SYSTEM_PYTHON, busybox=busybox)
    scripts = {name: text for name, text in scripts.items() if name in names}
    wanted = {*names, "busybox"} - set(scripts)
    if _current(directory, busybox, wanted, scripts):
        return
    _make_dir(directory.parent)
    staging = Path(tempfile.mkdtemp(prefix=".busybox.", dir=directory.parent))
    for name in sorted(wanted):
        (staging / name).symlink_to(busybox)
    for name, text in scripts.items():
        (staging / name).write_text(text)
        (staging / name).chmod(0o755)
    staging.chmod(0o755)
    old = directory.with_name(f".{directory.name}.old")
    if directory.exists():
        shutil.rmtree(old, ignore_errors=True)
        directory.rename(old)
    staging.rename(directory)
    shutil.rmtree(old, ignore_errors=True)


def _current(directory: Path, busybox: str, links: set[str], scripts: dict[str, str]) -> bool:
    if not directory.is_dir():
        return False
    found = {e.name: os.readlink(e) for e in directory.iterdir() if e.is_symlink()}
    return found == dict.fromkeys(links, busybox) and all(
        (directory / name).is_file() and (directory / name).read_text() == text
        for name, text in scripts.items()
    )


def _make_dir(directory: Path) -> None:
    directory.mkdir(mode=0o755, parents=True, exist_ok=True)
    directory.chmod(0o755)


def _write_program(path: Path, content: bytes) -> None:
    _make_dir(path.parent)
    if path.is_file() and path.read_bytes() == content:
        return
    staging = path.with_name(f".{path.name}.new")
    staging.write_bytes(content)
    staging.chmod(0o755)
    staging.replace(path)


def _write(path: Path, text: str) -> None:
    _make_dir(path.parent)
    if path.is_file() and path.read_text() == text:
        return
    staging = path.with_name(f".{path.name}.new")
    staging.write_text(text)
    staging.chmod(0o644)
    staging.replace(path)
