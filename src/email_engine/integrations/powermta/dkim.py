"""DKIM keys: generate, store (0600), and the DNS TXT value (split into 255-byte strings).

The private key goes to ``DKIM_KEY_DIR/<domain>.<selector>.pem``, the path the renderer writes in
``domain-key`` lines. RSA 2048 is the default (what every receiver verifies); Ed25519 (RFC 8463) is
optional and should be published beside an RSA selector, since some receivers still ignore it.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from email_engine.errors import Conflict, InvalidInput
from email_engine.integrations.powermta.safety import check_hostname, check_name

__all__ = [
    "Algorithm",
    "DkimKeyPair",
    "generate_key",
    "key_path",
    "public_txt_from_private",
    "split_txt",
    "txt_value",
    "write_private_key",
]

Algorithm = Literal["rsa", "ed25519"]
TXT_CHUNK: Final = 255
MIN_RSA_BITS: Final = 1024
MAX_RSA_BITS: Final = 4096


@dataclass(frozen=True)
class DkimKeyPair:
    algorithm: Algorithm
    private_pem: bytes
    public_b64: str

    @property
    def txt(self) -> str:
        return txt_value(self.algorithm, self.public_b64)


def generate_key(algorithm: Algorithm = "rsa", *, bits: int = 2048) -> DkimKeyPair:
    if algorithm == "rsa":
        if not MIN_RSA_BITS <= bits <= MAX_RSA_BITS or bits % 8:
            raise InvalidInput("RSA DKIM keys must be 1024-4096 bits (2048 recommended).")
        key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey = rsa.generate_private_key(
            public_exponent=65537, key_size=bits
        )
    elif algorithm == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        raise InvalidInput(f"Unknown DKIM algorithm {algorithm!r}; use rsa or ed25519.")
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return DkimKeyPair(algorithm=algorithm, private_pem=pem, public_b64=_public_b64(key))


def _public_b64(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> str:
    public = key.public_key()
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    else:
        raw = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(raw).decode("ascii")


def public_txt_from_private(pem: bytes) -> str:
    """The TXT value for an existing private key (PEM)."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("The DKIM key file is not an unencrypted PEM private key.") from exc
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return txt_value("ed25519", _public_b64(key))
    if isinstance(key, rsa.RSAPrivateKey):
        return txt_value("rsa", _public_b64(key))
    raise InvalidInput("The DKIM key is neither RSA nor Ed25519.")


def txt_value(algorithm: Algorithm, public_b64: str) -> str:
    return f"v=DKIM1; k={algorithm}; p={public_b64}"


def split_txt(value: str, limit: int = TXT_CHUNK) -> list[str]:
    """Split a TXT value into character-strings of at most ``limit`` bytes (RFC 1035, 3.3.14)."""
    data = value.encode("ascii")
    return [data[index : index + limit].decode("ascii") for index in range(0, len(data), limit)] or [""]


def key_path(key_dir: Path, *, domain: str, selector: str) -> Path:
    domain = check_hostname(domain, what="DKIM domain")
    selector = check_name(selector, what="DKIM selector")
    return key_dir / f"{domain}.{selector}.pem"


def write_private_key(path: Path, pem: bytes, *, overwrite: bool = False) -> None:
    """Create the key file with mode 0600 from the start (never briefly readable by others)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.exists() and not overwrite:
        raise Conflict(
            f"{path} exists already; pass --force to replace it (the old selector stops verifying)."
        )
    temp = path.with_name(f".{path.name}.tmp")
    temp.unlink(missing_ok=True)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
