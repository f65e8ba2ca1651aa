"""SPDY/3.1 framing (spdy.py) byte for byte, and an exec session over SpdyTransport
(spdyexec.py) on a socketpair.

The session tests play kubectl's part with spdy.py's own writer and reader, and run a local `sh`
in place of the pod's command (kubeletexec.start, spawned here): no namespace, no root.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import os
import socket
import struct
import subprocess
import zlib
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import pytest

from podwall.apiserver import kubeletexec, spdy, spdyexec
from podwall.apiserver.exec import ExecOptions
from podwall.apiserver.execsession import ExecSession
from podwall.apiserver.podruntime import ExecRequest

# What kubectl 1.27 sent for `exec -i web -- sh -c 'cat; exit 3'` with "hi\n" on stdin: four
# SYN_STREAMs (error, stdin, stdout, stderr: one zlib stream, sync-flushed), stdin, stdin's FIN.
KUBECTL_1_27 = bytes.fromhex(
    "80030001000000290000000100000000000078f9e3c6a7c26260606004a7b392a2d4c45c6851c29a0a0a68"
    "00000000ffff800300010000001700000003000000000000c22e555c92929907000000ffff800300010000"
    "001900000005000000000000c22ac5565c92925f5a02000000ffff80030001000000150000000700000000"
    "0000c229975a5404000000ffff000000030000000368690a0000000301000000"
)


# Framing.


def test_the_dictionary_is_spdy_3_s() -> None:
    assert len(spdy.DICTIONARY) == 1423
    assert spdy.DICTIONARY.startswith(b"\x00\x00\x00\x07options\x00\x00\x00\x04head")
    assert spdy.DICTIONARY.endswith(b",*,enq=0.")
    assert (
        hashlib.sha256(spdy.DICTIONARY).hexdigest()
        == "51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02"
    )


def test_kubectl_s_frames_decode() -> None:
    frames = spdy.FrameReader().feed(KUBECTL_1_27)
    assert frames == [
        spdy.SynStream(1, {"streamtype": ["error"]}),
        spdy.SynStream(3, {"streamtype": ["stdin"]}),
        spdy.SynStream(5, {"streamtype": ["stdout"]}),
        spdy.SynStream(7, {"streamtype": ["stderr"]}),
        spdy.DataFrame(3, b"hi\n"),
        spdy.DataFrame(3, b"", spdy.FLAG_FIN),
    ]
    assert frames[-1].fin  # type: ignore[union-attr]


def test_frames_arrive_in_any_pieces() -> None:
    reader = spdy.FrameReader()
    frames = [
        frame for i in range(len(KUBECTL_1_27)) for frame in reader.feed(KUBECTL_1_27[i : i + 1])
    ]
    assert frames == spdy.FrameReader().feed(KUBECTL_1_27)


def test_the_dictionary_id_is_in_the_first_block() -> None:
    # zlib header (CMF, FLG with FDICT) then the dictionary's adler32, as kubectl's first block
    block = spdy.HeaderCompressor().compress({"streamtype": ["error"]})
    assert block[0] == 0x78
    assert block[1] & 0x20
    assert block[2:6] == struct.pack(">I", zlib.adler32(spdy.DICTIONARY))
    assert KUBECTL_1_27[20:24] == block[2:6]  # after 8 + 10 bytes and CMF, FLG
    assert block.endswith(b"\x00\x00\xff\xff")  # sync flush: each block stands on its own


def test_header_blocks() -> None:
    headers = {"StreamType": ["error"], "x": ["a", "b"]}
    block = spdy.encode_header_block(headers)
    assert block == (
        b"\x00\x00\x00\x02"
        b"\x00\x00\x00\x0astreamtype\x00\x00\x00\x05error"
        b"\x00\x00\x00\x01x\x00\x00\x00\x03a\x00b"
    )
    assert spdy.decode_header_block(block) == {"streamtype": ["error"], "x": ["a", "b"]}
    with pytest.raises(spdy.SpdyError):
        spdy.decode_header_block(block[:-3])


def test_header_compression_keeps_one_context_per_direction() -> None:
    compressor, decompressor = spdy.HeaderCompressor(), spdy.HeaderDecompressor()
    first = compressor.compress({"streamtype": ["stdout"]})
    second = compressor.compress({"streamtype": ["stdout"]})
    assert len(second) < len(first)  # the second refers back into the first
    assert decompressor.decompress(first) == {"streamtype": ["stdout"]}
    assert decompressor.decompress(second) == {"streamtype": ["stdout"]}
    with pytest.raises(spdy.SpdyError):
        spdy.HeaderDecompressor().decompress(second)  # not without the first


def test_frames_byte_for_byte() -> None:
    writer = spdy.FrameWriter()
    assert writer.data(5, b"hi", fin=True) == b"\x00\x00\x00\x05\x01\x00\x00\x02hi"
    assert writer.data(5) == b"\x00\x00\x00\x05\x00\x00\x00\x00"
    assert writer.ping(1) == b"\x80\x03\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01"
    assert writer.goaway(7) == (b"\x80\x03\x00\x07\x00\x00\x00\x08\x00\x00\x00\x07\x00\x00\x00\x00")
    assert writer.rst_stream(3, spdy.CANCEL) == (
        b"\x80\x03\x00\x03\x00\x00\x00\x08\x00\x00\x00\x03\x00\x00\x00\x05"
    )
    reply = writer.syn_reply(1)
    assert reply[:4] == b"\x80\x03\x00\x02"
    assert struct.unpack(">I", reply[4:8])[0] == len(reply) - 8  # flags 0, then the length
    assert reply[8:12] == b"\x00\x00\x00\x01"
    inflate = zlib.decompressobj(zdict=spdy.DICTIONARY)
    assert inflate.decompress(reply[12:]) == b"\x00\x00\x00\x00"  # no headers


def test_frames_round_trip() -> None:
    writer, reader = spdy.FrameWriter(), spdy.FrameReader()
    wire = b"".join(
        [
            writer.syn_stream(1, {"streamtype": ["error"]}),
            writer.syn_stream(3, {"streamtype": ["stdin"]}, fin=True, priority=2),
            writer.syn_reply(1, {"a": ["b"]}),
            writer.data(3, b"x" * 70000, fin=True),
            writer.rst_stream(3, spdy.CANCEL),
            writer.ping(2),
            writer.goaway(3, spdy.GOAWAY_INTERNAL_ERROR),
        ]
    )
    assert reader.feed(wire) == [
        spdy.SynStream(1, {"streamtype": ["error"]}),
        spdy.SynStream(3, {"streamtype": ["stdin"]}, spdy.FLAG_FIN, 0, 2),
        spdy.SynReply(1, {"a": ["b"]}),
        spdy.DataFrame(3, b"x" * 70000, spdy.FLAG_FIN),
        spdy.RstStream(3, spdy.CANCEL),
        spdy.Ping(2),
        spdy.GoAway(3, spdy.GOAWAY_INTERNAL_ERROR),
    ]


def test_other_control_frames_pass_as_they_are_and_bad_versions_do_not() -> None:
    window_update = b"\x80\x03\x00\x09\x00\x00\x00\x08\x00\x00\x00\x01\x00\x00\x10\x00"
    assert spdy.FrameReader().feed(window_update) == [
        spdy.OtherControl(spdy.WINDOW_UPDATE, 0, window_update[8:])
    ]
    with pytest.raises(spdy.SpdyError, match="version 2"):
        spdy.FrameReader().feed(b"\x80\x02\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01")


# A whole session, kubectl's side played here.


def _options(command: str, *, stdin: bool = True, tty: bool = False) -> ExecOptions:
    return ExecOptions(
        command=("sh", "-c", command), container=None,
        stdin=stdin, stdout=True, stderr=not tty, tty=tty,
    )  # fmt: skip


class LocalStart:
    """The session's launch: kubeletexec.start with `sh` here, not in a pod; remembers the
    size each command started at and its pid."""

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int] | None] = []
        self.pids: list[int] = []

    def __call__(self, request: ExecRequest) -> kubeletexec.LocalProcess:
        self.sizes.append(request.size)
        process = kubeletexec.start(self.spawn, request, request.command)
        self.pids.append(process.popen.pid)
        return process

    @staticmethod
    def spawn(argv: Sequence[str], stdin: int, stdout: int, stderr: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            argv, stdin=stdin, stdout=stdout, stderr=stderr, start_new_session=True
        )


class Kubectl:
    """The client end of the socketpair: opens streams, reads frames until GOAWAY."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.frames = spdy.FrameWriter()
        self.decoder = spdy.FrameReader()
        self.pending: list[spdy.Frame] = []
        self.data: dict[int, bytes] = {}
        self.fin: set[int] = set()

    def send(self, *frames: bytes) -> None:
        self.writer.write(b"".join(frames))

    async def next(self) -> spdy.Frame:
        while not self.pending:
            chunk = await asyncio.wait_for(self.reader.read(65536), 60)
            assert chunk, "the server closed the connection"
            self.pending += self.decoder.feed(chunk)
        return self.pending.pop(0)

    async def open(self, stream_id: int, kind: str) -> None:
        self.send(self.frames.syn_stream(stream_id, {"streamtype": [kind]}))
        assert await self.next() == spdy.SynReply(stream_id, {})

    async def until_goaway(self) -> spdy.GoAway:
        while True:
            frame = await self.next()
            if isinstance(frame, spdy.GoAway):
                return frame
            if isinstance(frame, spdy.DataFrame):
                self.data[frame.stream_id] = self.data.get(frame.stream_id, b"") + frame.data
                if frame.fin:
                    self.fin.add(frame.stream_id)


