"""What the private warehouse was built from, so an incremental build knows when it must not be.

Staging's base tables are incremental: a build re-checks only raw files it has not seen (by
their `<table>/load_date=…/<file>` label). That is right while the landing zone only grows and
the PII key stays the same. When either changes (`make data-force` writes another world under
the same file names; `landing init` restarts the zone; a new PII key must re-pseudonymise every
row), the next build must be a full refresh. `<warehouse>.state.json`, written after every
green build by `make build` and `make daily`, records:
  - `identity`: the SHA-256 of the raw dir's `_manifest.json` (written once per generated or
    initialised landing zone; landing more files does not change it) and an id of the PII key
    (an HMAC of a constant, never the key);
  - `green`: whether the last build on it was published (a refresh publishes only on top of a
    green daily run);
  - `checked_through`: the landing clock of the last green daily run (every row landed before
    it was in a build whose tests passed), kept while a later run is not green; the next daily
    run's grain tests of incremental tables check only what changed since (docs:
    incremental_tests). None until a daily run is green on this landing zone and PII key.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from retail_ml.pii_key import hmac_sha256_hex, load_or_create_key


def state_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".state.json")


def identity(raw_dir: Path) -> dict[str, str | None]:
    manifest = raw_dir / "_manifest.json"
    digest = hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.is_file() else None
    key_id = hmac_sha256_hex(load_or_create_key(), "retail_ml warehouse state")[:16]
    return {"raw_manifest_sha256": digest, "pii_key_id": key_id}


def read_state(db_path: Path) -> dict | None:
    path = state_path(db_path)
    return json.loads(path.read_text()) if path.is_file() else None


def needs_full_refresh(db_path: Path, raw_dir: Path) -> bool:
    """True unless the warehouse exists and was last built from this landing zone and key."""
    state = read_state(db_path)
    return not db_path.exists() or state is None or state["identity"] != identity(raw_dir)


def write_state(db_path: Path, raw_dir: Path, *, green: bool,
                checked_through: str | None = None) -> None:
    """Record what the warehouse was built from; `checked_through` (set by a green daily run)
    is kept from the previous state when not given, unless the warehouse is rebuilt from
    another landing zone or key."""
    previous = read_state(db_path) or {}
    if checked_through is None and previous.get("identity") == identity(raw_dir):
        checked_through = previous.get("checked_through")
    data = {"identity": identity(raw_dir), "green": green,
            "written_at": datetime.now(UTC).isoformat(), "checked_through": checked_through}
    tmp = state_path(db_path).with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, state_path(db_path))
