"""The private channel between the bridge and its runtime.

marimo's IPC binds unauthenticated TCP ports on 127.0.0.1: any local process
could connect, run code as the user or read the outputs. The bridge builds
the same queues over ZeroMQ ``ipc://`` sockets in a folder only this user can
enter (mode 0700), so the operating system keeps everyone else out.

Both ends use marimo's own ``Connection`` and ``Channel`` (private, in
``marimo._ipc.connection``: nothing public builds queues on other endpoints),
so messages, codecs and queues stay exactly marimo's; only the endpoints
differ. marimo's runtime side connects each channel to ``f"{ADDR}:{port}"``:
the runtime launcher (``bridge.runtime.child``) sets ``ADDR`` to this
folder's ``ipc://`` prefix, which turns each port number into a socket file
name. ``stop_receiver`` also reaches into ``Connection`` (see there).
tests/test_private_channel.py fails if an upgrade changes any of these.

The folder goes when the runtime stops; a bridge killed outright leaves it,
and the next bridge to start sweeps it away (``sweep``).
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

# The environment variable that hands the prefix to the runtime launcher.
PREFIX_ENV = "MARIMO_BRIDGE_IPC_PREFIX"
# Channel -> the "port" that names its socket file.
PORTS = {"control": 1, "ui_element": 2, "completion": 3, "input": 4, "stream": 5}
# Messages of the runtime's stream queued at each end (bind, use_prefix).
STREAM_QUEUE = 8
# Unix socket paths are limited to 107 bytes.
_MAX_PATH = 100
PREFIX = "marimo-bridge-"
# A folder whose stream socket is not there yet belongs to a bridge between
# reserving and binding, seconds at most; after this long it was left behind.
UNBOUND_STALE_S = 3600.0


def reserve() -> tuple[Path, str]:
    """Host side, first: the private folder and the ipc prefix in it."""
    folder = Path(tempfile.mkdtemp(prefix=PREFIX))
    if len(str(folder)) + 8 > _MAX_PATH:
        shutil.rmtree(folder, ignore_errors=True)
        folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir="/tmp"))
    os.chmod(folder, 0o700)  # mkdtemp's mode already; said out loud
    sweep(folder.parent, keep=folder)
    return folder, f"ipc://{folder}/ch"


def sweep(parent: Path, keep: Path | None = None) -> None:
    """Remove the folders of bridges that died without removing their own.

    A bridge removes its folder when its runtime stops; one killed outright
    (SIGKILL, a crash) cannot. Its sockets then have no listener: a connect
    is refused. A live bridge's stream socket (a PULL, which never sends to
    whoever connects) accepts, and its folder stays.
    """
    uid = os.getuid()
    for folder in parent.glob(f"{PREFIX}*"):
        try:
            info = folder.lstat()
        except OSError:
            continue
        if folder == keep or not stat.S_ISDIR(info.st_mode) or info.st_uid != uid:
            continue
        stream = folder / f"ch:{PORTS['stream']}"
        if stream.exists():
            if _listening(stream):
                continue
        elif time.time() - info.st_mtime < UNBOUND_STALE_S:
            continue
        shutil.rmtree(folder, ignore_errors=True)


def _listening(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        return False
    except OSError:
        return True  # cannot tell: keep it
    finally:
        probe.close()
    return True


def bind(prefix: str) -> tuple[Any, Any]:
    """Host side, then: (QueueManager, ConnectionInfo) bound under ``prefix``."""
    import zmq
    from marimo._internal.ipc import QueueManager
    from marimo._ipc.connection import Channel, Connection
    from marimo._ipc.types import ConnectionInfo
    from marimo._messaging.types import KernelMessage

    context = zmq.Context()
    conn = Connection(
        context=context,
        control=Channel.Push(context),
        ui_element=Channel.Push(context),
        completion=Channel.Push(context),
        win32_interrupt=None,
        input=Channel.Push(context, maxsize=1),
        stream=Channel.Pull(context, msg_type=KernelMessage),
    )
    # ZeroMQ queues 1,000 messages each way by default, and a printing flood
    # comes in messages of up to a megabyte: a few are enough, the runtime's
    # writer waits for the bridge (console_flow.py).
    conn.stream.socket.setsockopt(zmq.RCVHWM, STREAM_QUEUE)
    for name, port in PORTS.items():
        getattr(conn, name).socket.bind(f"{prefix}:{port}")
    info = ConnectionInfo(win32_interrupt=None, **PORTS)
    return QueueManager(conn=conn), info


def stop_receiver(conn: Any) -> bool:
    """Stop marimo's receiver thread, if this marimo has the one we know.

    ``Connection`` starts a thread that moves each stream message into a
    queue; the bridge reads the stream socket on its own event loop instead
    (no thread hand-off per notification). Its private attributes are read
    defensively: False means "keep marimo's thread", and the client falls
    back to reading that queue.
    """
    stop, thread = getattr(conn, "_stop_event", None), getattr(conn, "_receiver_thread", None)
    channel = conn.stream
    if stop is None or thread is None or getattr(channel, "decoder", None) is None:
        return False
    if not hasattr(channel, "socket") or not hasattr(channel, "queue"):
        return False
    stop.set()
    thread.join()  # it polls every 100 ms
    return True


def use_prefix(prefix: str) -> None:
    """Runtime side: connect marimo's channels to the host's private sockets,
    the stream (the runtime's only PUSH channel) with a short send queue."""
    import zmq
    from marimo._ipc import connection

    connection.ADDR = prefix
    push = connection.Channel.Push.__func__  # type: ignore[attr-defined]

    def short_push(cls: Any, context: Any, *, maxsize: int = 0) -> Any:
        channel = push(cls, context, maxsize=maxsize)
        channel.socket.setsockopt(zmq.SNDHWM, STREAM_QUEUE)
        return channel

    connection.Channel.Push = classmethod(short_push)  # type: ignore[method-assign, assignment]


def remove(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
