"""A real S3-compatible server for tests and benchmarks: moto in server mode on a free port.

The tests run moto's ``ThreadedMotoServer`` in the test process (one per session); the
benchmarks start it in its own process (``start_moto_process``) so its request handling does
not compete with the measured code for the GIL. Either way clients reach it over TCP, exactly
as they reach AWS or MinIO, with throwaway credentials in the environment.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

__all__ = [
    "CREDENTIALS",
    "FaultyLink",
    "client",
    "make_bucket",
    "start_moto",
    "start_moto_process",
]

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing-key-id",
    "AWS_SECRET_ACCESS_KEY": "testing-Secret-9f3e",  # tests check it never shows in output
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def start_moto() -> tuple[str, Callable[[], None]]:
    """moto's threaded server in this process; returns (endpoint URL, stop)."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    _wait(port)
    return f"http://127.0.0.1:{port}", server.stop


def start_moto_process() -> tuple[str, Callable[[], None]]:
    """moto's server in a child process; returns (endpoint URL, stop)."""
    port = _free_port()
    code = (
        "import sys, time\n"
        "from moto.server import ThreadedMotoServer\n"
        f"s = ThreadedMotoServer(ip_address='127.0.0.1', port={port}, verbose=False)\n"
        "s.start()\n"
        "sys.stdin.read()\n"  # until the parent closes stdin
        "s.stop()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **CREDENTIALS},
    )
    _wait(port)

    def stop() -> None:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    return f"http://127.0.0.1:{port}", stop


def client(endpoint: str) -> Any:
    """A boto3 S3 client for the server (tests use it to look at or tamper with objects)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
    )


def make_bucket(endpoint: str, name: str | None = None) -> str:
    """Create a fresh bucket; returns its name."""
    name = name or f"mb-{uuid.uuid4().hex[:12]}"
    client(endpoint).create_bucket(Bucket=name)
    return name


_PUT = re.compile(rb"(?:^|\r\n)PUT /[^ ?]+/[0-9a-f]{2}/[0-9a-f]{62}[ ?]")


class FaultyLink:
    """A TCP relay in front of the S3 server that breaks after ``puts`` object uploads.

    A real network fault, not a mock: the client talks HTTP through it to the real server;
    once it has relayed ``puts`` blob PUT requests (``PUT /bucket/.../ab/cdef…``), it cuts
    every connection in the middle of the next one and refuses new ones, as a dropped link or a
    dead endpoint does.
    """

    def __init__(self, upstream: str, *, puts: int) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.puts = puts
        self.seen = 0
        self.broken = False
        self._server = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            if self.broken:
                conn.close()
                continue
            up = socket.create_connection(self.upstream)
            with self._lock:
                self._sockets += [conn, up]
            threading.Thread(target=self._pump, args=(conn, up, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(up, conn, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, outgoing: bool) -> None:
        try:
            while data := src.recv(65536):
                if outgoing:
                    with self._lock:
                        self.seen += len(_PUT.findall(data))
                        if self.seen > self.puts:
                            self.broken = True
                    if self.broken:
                        self.cut()
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Break every open connection now."""
        self.broken = True
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                except OSError:
                    pass
            self._sockets.clear()

    def close(self) -> None:
        self.cut()
        self._server.close()
