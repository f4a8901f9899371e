"""`onnxcost report MODEL` with the everyday flags, parsed without typer. Building typer's commands costs
about 0.15 s (pydantic included) before any analysis, more than analysing a 200-node model; this path skips
it. Anything it does not take as given (help, other flags, several models, a bad value) returns None and the
typer command handles it, with its own messages. The typer `report` stays the definition: a test holds
these flags, their defaults and their output to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..paths import expand
from .options import DIGITS, Format, Fusions, Schedule, api_options, as_markdown
from .single import write_report

#: Flag -> the `report` parameter it sets; the repeatable ones collect a list.
VALUE_FLAGS = {"--format": "fmt", "-f": "fmt", "--output": "output", "-o": "output", "--top": "top",
               "--dim": "dim", "--input-shape": "input_shape", "--input-value": "input_value",
               "--schedule": "schedule", "--schedule-budget": "schedule_budget", "--profile": "profile"}
SWITCHES = {"--strict": "strict", "--inplace": "inplace", "--arena": "arena"}
REPEATABLE = frozenset({"dim", "input_shape", "input_value"})
DEFAULTS: dict[str, Any] = {"fmt": Format.table.value, "output": None, "top": None, "dim": None, "input_shape": None,
                            "input_value": None, "schedule": Schedule.optimal.value, "schedule_budget": 1.0,
                            "profile": None, "strict": False, "inplace": False, "arena": False}


def parse(args: list[str]) -> dict[str, Any] | None:
    """The parameters of `report` from its arguments (after the command name); None when typer should parse."""
    got: dict[str, Any] = {}
    models: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("-"):
            models.append(arg)
            i += 1
            continue
        flag, eq, inline = arg.partition("=")
        if flag in SWITCHES and not eq:
            got[SWITCHES[flag]] = True
            i += 1
            continue
        if flag not in VALUE_FLAGS or (eq and not flag.startswith("--")):
            return None
        if eq:
            value, i = inline, i + 1
        elif i + 1 < len(args) and not args[i + 1].startswith("-"):
            value, i = args[i + 1], i + 2
        else:  # no value, or one that looks like a flag: how click reads it is click's to say
            return None
        key = VALUE_FLAGS[flag]
        if key in REPEATABLE:
            got.setdefault(key, []).append(value)
        else:
            got[key] = value
    paths = expand(models)
    if len(paths) != 1:  # several models, or a folder or glob with none: typer's report
        return None
    return _typed({**DEFAULTS, **got, "model": paths[0]})


def _typed(raw: dict[str, Any]) -> dict[str, Any] | None:
    """Values as typer would convert them; None for one it might refuse, so that it says so itself."""
    top, budget = raw["top"], raw["schedule_budget"]
    if raw["fmt"] not in Format.__members__ or raw["schedule"] not in Schedule.__members__:
        return None
    if top is not None and (not DIGITS.fullmatch(top) or int(top) < 1):
        return None
    if isinstance(budget, str):
        try:
            budget = float(budget)
        except ValueError:
            return None
        if not 0.0 <= budget < float("inf"):
            return None
    return {**raw, "fmt": as_markdown(Format(raw["fmt"])), "schedule": Schedule(raw["schedule"]),
            "top": None if top is None else int(top), "schedule_budget": budget,
            "output": None if raw["output"] is None else Path(raw["output"])}


def fast_report(argv: list[str]) -> bool:
    """Run `report` here when the arguments allow; False when they are typer's to parse."""
    if not argv or argv[0] != "report":
        return False
    p = parse(argv[1:])
    if p is None:
        return False
    options = api_options(p["dim"], p["input_shape"], p["input_value"], p["schedule"], p["schedule_budget"],
                          p["inplace"], p["arena"], p["profile"], p["strict"], Fusions.patterns)
    write_report(p["model"], p["fmt"], p["output"], p["top"], options)
    return True
