"""Tables drawn as rich draws them: a report's table as plain data (`TextTable`), its text in rich's default
look without importing rich (`draw`), or the rich Table itself for a terminal. Cells hold text from a model:
never markup, never control codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..base.errors import printable

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text


def cell(text: str) -> Text:
    """A table cell holding text from a model (names can hold anything): never markup, never control codes."""
    from rich.text import Text

    return Text(printable(text))


def add_row(table: Table, *cells: str) -> None:
    """Add a row of plain-text cells (see `cell`)."""
    table.add_row(*(cell(c) for c in cells))


@dataclass(frozen=True)
class TextTable:
    """One table of a report as plain data: a title, (header, justify) columns and rows of plain text cells."""

    title: str
    columns: tuple[tuple[str, str], ...]
    rows: tuple[tuple[str, ...], ...]
    header: bool = True


#: The non-ASCII characters of onnxcost's own text, each one terminal column: counted without rich's tables.
_NARROW = frozenset("—…·µ×≥▁▂▃▄▅▆▇█")


def _single_width(text: str) -> bool:
    """Every character of `text` takes one terminal column (so a character count is its width)."""
    if text.isascii() or all(c.isascii() or c in _NARROW for c in text):
        return True
    from rich.cells import cell_len

    return all(cell_len(c) == 1 for c in text)


def _cell_len(text: str) -> int:
    """Terminal columns of `text`: its length when one column per character, else rich's count."""
    if _single_width(text):
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


_WORD = re.compile(r"\s*\S+\s*")


def _wrapped(text: str, width: int) -> list[str]:
    """A title of one-column characters in lines of at most `width`, broken as rich breaks a centred title:
    at spaces, with a word longer than the width cut into pieces of the width."""
    breaks, offset = [], 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group(0)
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:
            pieces = [word[k:k + width] for k in range(0, len(word), width)]
            for k, piece in enumerate(pieces):
                if start:
                    breaks.append(start)
                if k == len(pieces) - 1:
                    offset = len(piece)
                else:
                    start += len(piece)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    bounds = [0, *breaks, len(text)]
    return [text[a:b].rstrip() for a, b in zip(bounds, bounds[1:], strict=False)] if text else []


def draw(table: TextTable, width: int) -> str | None:
    """`table` exactly as rich draws it with no colour (box HEAVY_HEAD, SQUARE without a header), or None when
    rich would have to fit it: wider than `width`, a title longer than the table, or no rows."""
    cols, rows = table.columns, [[printable(c) for c in row] for row in table.rows]
    title = printable(table.title)
    if not rows:
        return None
    widths = [max([_cell_len(h) if table.header else 0] + [_cell_len(r[k]) for r in rows])
              for k, (h, _) in enumerate(cols)]
    full = sum(widths) + 3 * len(widths) + 1
    if not _single_width(title):
        return None
    wrapped = None
    if full > width:  # rich narrows the widest column and wraps its cells: drawn here when that is all it does
        wrapped = _narrowed(table, rows, widths, full - width)
        if wrapped is None:
            return None
        widths[wrapped[0]], full = wrapped[1], width

    def rule(left: str, mid: str, right: str, fill: str) -> str:
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def row(cells: list[str], edge: str) -> str:
        padded = [(" " * (w - _cell_len(c)) + c) if justify == "right" else c + " " * (w - _cell_len(c))
                  for c, w, (_, justify) in zip(cells, widths, cols, strict=True)]
        return edge + edge.join(f" {c} " for c in padded) + edge

    lines = [" " * ((full - len(t)) // 2) + t + " " * (full - len(t) - (full - len(t)) // 2)  # odd space: right
             for t in _wrapped(title, full)]
    if table.header:
        lines += [rule("┏", "┳", "┓", "━"), row([h for h, _ in cols], "┃"), rule("┡", "╇", "┩", "━")]
    else:
        lines.append(rule("┌", "┬", "┐", "─"))
    for r in rows:
        if wrapped is None:
            lines.append(row(r, "│"))
            continue
        k = wrapped[0]
        parts = _wrapped(r[k], widths[k]) or [""]
        lines += [row([part if j == k else (c if i == 0 else "") for j, c in enumerate(r)], "│")
                  for i, part in enumerate(parts)]
    lines.append(rule("└", "┴", "┘", "─"))
    return "\n".join(lines) + "\n"


def _narrowed(table: TextTable, rows: list[list[str]], widths: list[int], excess: int) -> tuple[int, int] | None:
    """(column, its width) when rich fits `table` by narrowing its one widest column by `excess` and wrapping that
    column's cells at spaces; None when it must do more (two widest columns, a word or header wider than the
    column, characters of other widths), which is left to rich."""
    if len(widths) < 2:
        return None
    k = max(range(len(widths)), key=lambda j: widths[j])
    second = max(w for j, w in enumerate(widths) if j != k)
    narrow = widths[k] - excess
    if widths[k] == second or narrow < second or (table.header and len(table.columns[k][0]) > narrow):
        return None
    for r in rows:
        if not _single_width(r[k]) or any(len(word.rstrip()) > narrow for word in _WORD.findall(r[k])):
            return None
    return k, narrow


def rich_table(table: TextTable) -> Any:
    """`table` as a rich Table, for a terminal or for a table rich must fit to the width."""
    from rich.table import Table

    out = Table(title=cell(table.title) if table.title else None, header_style="bold", show_header=table.header)
    for h, justify in table.columns:
        out.add_column(h, justify=justify)  # type: ignore[arg-type]
    for r in table.rows:
        add_row(out, *r)
    return out


class LongTable:
    """A long table (the nodes of a big model) drawn directly in the look of rich's default table, at a
    fraction of its cost; one wider than the console is left to rich, which fits it."""

    LONG = 40  # rows from which a table is drawn this way

    def __init__(self, title: str, columns: list[tuple[str, str]], rows: list[list[str]]) -> None:
        self.table = TextTable(title, tuple(columns), tuple(tuple(r) for r in rows))

    def __rich_console__(self, console: Any, options: Any) -> Any:
        text = draw(self.table, options.max_width)
        if text is None:
            yield rich_table(self.table)
            return
        from rich.segment import Segment
        from rich.style import Style

        lines = text.splitlines(keepends=True)
        yield Segment(lines[0], Style(italic=True))
        yield Segment("".join(lines[1:4]), Style(bold=True))
        yield Segment("".join(lines[4:]))
