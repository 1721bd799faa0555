"""Lineage of a pack: the sha256 of every input, the package versions, the git commit, the user
and the host (``manifest.json``)."""

from __future__ import annotations

import functools
import getpass
import secrets
import platform
import socket
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from validation.inputs.artifacts import sha256_file
from validation.inputs.spec import ModelVersionSpec

if TYPE_CHECKING:
    from validation.inputs.sql import Snapshot

VERIFIED_INPUTS = ("spec", "data.reference", "data.current", "data.reference_profile")
"""Inputs a notebook verifies after reading them, against the sha256 recorded at planning (the
artifact's own sha256 is in the spec, so the spec's verification covers it)."""

DATA_INPUTS = ("data.reference", "data.current", "data.reference_profile", "model.artifact")
"""Input files a check's result depends on, by content (the incremental-run hash counts them)."""

SNAPSHOT_PREFIX = "snapshot:"
"""In a notebook's ``input_sha256``, ``snapshot:data.current`` is the path of the parquet snapshot a
planned run took of the SQL source ``data.current``: the notebook reads those rows, and verifies
them against ``input_sha256["data.current"]``, instead of querying the database again."""

PACKAGES = ("validation", "papermill", "nbconvert", "nbclient", "ipykernel", "scrapbook", "pandas",
            "numpy", "scipy", "scikit-learn", "shap", "fairlearn", "matplotlib", "pyarrow", "skops",
            "pydantic", "jinja2")


def input_hashes(spec: ModelVersionSpec, templates: dict[str, Path],
                 snapshots: "Mapping[str, Snapshot] | None" = None) -> dict[str, dict[str, Any]]:
    """sha256 of the spec, the data files, the artifact and the templates (check -> path) used.

    A SQL source's entry is its snapshot's (``snapshots``, by spec key): the source's label as
    ``path``, the snapshot's sha256, the URL as written, the query's sha256 (or the table), the
    rows and the columns read (:meth:`validation.inputs.sql.Snapshot.record`). A ``var`` model
    given no reference sample has no ``data.reference``."""
    from validation.inputs.storage import sha256_each

    entries: dict[str, Any] = {"spec": {"path": str(spec.path), "sha256": spec.sha256}}  # a file: its path
    for key in ("reference", "current"):
        source = getattr(spec.data, key)
        if snapshots and f"data.{key}" in snapshots:
            entries[f"data.{key}"] = snapshots[f"data.{key}"].record()
        elif source is not None:
            assert isinstance(source, str), f"data.{key} is a SQL source: its snapshot is hashed, not the source"
            entries[f"data.{key}"] = source
    if spec.data.reference_profile:
        entries["data.reference_profile"] = spec.data.reference_profile
    if spec.model.artifact:
        entries["model.artifact"] = spec.model.artifact
    files = {key: path for key, path in entries.items() if isinstance(path, str)}
    hashed = dict(zip(files, sha256_each(list(files.values()))))  # the samples at once
    inputs: dict[str, dict[str, Any]] = {key: {"path": entry, "sha256": hashed[key]} if key in hashed else entry
                                         for key, entry in entries.items()}
    for name, template in templates.items():
        inputs[f"template:{name}"] = {"path": str(template), "sha256": sha256_file(template)}
    return inputs


def new_run_id() -> str:
    """A sortable, unique run id: UTC time and 6 random hex digits."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def now() -> str:
    """The current UTC time, to the second, in ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The project's commit (``-dirty`` when modified), once per process: a batch asks per pack."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "")


def environment_record() -> dict[str, Any]:
    """Python, platform, package versions, git commit, user and host."""
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "not installed"
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return {"python": platform.python_version(), "platform": platform.platform(),
            "executable": sys.executable, "packages": packages, "git_commit": git_commit(),
            "user": user, "host": socket.gethostname()}
