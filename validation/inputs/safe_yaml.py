"""Reading a spec's YAML with bounds, so that a small file can neither hang nor crash the tool.

:func:`load_yaml` composes the document's node graph first and walks it, alias by alias, before
any Python object is built. It refuses, with the key path:

- a file over :data:`MAX_SPEC_BYTES`;
- an alias that refers to itself (``x: &r [*r]``), and aliases that expand the document beyond
  :data:`MAX_NODES` nodes (the "billion laughs" of YAML: nine nested aliases under 1 KB expand to
  hundreds of millions of nodes, which a validator would walk for minutes);
- nesting deeper than :data:`MAX_DEPTH`;
- a key given twice in one mapping (YAML says keys are unique; PyYAML keeps the last silently);
- a whole number longer than :data:`MAX_DIGITS` digits, and ``.nan`` or ``.inf`` (no spec value
  is meaningfully infinite or undefined, and they cannot be written as strict JSON).

The limits are project defaults, far above any real spec (the example specs have under 200
nodes, depth 4) and far below what would take a second to walk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from validation.errors import SpecError

MAX_SPEC_BYTES = 1 << 20
"""1 MiB: the example specs are about 6 KB with their comments."""
MAX_NODES = 100_000
"""Nodes of the document with every alias expanded."""
MAX_DEPTH = 32
MAX_DIGITS = 30
"""Digits of a whole number (seeds and row counts need at most 20)."""

_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_NOT_FINITE = {".nan", ".inf", "+.inf", "-.inf"}


class _Walk:
    """Counts the expanded nodes and checks each one (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.nodes = 0
        self.open: set[int] = set()

    def fail(self, key: str, problem: str) -> SpecError:
        return SpecError(self.path, key, problem)

    def visit(self, node: yaml.Node, key: str, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(key, f"the document expands to more than {MAX_NODES:,} values (aliases that "
                            "repeat aliases); write the values out or use fewer aliases")
        if depth > MAX_DEPTH:
            raise self.fail(key, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, yaml.ScalarNode):
            self.scalar(node, key)
            return
        if id(node) in self.open:
            raise self.fail(key, "an alias refers to itself (a recursive structure); a spec is a tree")
        self.open.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.visit(item, f"{key}[{index}]", depth + 1)
        elif isinstance(node, yaml.MappingNode):
            self.mapping(node, key, depth)
        self.open.discard(id(node))

    def mapping(self, node: yaml.MappingNode, key: str, depth: int) -> None:
        seen: set[str] = set()
        for key_node, value_node in node.value:
            name = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            child = f"{key}.{name}" if key else name
            if isinstance(key_node, yaml.ScalarNode) and name != "<<":
                if name in seen:
                    raise self.fail(child, "the key is given twice in the same mapping; keep one")
                seen.add(name)
            self.visit(key_node, child, depth + 1)
            self.visit(value_node, child, depth + 1)

    def scalar(self, node: yaml.ScalarNode, key: str) -> None:
        text = str(node.value)
        if node.tag == _INT_TAG and sum(c.isdigit() for c in text) > MAX_DIGITS:
            raise self.fail(key, f"a number of {sum(c.isdigit() for c in text):,} digits; numbers in a spec have "
                            f"at most {MAX_DIGITS}")
        if node.tag == _FLOAT_TAG and text.lower() in _NOT_FINITE:
            raise self.fail(key, f"{text} is not a finite number; give a number")


def load_yaml(path: Path) -> tuple[Any, bytes]:
    """The YAML document of a spec file and its bytes, within the bounds of the module docstring.

    Raises
    ------
    SpecError
        The file is missing, a folder, unreadable, too large, not YAML, or beyond a bound.
    """
    try:
        if not path.exists():
            if path.is_symlink():
                raise SpecError(path, "", "a symbolic link that loops or points nowhere; give the spec file")
            raise SpecError(path, "", "spec file not found; give the path of a YAML spec (see params/)")
        if path.is_dir():
            raise SpecError(path, "", "is a folder; give the path of a YAML spec file")
        if path.stat().st_size > MAX_SPEC_BYTES:
            raise SpecError(path, "", f"the file is over {MAX_SPEC_BYTES // 1024} KiB; a spec is a short YAML file")
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(path, "", f"cannot read the spec file: {exc.strerror or exc}") from None
    except ValueError as exc:  # an embedded NUL byte in the path
        raise SpecError(repr(str(path)), "", f"not a usable path: {exc}") from None
    loader: yaml.SafeLoader | None = None
    try:
        _check_depth(path, raw)
        loader = yaml.SafeLoader(raw)  # decodes the bytes: a reader error is raised here
        node = loader.get_single_node()
        if node is None:
            return None, raw
        _Walk(path).visit(node, "", 0)
        return loader.construct_document(node), raw
    except yaml.reader.ReaderError as exc:
        raise SpecError(path, "", f"not UTF-8 text, or a character YAML does not allow ({exc.reason} at byte "
                        f"{exc.position}); save the spec as UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(path, "", f"YAML syntax error at {where}{problem}") from None
    except RecursionError:  # a last guard: _check_depth keeps the composer's recursion shallow
        raise SpecError(path, "", f"nested deeper than {MAX_DEPTH} levels") from None
    finally:
        if loader is not None:
            loader.dispose()


def _check_depth(path: Path, raw: bytes) -> None:
    """Refuse nesting beyond :data:`MAX_DEPTH` from the parser's events, before the composer (which
    recurses once per level, so ``[[[[...]]]]`` 5,000 deep would exhaust Python's stack)."""
    depth = 0
    for event in yaml.parse(raw, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
                raise SpecError(path, "", f"nested deeper than {MAX_DEPTH} levels{where}")
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
