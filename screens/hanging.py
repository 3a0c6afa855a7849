"""Log lines that wrap under their own text, not under their marker: a hanging indent.

At 80x24 a call's line, an image push or an ECS event often takes two rows; continued at
column 0 it reads as a new line of the log. Each line here continues under the first word
after its indentation and marker ("  → ", "  ✓ ", "      "), re-wrapped to whatever width
the panel has when it is drawn.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions
from rich.text import Text

MARKER_CELLS = 2  # a marker is one glyph: → ✓ ✗ ! · ⬆ ↻ ↳ ⏳ (an emoji takes two cells)


def hanging_indent(plain: str) -> tuple[int, int]:
    """Where a continuation row starts, (characters, cells): the leading spaces, and a marker
    and its space."""
    spaces = len(plain) - len(plain.lstrip(" \u00a0"))  # no-break spaces keep a row's indent
    marker, sep, _ = plain[spaces:].partition(" ")
    if sep and marker and cell_len(marker) <= MARKER_CELLS and not marker.isalnum():
        return spaces + len(marker) + 1, spaces + cell_len(marker) + 1
    return spaces, spaces


class HangingLines:
    """Rich renderable: each line wrapped to the width, continuation rows indented."""

    def __init__(self, lines: Iterable[Text]) -> None:
        self.lines = list(lines)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        width = options.max_width
        for line in self.lines:
            yield from wrap(line, console, width)


def wrap(line: Text, console: Console, width: int) -> list[Text]:
    if cell_len(line.plain) <= width:
        return [line]
    chars, indent = hanging_indent(line.plain)
    if indent * 2 >= width:  # a very narrow panel: the indent would leave no room
        return list(line.wrap(console, width, overflow="fold"))
    head, body = line.divide([chars]) if chars else (Text(), line)
    rows = list(body.wrap(console, width - indent, overflow="fold"))
    first = Text.assemble(head, rows[0])
    pad = " " * indent
    return [first, *(Text.assemble(pad, row) for row in rows[1:])]
