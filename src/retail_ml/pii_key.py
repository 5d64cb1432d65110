"""The key of the PII pseudonyms (HMAC-SHA-256), and the dbt-duckdb plugin that hands it to SQL.

Staging replaces every PII value by `HMAC-SHA-256(key, lower(trim(value)))` (macro `hash_pii`,
in the staged columns and in the quarantine JSON alike). Without the key a pseudonym cannot be
recomputed from a guessed e-mail or name, so an outside list no longer joins to it; with the same
key the same person gets the same pseudonym in every build, so joins across builds keep working.

Where the key comes from, first match wins:
1. `RETAIL_ML_PII_KEY` (the key as text; CI and production set it from their secret store);
2. the key file `RETAIL_ML_PII_KEY_FILE` (default `.secrets/pii.key`, relative to where dbt
   runs): created with 32 random bytes (hex, mode 0600) on first use. It is git-ignored and never
   committed; losing it changes every pseudonym at the next build.

The key never appears in SQL text, dbt's artefacts (manifest, compiled SQL, logs) or the
warehouse: this module's `Plugin` (profiles.yml `plugins:`) sets the HMAC's inner and outer
padded keys as DuckDB session variables on each of dbt's connections and cursors, and the macro
computes `sha256(opad || unhex(sha256(ipad || value)))` — RFC 2104 with SHA-256 (DuckDB has no
`hmac` function); `hmac_sha256_hex` below is the Python reference the tests compare it with.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any

KEY_ENV = "RETAIL_ML_PII_KEY"
KEY_FILE_ENV = "RETAIL_ML_PII_KEY_FILE"
DEFAULT_KEY_FILE = Path(".secrets/pii.key")
BLOCK_SIZE = 64  # SHA-256's block size in bytes
IPAD_VARIABLE = "retail_ml_pii_ipad"
OPAD_VARIABLE = "retail_ml_pii_opad"


def load_or_create_key(key_file: Path | None = None) -> bytes:
    """The PII key: `RETAIL_ML_PII_KEY`, else the key file (created on first use)."""
    from_env = os.environ.get(KEY_ENV)
    if from_env:
        return from_env.encode("utf-8")
    path = key_file or Path(os.environ.get(KEY_FILE_ENV, DEFAULT_KEY_FILE))
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    key = path.read_text().strip()
    if not key:
        raise ValueError(f"the PII key file {path} is empty")
    return key.encode("utf-8")


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """RFC 2104's inner and outer padded keys for SHA-256: (K' xor 0x36.., K' xor 0x5c..)."""
    if len(key) > BLOCK_SIZE:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK_SIZE, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def hmac_sha256_hex(key: bytes, value: str) -> str:
    """The pseudonym staging computes for `value` (normalised like the macro: trim, lower)."""
    return hmac.new(key, value.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()


def set_key_variables(connection: Any, key: bytes) -> None:
    """Sets the padded keys as session variables on a DuckDB connection or cursor."""
    inner, outer = hmac_pads(key)
    connection.execute(f"set variable {IPAD_VARIABLE} = unhex('{inner.hex()}')")
    connection.execute(f"set variable {OPAD_VARIABLE} = unhex('{outer.hex()}')")


try:  # the plugin only where dbt-duckdb is installed (always in this project's venv)
    from dbt.adapters.duckdb.plugins import BasePlugin
except ImportError:  # pragma: no cover
    BasePlugin = object  # type: ignore[assignment,misc]


class Plugin(BasePlugin):  # type: ignore[misc,valid-type]
    """dbt-duckdb plugin: the PII key's pads on every connection and cursor dbt opens."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        key_file = plugin_config.get("key_file")
        self._key = load_or_create_key(Path(key_file) if key_file else None)

    def configure_connection(self, conn: Any) -> None:
        set_key_variables(conn, self._key)

    def configure_cursor(self, cursor: Any) -> None:
        set_key_variables(cursor, self._key)