async def _session(
    options: ExecOptions, protocol: str = spdyexec.V4
) -> tuple[Kubectl, asyncio.Task[None], LocalStart]:
    local = LocalStart()
    server_end, client_end = socket.socketpair()
    loop = asyncio.get_running_loop()
    _transport, raw = await loop.connect_accepted_socket(spdyexec.RawConnection, server_end)
    transport = spdyexec.SpdyTransport(raw, options, protocol)
    session = ExecSession(transport, options.request, local)

    async def serve() -> None:
        try:
            await session.run()
        finally:
            raw.close()

    task = asyncio.create_task(serve())
    reader, writer = await asyncio.open_connection(sock=client_end)
    return Kubectl(reader, writer), task, local


def in_a_loop(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    @functools.wraps(test)
    def run() -> None:
        asyncio.run(asyncio.wait_for(test(), 120))

    return run


def _status(data: bytes) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(data)
    return body


@in_a_loop
async def test_a_session_runs_the_command_and_reports_its_exit_code() -> None:
    kubectl, task, local = await _session(_options("cat; echo oops >&2; exit 3"))
    for stream_id, kind in ((1, "error"), (3, "stdin"), (5, "stdout"), (7, "stderr")):
        await kubectl.open(stream_id, kind)
    kubectl.send(kubectl.frames.ping(1))
    assert await kubectl.next() == spdy.Ping(1)  # echoed
    kubectl.send(kubectl.frames.data(3, b"hi\n"), kubectl.frames.data(3, fin=True))
    assert await kubectl.until_goaway() == spdy.GoAway(7)
    assert (kubectl.data[5], kubectl.data[7]) == (b"hi\n", b"oops\n")
    status = _status(kubectl.data[1])
    assert (status["status"], status["reason"]) == ("Failure", "NonZeroExitCode")
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]
    assert kubectl.fin == {1, 3, 5, 7}  # every stream half-closed by the server
    assert local.sizes == [None]
    kubectl.writer.close()
    await asyncio.wait_for(task, 60)  # the client closed: the session ends


