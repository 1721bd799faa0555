"""Where inputs live: local paths, or fsspec URLs (``s3://``, ``gs://``, ``abfs://``, ``file://``,
...) for data files and artifacts that Dask workers read from shared storage.

Local paths go through the standard library; anything with ``://`` through fsspec (installed with
dask); remote file systems need their fsspec package (s3fs, gcsfs, adlfs) installed, and a URL
whose scheme no installed file system serves is refused in one sentence naming the package to
install (:func:`scheme_problem`). Samples in a database are SQL sources (:mod:`validation.inputs.sql`).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Iterator

_CHUNK = 1 << 20


def is_url(path: str | Path) -> bool:
    return "://" in str(path)


def problem(path: str | Path) -> str | None:
    """Why a data file cannot be read, in words for its owner, or None when it is a readable file.

    Covers what the standard library and fsspec report as exceptions (a symlink loop, a name too
    long, a NUL byte, a URL scheme no installed file system serves, a server that cannot be
    reached), so that a caller can name the spec key with it.
    """
    text = str(path)
    if "\x00" in text:
        return "the path has a NUL byte; give a plain path"
    if not is_url(path):
        try:
            mode = os.stat(text).st_mode
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return "a symbolic link that loops back on itself; point it at the file"
            if exc.errno == errno.ENAMETOOLONG:
                return "the path is too long for the file system (255 bytes per name)"
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return "file not found; check the path (relative to the spec, or an fsspec URL)"
            return f"cannot be read: {exc.strerror or exc}"
        if os.path.isdir(text):
            return "is a folder, not a file; give the path of a parquet or CSV file"
        if not os.path.isfile(text):
            return "is not a regular file (a device or a pipe); give the path of a parquet or CSV file"
        if not os.access(text, os.R_OK):
            return "cannot be read: permission denied"
        return None
    return _url_problem(text)


FILE_SYSTEM_PACKAGES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "abfs": "adlfs", "abfss": "adlfs",
                        "az": "adlfs", "adl": "adlfs", "http": "aiohttp", "https": "aiohttp", "sftp": "paramiko",
                        "ssh": "paramiko", "hf": "huggingface_hub", "oci": "ocifs", "webhdfs": "requests"}
"""The package each fsspec file system needs, by URL scheme (fsspec's own list, as pip names them)."""

DATABASE_SCHEMES = ("postgresql", "postgres", "duckdb", "sqlite", "mysql", "mariadb", "mssql", "oracle",
                    "snowflake", "bigquery", "redshift", "trino", "databricks", "db2", "teradata")
"""URL schemes of databases (SQLAlchemy dialects): given as a file path, they are a SQL source written wrong."""


def scheme_problem(url: str) -> str | None:
    """Why no installed file system serves a URL's scheme, in one sentence naming what to install,
    or ``None`` when one does.

    >>> print(scheme_problem("postgresql://risk@db/bank"))
    'postgresql://' is a database URL, not a file: a sample in a database is given as a SQL source, {sql: "postgresql://...", query: "select ..."} or {sql: ..., table: ...} (docs/spec.md, SQL sources; pip install 'validation[sql]')
    """
    import fsspec

    scheme = url.split("://", 1)[0].lower()
    base = scheme.split("+", 1)[0]
    if base in DATABASE_SCHEMES:
        return (f"'{scheme}://' is a database URL, not a file: a sample in a database is given as a SQL source, "
                f"{{sql: \"{scheme}://...\", query: \"select ...\"}} or {{sql: ..., table: ...}} (docs/spec.md, "
                "SQL sources; pip install 'validation[sql]')")
    try:
        fsspec.get_filesystem_class(scheme)
    except ImportError:
        package = FILE_SYSTEM_PACKAGES.get(scheme)
        return (f"the '{scheme}://' file system needs the {package} package: pip install {package}" if package else
                f"the '{scheme}://' file system needs a package that is not installed "
                f"({fsspec.registry.known_implementations.get(scheme, {}).get('err') or 'see fsspec'})")
    except ValueError:
        return (f"'{scheme}://' is neither a file system nor a database this installation knows; give a path, an "
                "fsspec URL (s3://, gs://, abfs://, file://, ...) of a parquet or CSV file, or a SQL source "
                "{sql: URL, query: ...} (docs/spec.md)")
    return None


def _url_problem(url: str) -> str | None:
    import fsspec

    unserved = scheme_problem(url)
    if unserved is not None:
        return unserved
    try:
        fs, inner = fsspec.core.url_to_fs(url)
    except ImportError as exc:
        return f"the file system of this URL needs a package that is not installed ({exc})"
    except ValueError as exc:
        return f"not a URL fsspec can open ({exc})"
    try:
        return None if fs.isfile(inner) else "file not found at this URL"
    except Exception as exc:  # any remote failure (refused connection, no credentials) is the input's
        first = str(exc).splitlines()[0] if str(exc) else ""
        return f"cannot be reached ({type(exc).__name__}: {first[:200]})"


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


def sha256_each(paths: "list[str | Path]") -> list[str]:
    """:func:`sha256` of each path, the files hashed at once in threads (hashlib and file reads
    leave the GIL: two large samples are hashed in about the time of one on two cores)."""
    if len(paths) < 2:
        return [sha256(path) for path in paths]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(len(paths), os.cpu_count() or 1)) as pool:
        return list(pool.map(sha256, paths))


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
