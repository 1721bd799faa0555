"""Where inputs live: local paths, or fsspec URLs (``s3://``, ``gs://``, ``abfs://``, ``file://``,
...) for data files and artifacts that Dask workers read from shared storage.

Local paths go through the standard library; anything with ``://`` through fsspec (installed with
dask); remote file systems need their fsspec package (s3fs, gcsfs, adlfs) installed.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import IO, Iterator

_CHUNK = 1 << 20


def is_url(path: str | Path) -> bool:
    return "://" in str(path)


def exists(path: str | Path) -> bool:
    """Whether the file exists (a file, not a folder)."""
    if not is_url(path):
        return Path(path).is_file()
    import fsspec

    fs, inner = fsspec.core.url_to_fs(str(path))
    return bool(fs.isfile(inner))


@contextlib.contextmanager
def open_binary(path: str | Path) -> Iterator[IO[bytes]]:
    """Open a local path or URL for reading bytes."""
    if not is_url(path):
        with open(path, "rb") as handle:
            yield handle
        return
    import fsspec

    with fsspec.open(str(path), "rb") as handle:
        yield handle


def sha256(path: str | Path) -> str:
    """Hex sha256 of a local file or URL, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open_binary(path) as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def local_copy(path: str | Path) -> Iterator[Path]:
    """A local path for the file: itself, or a temporary copy of a URL's content."""
    if not is_url(path):
        yield Path(path)
        return
    with tempfile.TemporaryDirectory(prefix="validation-input-") as folder:
        target = Path(folder) / Path(str(path).split("://", 1)[1]).name
        with open_binary(path) as source, open(target, "wb") as sink:
            shutil.copyfileobj(source, sink, _CHUNK)
        yield target
