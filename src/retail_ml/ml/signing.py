"""HMAC-SHA256 signatures of registered models, with a key that never enters the warehouse.

A SHA-256 stored next to the model bytes only detects accidents: whoever can rewrite the bytes
can rewrite the digest. The signature is an HMAC-SHA256 made with a secret key held outside
the warehouse, over the model bytes' digest and the registry fields that decide whether and
how the model may score (name, version, feature list, gate status). Rewriting any of them
(e.g. swapping the classifier, or flipping a rejected version to ``passed``) without the key
gives a signature that :func:`verify_signature` refuses, before anything is deserialised.

The key (:func:`signing_key`), in order:

1. ``RETAIL_ML_MODEL_SIGNING_KEY``: the key itself (at least 32 characters; CI sets its own);
2. the file named by ``RETAIL_ML_MODEL_SIGNING_KEY_FILE``, else ``.secrets/model_signing.key``
   at the repository root (git-ignored). A missing file is created on first use with 32
   random bytes (hex) and mode 600.

Models signed with one key do not load with another: keep the key file, or re-register.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from retail_ml.ml.errors import ModelSignatureError

#: Environment variable holding the key itself.
KEY_ENV = "RETAIL_ML_MODEL_SIGNING_KEY"
#: Environment variable naming a key file (overrides the default path).
KEY_FILE_ENV = "RETAIL_ML_MODEL_SIGNING_KEY_FILE"
#: Default key file: ``.secrets/model_signing.key`` at the repository root.
DEFAULT_KEY_FILE = Path(__file__).resolve().parents[3] / ".secrets" / "model_signing.key"
#: Shortest accepted key, in bytes.
MIN_KEY_BYTES = 32

#: Registry fields covered by the signature besides the model bytes' digest.
SIGNED_FIELDS: tuple[str, ...] = (
    "model_name",
    "model_version",
    "feature_columns_json",
    "gate_status",
)


def _read_or_create_key_file(path: Path) -> bytes:
    """Read the key file, creating it (mode 600, 32 random bytes as hex) if it is missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # created concurrently: read the winner's key
            pass
        else:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(MIN_KEY_BYTES) + "\n")
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def signing_key(environ: Mapping[str, str] | None = None) -> bytes:
    """Return the model-signing key (see the module docstring for where it comes from).

    Args:
        environ: Environment to read (defaults to ``os.environ``).

    Raises:
        ModelSignatureError: If the key is shorter than :data:`MIN_KEY_BYTES`.
    """
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        key = env[KEY_ENV].encode("utf-8")
    else:
        key = _read_or_create_key_file(Path(env.get(KEY_FILE_ENV) or DEFAULT_KEY_FILE))
    if len(key) < MIN_KEY_BYTES:
        raise ModelSignatureError(
            f"the model-signing key must have at least {MIN_KEY_BYTES} bytes, got {len(key)}"
        )
    return key


def key_id(key: bytes) -> str:
    """A public identifier of ``key`` (16 hex of SHA-256 over a prefix and the key)."""
    return hashlib.sha256(b"retail_ml model signing key id\0" + key).hexdigest()[:16]


def _message(model_bytes: bytes, fields: Mapping[str, str]) -> bytes:
    missing = [name for name in SIGNED_FIELDS if name not in fields]
    if missing:
        raise ValueError(f"fields to sign lack {missing}")
    payload = {name: str(fields[name]) for name in SIGNED_FIELDS}
    payload["model_sha256"] = hashlib.sha256(bytes(model_bytes)).hexdigest()
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign_model(model_bytes: bytes, fields: Mapping[str, str], key: bytes) -> str:
    """HMAC-SHA256 (hex) of the model bytes' digest and the :data:`SIGNED_FIELDS` of its row."""
    return hmac.new(key, _message(model_bytes, fields), hashlib.sha256).hexdigest()


def verify_signature(
    model_bytes: bytes, fields: Mapping[str, str], signature: str, key: bytes
) -> None:
    """Check a signature made by :func:`sign_model`, in constant time.

    Raises:
        ModelSignatureError: If the signature does not match (other bytes, other fields, or
            another key).
    """
    expected = sign_model(model_bytes, fields, key)
    if not hmac.compare_digest(expected, str(signature or "").strip().lower()):
        raise ModelSignatureError(
            f"model {fields.get('model_version')!r} fails the signature check (signed with "
            f"another key, or its bytes or registry fields were changed); refusing to load"
        )
