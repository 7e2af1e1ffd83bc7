"""YAML with line numbers: every mapping and list remembers the line of each of its entries.

Scenario errors must name the line and the field (``shadow.yaml:42: field 'msel[3].approach.range_km'``),
so the scenario is read with :func:`yaml.compose` (nodes keep their marks) and turned into plain
containers that also carry ``lines``: :class:`LDict` maps each key to the line of its value and
:class:`LList` holds the line of each item. :func:`line_of` walks a pydantic-style location
(``("msel", 3, "approach", "range_km")``) to the nearest line it can find.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from orbitwatch.errors import ValidationError


class LDict(dict):
    """A dict whose ``lines[key]`` is the 1-based line of that key; ``line`` is the mapping's own."""

    line: int = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines: dict[Any, int] = {}


class LList(list):
    """A list whose ``lines[i]`` is the 1-based line of item ``i``; ``line`` is the list's own."""

    line: int = 0

    def __init__(self, *args):
        super().__init__(*args)
        self.lines: list[int] = []


class _Loader(yaml.SafeLoader):
    pass


def _convert(node: yaml.Node, loader: _Loader, file: str | None) -> Any:
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out = LDict()
        out.line = node.start_mark.line + 1
        for knode, vnode in node.value:
            key = loader.construct_object(knode, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                raise ValidationError(f"mapping key {key!r} is not a plain value", file=file,
                                      line=knode.start_mark.line + 1)
            if key in out:
                raise ValidationError(f"key {key!r} appears twice in one mapping (first on line "
                                      f"{out.lines[key]})", file=file, line=knode.start_mark.line + 1,
                                      field=str(key))
            out[key] = _convert(vnode, loader, file)
            out.lines[key] = knode.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        out_l = LList()
        out_l.line = node.start_mark.line + 1
        for item in node.value:
            out_l.append(_convert(item, loader, file))
            out_l.lines.append(item.start_mark.line + 1)
        return out_l
    return loader.construct_object(node, deep=True)


def load_located(text: str, *, file: str | None = None) -> Any:
    """Parse one YAML document into :class:`LDict`/:class:`LList`/scalars. Syntax errors name the line."""
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, file) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise ValidationError("the file is empty; expected a YAML mapping", file=file, line=1)
        return _convert(node, loader, file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ValidationError(f"YAML syntax: {exc.problem or exc}", file=file, line=line) from None
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, file) from None
    finally:
        loader.dispose()


def _reader_error(exc: yaml.reader.ReaderError, text: str, file: str | None) -> ValidationError:
    """A character YAML refuses (control characters, NUL): name the line, not the byte offset."""
    line = text[: exc.position].count("\n") + 1 if isinstance(exc.position, int) else None
    code = exc.character if isinstance(exc.character, int) else 0
    return ValidationError(f"YAML cannot contain character #x{code:04x} ({exc.reason})", file=file, line=line)


_MISSING = object()


def _child(node: Any, part: Any) -> Any:
    if isinstance(node, LDict) and part in node:
        return node[part]
    if isinstance(node, LList) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return _MISSING


def line_of(tree: Any, loc: Sequence[Any]) -> int | None:
    """The line of the deepest entry of ``tree`` that ``loc`` reaches (unknown path parts are skipped:
    pydantic puts union tags like ``'manoeuvre'`` in locations)."""
    node = tree
    line = getattr(tree, "line", None) or None
    for part in loc:
        if isinstance(node, LDict) and part in node:
            line = node.lines.get(part, line)
            node = node[part]
        elif isinstance(node, LList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lines[part]
            node = node[part]
        else:
            continue
    return line


def field_path(loc: Sequence[Any], tree: Any = None) -> str:
    """``msel[3].approach.range_km`` from a location. With ``tree``, parts absent from the document
    (pydantic's union tags) are dropped, except the last (a missing or unexpected key)."""
    parts: list[Any] = []
    node = tree
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if tree is not None:
            child = _child(node, part)
            if child is not _MISSING:
                node = child
            elif not last:
                continue
        parts.append(part)
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out
