"""The connection info a launcher sends back to Enterprise Gateway, encrypted.

Enterprise Gateway's response manager
(``enterprise_gateway/services/processproxies/processproxy.py``,
``ResponseManager._decode_payload``) reads payload version 1: the connection
info encrypted with a fresh AES key (ECB, PKCS#7 padding), that key encrypted
with the gateway's RSA public key (PKCS#1 v1.5), both base64 in a JSON
object, itself base64. This is what EG's own launchers send
(``etc/kernel-launchers/python/scripts/launch_ipykernel.py``, ``_encrypt``),
with the same library (pycryptodomex), imported only here.
"""

from __future__ import annotations

import base64
import json
from typing import Any

LAUNCHER_VERSION = 1


def encrypt(connection_info: dict[str, Any], public_key: str) -> bytes:
    """``public_key``: the gateway's key as it passes it (PEM without its
    header, footer and newlines)."""
    try:
        from Cryptodome.Cipher import AES, PKCS1_v1_5
        from Cryptodome.PublicKey import RSA
        from Cryptodome.Random import get_random_bytes
        from Cryptodome.Util.Padding import pad
    except ImportError as exc:
        raise SystemExit(
            "python -m bridge launch-remote needs pycryptodomex to answer Enterprise "
            "Gateway: pip install 'marimo-bridge[remote]'"
        ) from exc
    aes_key = get_random_bytes(16)
    text = json.dumps(connection_info).encode()
    sealed = AES.new(aes_key, AES.MODE_ECB).encrypt(pad(text, 16))
    gateway_key = RSA.importKey(base64.b64decode(public_key.encode()))
    wrapped_key = PKCS1_v1_5.new(gateway_key).encrypt(aes_key)
    payload = {
        "version": LAUNCHER_VERSION,
        "key": base64.b64encode(wrapped_key).decode(),
        "conn_info": base64.b64encode(sealed).decode(),
    }
    return base64.b64encode(json.dumps(payload).encode())
