"""The long node table is drawn directly, in the look of rich's own table, and escapes model names as rich's
does; narrower consoles fall back to rich, which fits the columns."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from onnxcost.report.render import LongTable, add_row, cell


def _text(renderable: object, width: int) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


COLUMNS = [("node", "left"), ("op", "left"), ("MACs", "right")]
ROWS = [[f"/model.{k}/conv/Conv", "Conv", f"{k * 1.5:.1f} M"] for k in range(45)] + [["名前/層", "MatMul", "7 K"]]


def test_long_table_matches_richs_rendering() -> None:
    rich_table = Table(title=cell("Nodes — m.onnx"), header_style="bold")
    for name, justify in COLUMNS:
        rich_table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in ROWS:
        add_row(rich_table, *row)
    assert _text(LongTable("Nodes — m.onnx", COLUMNS, ROWS), 160) == _text(rich_table, 160)


def test_long_table_escapes_names_and_falls_back_when_narrow() -> None:
    rows = [*ROWS, ["evil\x1b[31m[bold]x[/bold]", "Add", "1"]]
    text = _text(LongTable("t", COLUMNS, rows), 160)
    assert "\x1b" not in text and "\\x1b[31m[bold]x[/bold]" in text
    narrow = _text(LongTable("t", COLUMNS, rows), 30)
    assert max(len(line) for line in narrow.splitlines()) <= 30
