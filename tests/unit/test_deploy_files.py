"""The kernel image and the Kubernetes kernelspec, tested as files.

Neither can be built or run here (no registry or cluster is reachable); what
can be checked is that they use what is tested: the image runs the launcher
of tests/test_remote_launcher.py and tests/remote, configured as EG's pod
template configures it, and the kernelspec passes EG's placeholders as the
tested ``marimo_remote`` kernelspec does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from bridge.install import LAUNCHER_ARGS

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_the_image_runs_the_tested_launcher_as_a_user() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    cmd = re.findall(r"^CMD (.+)$", dockerfile, re.M)
    assert [json.loads(c) for c in cmd] == [["python", "-m", "bridge", "launch-remote"]]
    # An init reaps orphans; the launcher is not one.
    assert re.findall(r"^ENTRYPOINT (.+)$", dockerfile, re.M) == ['["tini", "--"]']
    assert "[remote]" in dockerfile  # the launcher's cipher (pycryptodomex)
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users and users[-1] != "root"


def test_the_kubernetes_kernelspec_passes_what_the_launcher_reads() -> None:
    spec = json.loads((DEPLOY / "kernelspecs" / "marimo_kubernetes" / "kernel.json").read_text())
    proxy = spec["metadata"]["process_proxy"]
    assert proxy["class_name"].endswith("k8s.KubernetesProcessProxy")
    tag = re.search(r"-t (\S+) \.", (DEPLOY / "Dockerfile").read_text())
    assert tag is not None and proxy["config"]["image_name"] == tag.group(1)
    assert spec["argv"][1].endswith("/marimo_kubernetes/scripts/launch_kubernetes.py")
    assert spec["argv"][2:] == LAUNCHER_ARGS
    assert spec["interrupt_mode"] == "signal"  # EG interrupts through the launcher
