"""Everything onnxcost knows about each op, one definition per op, grouped by family.

A definition (`OpDef`) holds the op's shape, value and cost functions and its traits; the shapes, costs,
memory, estimate, layout and training stages ask `lookup` and `traits` and keep no op-name lists of their own.
The registry is built from an explicit list of family modules, so importing it has no side effect elsewhere."""

from __future__ import annotations

from types import ModuleType

from . import (
    attention,
    contractions,
    control_flow,
    elementwise,
    generation,
    generators,
    legacy,
    losses,
    ml,
    movement,
    ms_contrib,
    ms_llm,
    ms_misc,
    ms_packed,
    nchwc,
    normalization,
    optimizers,
    pooling,
    quantization,
    recurrent,
    reduction,
    sequences,
    spectral,
    vision,
)
from .core import DEFAULT, ML, MS, Cost, NodeView, OpDef, Shape, Spec, Traits, UnknownShape, broadcast

FAMILIES: tuple[ModuleType, ...] = (contractions, elementwise, normalization, reduction, pooling, movement,
                                    recurrent, control_flow, attention, quantization, ms_contrib, generators,
                                    spectral, sequences, vision, losses, ml, optimizers, legacy,
                                    nchwc, ms_misc, ms_llm, ms_packed,
                                    generation)


def _build() -> dict[tuple[str, str], tuple[OpDef, ...]]:
    registry: dict[tuple[str, str], list[OpDef]] = {}
    for family in FAMILIES:
        for d in family.OPS:
            defs = registry.setdefault((d.domain, d.op_type), [])
            if any(max(d.since, o.since) < min(d.until or 1 << 30, o.until or 1 << 30) for o in defs):
                raise RuntimeError(f"{d.domain}.{d.op_type}: opset ranges of two definitions overlap")
            defs.append(d)
    return {k: tuple(sorted(v, key=lambda d: d.since)) for k, v in registry.items()}


REGISTRY = _build()
#: Traits of an op onnxcost has no definition for: element-wise, nothing more assumed.
UNKNOWN = Traits()


def lookup(domain: str, op_type: str, opset: int | None = None) -> OpDef | None:
    """The definition of `op_type` in `domain` that covers `opset` (the newest one when opset is None).
    Remembered per key: every stage asks it about every node, six times a node in a report."""
    key = (domain, op_type, opset)
    if key not in _LOOKED_UP:
        if len(_LOOKED_UP) >= _LOOKED_UP_MAX:  # op names are the model's: a file of made-up ones stays bounded
            _LOOKED_UP.clear()
        _LOOKED_UP[key] = _find(domain, op_type, opset)
    return _LOOKED_UP[key]


#: lookup's answers: the registry is fixed once built, so an answer never changes
_LOOKED_UP: dict[tuple[str, str, int | None], OpDef | None] = {}
_LOOKED_UP_MAX = 4096


def _find(domain: str, op_type: str, opset: int | None) -> OpDef | None:
    defs = REGISTRY.get((domain or DEFAULT, op_type))
    if not defs:
        return None
    if opset is None:
        return defs[-1]
    for d in defs:
        if d.covers(opset):
            return d
    return defs[-1] if opset >= defs[-1].since else None


def traits(domain: str, op_type: str, opset: int | None = None) -> Traits:
    """What later stages need to know about an op at `opset` (its newest definition without one; see `Traits`)."""
    d = lookup(domain, op_type, opset)
    return d.traits if d is not None else UNKNOWN


def all_defs() -> list[OpDef]:
    """Every definition, by domain then op name."""
    return [d for key in sorted(REGISTRY) for d in REGISTRY[key]]


__all__ = ["DEFAULT", "FAMILIES", "ML", "MS", "REGISTRY", "Cost", "NodeView", "OpDef", "Shape",
           "Spec", "Traits", "UnknownShape", "all_defs", "broadcast", "lookup", "traits"]
