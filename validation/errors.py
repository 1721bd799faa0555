"""Exceptions of the validation package.

Two families:

- :class:`InputError` and its subclasses: the user gave us something we cannot use (a spec, a data
  file, an artifact, a command-line option). The CLI prints the message and exits with code 2;
  nothing is run and nothing is written.
- :class:`CheckExecutionError`: a check's notebook could not run to the end (a cell raised, a cell
  timed out, the kernel died). The runner records it as that check's ``error`` status; the other
  checks go on and the CLI exits with code 3.

Every exception carries the fields a caller needs and pickles, because it crosses process (and
Dask) boundaries: ``__reduce__`` rebuilds it from its fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class Error(Exception):
    """Base class of every error raised on purpose by this package (named apart from pydantic's
    ``ValidationError``)."""


class InputError(Error):
    """Invalid input from the user (exit code 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.message,))


class SpecError(InputError):
    """A validation spec is missing, unreadable or invalid.

    Parameters
    ----------
    path
        The spec file.
    key
        The dotted key path inside the spec (``data.target``, ``versions[1].artifact``), or ``""``
        for the file as a whole.
    problem
        What is wrong and how to fix it.
    """

    def __init__(self, path: str | Path, key: str, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        where = f"{self.path}: {key}: " if key else f"{self.path}: "
        super().__init__(where + problem)

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.path, self.key, self.problem))


class DataError(InputError):
    """A data file is missing, unreadable, or its content breaks the spec's expectations.

    Parameters
    ----------
    path
        The data file.
    column
        The offending column, or ``None`` when the problem is the file itself.
    problem
        What is wrong and how to fix it.
    role
        The spec key the file comes from (``data.reference``, ``data.current``).
    """

    def __init__(self, path: str | Path, column: str | None, problem: str, role: str = "") -> None:
        self.path = str(path)
        self.column = column
        self.problem = problem
        self.role = role
        subject = f"column '{column}': " if column is not None else ""
        source = f"{role}: {self.path}" if role else self.path
        super().__init__(f"{subject}{problem} ({source})")

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.path, self.column, self.problem, self.role))


class ArtifactError(InputError):
    """A model artifact is missing, does not match its declared hash, or cannot be loaded."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"model.artifact: {self.path}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.path, self.problem))


class UnknownCheckError(InputError):
    """A check name that is not registered."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = list(known)
        super().__init__(
            f"unknown check '{name}'; known checks: {', '.join(self.known)}"
            " (list them with `validation checks`)"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.name, self.known))


class PluginError(InputError):
    """A third-party check (entry point ``validation.checks``) that cannot be loaded or registered.

    Parameters
    ----------
    entry_point
        The entry point as declared, ``name = module:object``.
    problem
        What went wrong.
    """

    def __init__(self, entry_point: str, problem: str) -> None:
        self.entry_point = entry_point
        self.problem = problem
        super().__init__(f"check plugin '{entry_point}' (entry point group validation.checks) could not be "
                         f"loaded: {problem}; fix or uninstall the package that declares it")

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.entry_point, self.problem))


class RegistryError(InputError):
    """A registry file that cannot be used: a folder, not a SQLite database, or not writable.

    Parameters
    ----------
    path
        The registry file (``--registry``, or ``<out>/registry.sqlite``).
    problem
        What is wrong with it and what to do.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"registry {self.path}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.path, self.problem))


class OutputError(InputError):
    """An output the user named (``--out``, ``--html``) that cannot be created or written, found
    before anything runs or when writing the file the option names."""

    def __init__(self, path: str | Path, problem: str, option: str = "--out") -> None:
        self.path = str(path)
        self.problem = problem
        self.option = option
        super().__init__(f"{option} {self.path}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.path, self.problem, self.option))


class ToolFailure(Error):
    """The tool itself failed while working (a disk that filled up, a registry locked for minutes):
    not the user's input and not a check's result. The CLI prints one line naming the operation and
    the path, and exits 4.

    Parameters
    ----------
    operation
        What the tool was doing, e.g. ``"recording run 2026...-ab12cd in the registry"``.
    path
        The file or folder involved.
    problem
        The underlying error, one line.
    """

    def __init__(self, operation: str, path: str | Path, problem: str) -> None:
        self.operation = operation
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{operation} ({self.path}): {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.operation, self.path, self.problem))


class InputChangedError(Error):
    """An input file changed after the run was planned: its sha256 differs from the one recorded
    in the manifest, so no evidence may be computed on it (that check's ``error``).

    Parameters
    ----------
    key
        The input's key in the manifest (``data.current``, ``spec``).
    path
        The file.
    expected, actual
        The sha256 recorded when the run was planned, and the file's now.
    """

    def __init__(self, key: str, path: str, expected: str, actual: str) -> None:
        self.key = key
        self.path = path
        self.expected = expected
        self.actual = actual
        super().__init__(f"{key} ({path}) changed after the run was planned: sha256 was {expected} "
                         f"when planned and is {actual} now; no evidence is computed on a changed "
                         "input: run again")

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.key, self.path, self.expected, self.actual))


class CheckExecutionError(Error):
    """A check's notebook did not run to the end.

    Parameters
    ----------
    check
        The check's name.
    notebook
        The executed notebook's path (it is kept as evidence).
    kind
        ``cell_error``, ``timeout`` or ``dead_kernel``.
    reason
        One line for people: what failed.
    cell_index
        Index of the failing cell in the notebook, when known.
    ename, evalue
        The exception's name and value inside the kernel (``cell_error`` only).
    traceback
        The traceback text, when there is one.
    """

    def __init__(
        self,
        check: str,
        notebook: str,
        kind: str,
        reason: str,
        cell_index: int | None = None,
        ename: str | None = None,
        evalue: str | None = None,
        traceback: str | None = None,
    ) -> None:
        self.check = check
        self.notebook = notebook
        self.kind = kind
        self.reason = reason
        self.cell_index = cell_index
        self.ename = ename
        self.evalue = evalue
        self.traceback = traceback
        cell = f" in cell {cell_index}" if cell_index is not None else ""
        super().__init__(f"check '{check}' failed{cell}: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            self.__class__,
            (
                self.check,
                self.notebook,
                self.kind,
                self.reason,
                self.cell_index,
                self.ename,
                self.evalue,
                self.traceback,
            ),
        )