@in_a_loop
async def test_success_and_a_tty_s_first_size() -> None:
    kubectl, task, local = await _session(_options("echo ok", stdin=False, tty=True))
    for stream_id, kind in ((1, "error"), (3, "stdout"), (5, "resize")):
        await kubectl.open(stream_id, kind)
    kubectl.send(kubectl.frames.data(5, b'{"Width":100,"Height":30}'))
    await kubectl.until_goaway()
    assert local.sizes == [(100, 30)]
    assert kubectl.data[3] == b"ok\r\n"  # a pty's line ending
    assert _status(kubectl.data[1]) == {"metadata": {}, "status": "Success"}
    kubectl.writer.close()
    await asyncio.wait_for(task, 60)


@in_a_loop
async def test_v3_reports_only_a_failure_s_message() -> None:
    kubectl, task, _local = await _session(_options("exit 4", stdin=False), spdyexec.V3)
    for stream_id, kind in ((1, "error"), (3, "stdout"), (5, "stderr")):
        await kubectl.open(stream_id, kind)
    await kubectl.until_goaway()
    assert kubectl.data[1] == (
        b"command terminated with non-zero exit code: error executing command "
        b"[sh -c exit 4], exit code 4"
    )
    kubectl.writer.close()
    await asyncio.wait_for(task, 60)


@in_a_loop
async def test_a_client_that_goes_away_kills_the_command() -> None:
    kubectl, task, local = await _session(_options("exec sleep 30", stdin=False))
    for stream_id, kind in ((1, "error"), (3, "stdout"), (5, "stderr")):
        await kubectl.open(stream_id, kind)
    # The command starts once the streams are open, a moment later: wait for it (bounded).
    for _ in range(6000):
        if local.pids:
            break
        await asyncio.sleep(0.01)
    assert len(local.pids) == 1
    kubectl.writer.close()
    await asyncio.wait_for(task, 60)
    with pytest.raises(ProcessLookupError):
        os.kill(local.pids[0], 0)


@in_a_loop
async def test_an_unexpected_stream_is_refused() -> None:
    kubectl, task, _local = await _session(_options("true", stdin=False))
    kubectl.send(kubectl.frames.syn_stream(1, {"streamtype": ["stdin"]}))  # stdin not asked for
    assert await kubectl.next() == spdy.RstStream(1, spdy.REFUSED_STREAM)
    kubectl.writer.close()
    await asyncio.wait_for(task, 60)
