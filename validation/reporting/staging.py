"""Staging folders: a pack is written in a hidden ``.<run_id>.partial`` folder next to its final
place and renamed when complete, so that a reader, a scheduler or a crash never sees a half-written
pack under its final name. A sibling ``.<run_id>.owner`` names the process writing it, so that the
next run in the same place removes a staging folder whose process was killed outright.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

from validation.reporting.files import write_json


def discard(staging: Path) -> None:
    """Remove a staging folder (after a failure before the pack was complete), and its version and
    model folders when that leaves them empty: an abandoned run leaves no trace."""
    shutil.rmtree(staging, ignore_errors=True)
    owner_file(staging).unlink(missing_ok=True)
    for folder in (staging.parent, staging.parent.parent):
        try:
            folder.rmdir()
        except OSError:
            break  # not empty (other runs' packs), or gone


def owner_file(staging: Path) -> Path:
    return staging.with_name(staging.name.removesuffix(".partial") + ".owner")


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def claim(staging: Path, run_id: str) -> None:
    """Mark a staging folder as this process's (a sibling ``.<run_id>.owner`` file with
    host, boot and pid), after sweeping the abandoned staging folders next to it."""
    parent = staging.parent
    owner = {"host": socket.gethostname(), "boot_id": _boot_id(), "pid": os.getpid(), "run_id": run_id}
    for attempt in range(3):  # another run's discard() may remove an empty version folder meanwhile
        parent.mkdir(parents=True, exist_ok=True)
        sweep_abandoned(parent)
        try:
            write_json(owner_file(staging), owner)
            return
        except FileNotFoundError:
            if attempt == 2:
                raise


def sweep_abandoned(folder: Path) -> list[Path]:
    """Remove the staging folders in ``folder`` whose owner process is gone (killed outright, so it
    could not clean up): owned by this host, and either from an earlier boot or with no process of
    that pid. Staging folders of other hosts, of live processes, or without an owner file are left.

    Returns the folders removed.
    """
    removed = []
    host, boot = socket.gethostname(), _boot_id()
    for owner_path in folder.glob(".*.owner"):
        try:
            owner = json.loads(owner_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if owner.get("host") != host:
            continue
        if owner.get("boot_id") == boot and _alive(int(owner.get("pid", 0))):
            continue
        staging = owner_path.with_name(owner_path.name.removesuffix(".owner") + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        owner_path.unlink(missing_ok=True)
        removed.append(staging)
    return removed
