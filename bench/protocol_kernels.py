"""Two kernels that run nothing, for the Jupyter protocol's own cost.

``python protocol_kernels.py raw CONNECTION_FILE``: a hand-written kernel on
pyzmq and jupyter_client's Session, one thread, no ipykernel: for each
request busy, (execute_input,) the reply, idle. What any kernel speaking the
protocol from Python pays at the least.

``python protocol_kernels.py bare -f CONNECTION_FILE``: ipykernel's Kernel
base class with a ``do_execute`` that returns at once, in the bridge's own
kernel application (no shell-channel or IOPub thread).
"""

from __future__ import annotations

import json
import sys
from typing import Any


def raw(connection_file: str) -> None:
    import zmq
    from jupyter_client.session import Session

    with open(connection_file) as f:
        cfg = json.load(f)
    ctx = zmq.Context()

    def bound(kind: int, port: str) -> zmq.Socket[bytes]:
        sock = ctx.socket(kind)
        sock.bind(f"{cfg['transport']}://{cfg['ip']}:{cfg[port]}")
        return sock

    shell, control = bound(zmq.ROUTER, "shell_port"), bound(zmq.ROUTER, "control_port")
    iopub, hb = bound(zmq.XPUB, "iopub_port"), bound(zmq.REP, "hb_port")
    bound(zmq.ROUTER, "stdin_port")
    session = Session(key=cfg["key"].encode(), signature_scheme=cfg["signature_scheme"])
    poller = zmq.Poller()
    for sock in (shell, control, iopub, hb):
        poller.register(sock, zmq.POLLIN)
    count = 0

    def status(state: str, parent: dict[str, Any]) -> None:
        session.send(iopub, "status", {"execution_state": state}, parent, ident=b"kernel.status")

    while True:
        for sock, _ in poller.poll():
            if sock is hb:
                hb.send(hb.recv())
                continue
            if sock is iopub:
                iopub.recv()  # a subscription
                continue
            idents, frames = session.feed_identities(sock.recv_multipart())
            msg = session.deserialize(frames)
            kind = msg["header"]["msg_type"]
            status("busy", msg)
            reply: dict[str, Any] = {"status": "ok"}
            if kind == "kernel_info_request":
                reply.update(
                    protocol_version="5.3",
                    implementation="raw",
                    implementation_version="0",
                    banner="",
                    language_info={"name": "python"},
                )
            elif kind == "execute_request":
                count += 1
                session.send(
                    iopub,
                    "execute_input",
                    {"code": msg["content"]["code"], "execution_count": count},
                    msg,
                    ident=b"kernel.execute_input",
                )
                reply.update(execution_count=count, payload=[], user_expressions={})
            elif kind == "shutdown_request":
                reply["restart"] = False
            session.send(sock, kind.replace("_request", "_reply"), reply, msg, ident=idents)
            status("idle", msg)
            if kind == "shutdown_request":
                return


def bare(argv: list[str]) -> None:
    from ipykernel.kernelbase import Kernel

    from bridge.jupyter.app import MarimoKernelApp

    class Bare(Kernel):
        implementation = "bare"
        implementation_version = "0"
        banner = ""
        language_info = {"name": "python"}
        _execute_sleep = 0.0

        async def do_execute(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return {
                "status": "ok",
                "execution_count": self.execution_count,
                "payload": [],
                "user_expressions": {},
            }

    MarimoKernelApp.launch_instance(
        argv=argv, kernel_class=Bare, outstream_class="bridge.jupyter.app.LazyFlushOutStream"
    )


if __name__ == "__main__":
    if sys.argv[1] == "raw":
        raw(sys.argv[2])
    else:
        bare(sys.argv[2:])
