"""libnftables in this process: the parser and batches of `nft -f`, without a process.

A small update to a 10k-pod ruleset costs nft 1.0.6 about 20 ms, most of it reading the
table back into its cache; spawning `ip netns exec ... nft -f -` for it cost 10-15 ms more
(a process, a mount namespace, nft's start-up). The library does the same work in-process.

A netlink socket belongs to the network namespace it was opened in, and libnftables opens
its socket when a context is created: so each call makes a context in a short-lived thread
that first joins the target namespace (setns(2) moves only the calling thread), runs the
script, and frees the context before the thread ends. Nothing stays open that could keep a
deleted namespace alive. ctypes releases the GIL during the call.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading

from podwall.nft.errors import NftError

LIBRARY = "libnftables.so.1"
CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"


class _Lib:
    def __init__(self, lib: ctypes.CDLL) -> None:
        lib.nft_ctx_new.restype = ctypes.c_void_p
        lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
        lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_buffer_output.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_buffer_error.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
        lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.nft_run_cmd_from_buffer.restype = ctypes.c_int
        self.lib = lib
        self.libc = ctypes.CDLL(None, use_errno=True)

    def run(self, script: bytes) -> None:
        ctx = self.lib.nft_ctx_new(0)
        if not ctx:
            raise NftError("libnftables: cannot create a context")
        try:
            # Buffer both streams: nothing may reach our stdout or stderr directly.
            self.lib.nft_ctx_buffer_output(ctx)
            self.lib.nft_ctx_buffer_error(ctx)
            if self.lib.nft_run_cmd_from_buffer(ctx, script) != 0:
                error = self.lib.nft_ctx_get_error_buffer(ctx) or b""
                raise NftError(error.decode(errors="replace").strip() or "nft refused the batch")
        finally:
            self.lib.nft_ctx_free(ctx)

    def enter(self, netns: str) -> None:
        """Move the calling thread into network namespace `netns`."""
        try:
            fd = os.open(os.path.join(NETNS_DIR, netns), os.O_RDONLY | os.O_CLOEXEC)
        except OSError as err:
            raise NftError(f"cannot enter network namespace {netns}: {err.strerror}") from None
        try:
            if self.libc.setns(fd, CLONE_NEWNET) != 0:
                errno = ctypes.get_errno()
                raise NftError(f"cannot enter network namespace {netns}: {os.strerror(errno)}")
        finally:
            os.close(fd)


@functools.cache
def _load() -> _Lib | None:
    try:
        return _Lib(ctypes.CDLL(LIBRARY))
    except OSError:
        return None


def available() -> bool:
    return _load() is not None


def run(script: str, netns: str | None = None) -> None:
    """Apply `script` as one batch, in network namespace `netns` when given."""
    lib = _load()
    if lib is None:
        raise NftError(f"{LIBRARY} is not installed")
    data = script.encode()
    if netns is None:
        lib.run(data)
        return
    if "/" in netns or netns in ("", ".", ".."):
        raise NftError(f"bad network namespace name {netns!r}")
    failure: list[BaseException] = []

    def work() -> None:
        try:
            lib.enter(netns)
            lib.run(data)
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=work, name=f"nft-{netns}")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
