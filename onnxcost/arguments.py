"""The Python API's argument checks: each argument of the type and range it needs, or a ConfigError naming
it, never a TypeError deep inside a stage."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from .base.errors import ConfigError
from .base.proto import ModelProto
from .latency import FUSIONS
from .memory import schedule as schedule_mod


def check(model: object, dims: object, input_shapes: object, schedule: object, budget: object, batch: object,
          profile: object, input_values: object, fusions: object = "patterns") -> None:
    """The API's arguments, each of the type and range it needs: a ConfigError naming the argument, never a
    TypeError deep inside."""
    def fail(name: str, value: object, want: str) -> ConfigError:
        return ConfigError(f"analyze(): {name}={value!r:.80} is not {want}")

    if not isinstance(model, (str, os.PathLike, ModelProto)):
        raise fail("model", model, "a path or an onnx.ModelProto")
    if dims is not None:
        if not isinstance(dims, Mapping):
            raise fail("dims", dims, "a mapping of dim names to ints")
        for k, v in dims.items():
            # 0 is a real size: an empty KV cache (past = 0) at an LLM's first step
            if not isinstance(k, str) or isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise fail(f"dims[{k!r}]", v, "a non-negative int")
    if input_shapes is not None:
        if not isinstance(input_shapes, Mapping):
            raise fail("input_shapes", input_shapes, "a mapping of input names to shapes")
        for k, v in input_shapes.items():
            if not isinstance(v, Sequence) or isinstance(v, str) or not all(
                    isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in v):
                raise fail(f"input_shapes[{k!r}]", v, "a sequence of non-negative ints")
    if schedule not in schedule_mod.METHODS:
        raise ConfigError(f"unknown schedule {schedule!r}; choose one of {', '.join(schedule_mod.METHODS)}")
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not 0 <= budget < float("inf"):
        raise fail("schedule_budget", budget, "a finite number of seconds")
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        raise fail("batch", batch, "a positive int")
    if fusions not in FUSIONS:
        raise fail("fusions", fusions, f"one of {', '.join(FUSIONS)}")
    if profile is not None and not isinstance(profile, str) and not _is_profile(profile):
        raise fail("profile", profile, "a profile name, a .toml path or a Profile")
    if input_values is not None and not (isinstance(input_values, Mapping) and all(
            _number(v) or isinstance(v, Sequence) and not isinstance(v, str) and all(_number(x) for x in v)
            for v in input_values.values())):
        raise ConfigError(f"analyze(): input_values={input_values!r:.80} is not a mapping of names to numbers")


def _number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def value_lists(input_values: Mapping[str, Sequence[float] | float] | None) -> dict[str, Sequence[float]] | None:
    """Checked input values with a lone number (a scalar input's value) as a list of one."""
    if input_values is None:
        return None
    return {k: [v] if isinstance(v, (int, float)) else v for k, v in input_values.items()}


def _is_profile(value: object) -> bool:
    from .latency.profiles import Profile  # only for a value that is neither None nor a name

    return isinstance(value, Profile)
