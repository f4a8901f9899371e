"""The long node table is drawn directly, in the look of rich's own table, and escapes model names as rich's
does; narrower consoles fall back to rich, which fits the columns."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table

from onnxcost import analyze
from onnxcost.report import render, tables
from onnxcost.report.tables import LongTable, add_row, cell

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ROOT / "corpus" / "exports"


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


def _rich_text(rep: object, top: int | None) -> str:
    return _text(render.table(rep, top, "x"), 160)  # type: ignore[arg-type]


@pytest.mark.parametrize("case", ["resnet18", "alexnet-training", "lenet-profile", "functions", "decoder"])
def test_the_plain_tables_are_richs_text(case: str) -> None:
    """Into a file or pipe the report's tables are drawn without rich; the text must be rich's, character for
    character (the long node table, titles wrapped at the table's width, tables without a header)."""
    rep = {
        "resnet18": lambda: analyze(ROOT / "models" / "resnet18.onnx"),
        "alexnet-training": lambda: analyze(ROOT / "models" / "alexnet.onnx", training="adam", batch=4),
        "lenet-profile": lambda: analyze(ROOT / "models" / "lenet_1989.onnx", profile="xeon-8480"),
        "functions": lambda: analyze(EXPORTS / "onnxscript_functions.onnx", input_shapes={
            "x": [4, 32], "w1": [32, 64], "b1": [64], "w2": [64, 8], "b2": [8]}),
        "decoder": lambda: analyze(EXPORTS / "gpt2_past_legacy.onnx",
                                   dims={"batch": 1, "seq": 1, "past_seq": 8, "total_seq": 9}),
    }[case]()
    for top in (None, 3):
        plain = render.plain_table(rep, top, "x", 160)
        assert plain is not None
        assert plain == _rich_text(rep, top)


def test_titles_wrap_as_rich_wraps_them() -> None:
    rng = random.Random(7)
    for _ in range(400):
        words = ["x" * rng.randint(1, 40) for _ in range(rng.randint(1, 6))]
        title = rng.choice(["", " "]) + rng.choice([" ", "  ", " — ", "·"]).join(words) + rng.choice(["", " "])
        table = tables.TextTable(title, (("c", "left"), ("µs", "right")), (("y" * rng.randint(1, 60), "1"),))
        assert tables.draw(table, 160) == _text(tables.rich_table(table), 160), title


def test_a_wide_column_wraps_as_rich_wraps_it() -> None:
    """A table wider than the page: rich narrows its widest column and wraps that column's cells at spaces (the
    memory table's list of tensors live at the peak)."""
    rng = random.Random(11)
    drawn = 0
    for _ in range(300):
        words = ["/m/" + "w" * rng.randint(1, 50) for _ in range(rng.randint(1, 12))]
        long = rng.choice([", ", " ", "  "]).join(words)
        rows = [("k" * rng.randint(1, 20), long), ("key", "short"), ("e", "")]
        table = tables.TextTable(rng.choice(["Memory", ""]), (("what", "left"), ("value", "left")), tuple(rows),
                                 header=rng.random() < 0.5)
        got = tables.draw(table, 160)
        if got is not None:
            drawn += 1
            assert got == _text(tables.rich_table(table), 160), long
    assert drawn > 200


def test_memory_tables_of_transformers_are_drawn_without_rich() -> None:
    rep = analyze(EXPORTS / "whisper_encoder_legacy.onnx", input_shapes={"input_features": [1, 80, 200]})
    plain = render.plain_table(rep, 5, "x", 160)
    assert plain is not None and "live at peak" in plain
    assert plain == _rich_text(rep, 5)


def test_what_rich_must_fit_is_left_to_rich() -> None:
    wide = tables.TextTable("t", (("a", "left"), ("b", "left")), (("x" * 100, "y" * 100),), header=False)
    assert tables.draw(wide, 160) is None
    assert tables.draw(tables.TextTable("t", (("a", "left"),), ()), 160) is None  # no rows
    assert tables.draw(tables.TextTable("名前", (("a", "left"),), (("x",),)), 160) is None  # wide characters


def test_the_characters_counted_without_rich_are_one_column_in_rich() -> None:
    from rich.cells import cell_len

    assert all(cell_len(c) == 1 for c in tables._NARROW)
