"""Symbolic dims: a dim the user did not bind stays a sympy symbol (a positive integer) through shapes, small
values and costs, so a total is a formula, never a guess at 1. sympy is imported only when a symbol exists,
so a model with every dim bound runs on plain ints at full speed.

Rules compare dims in places (a window larger than its input, a reshape that must divide). `decide` answers
such a comparison when the symbols' positivity settles it and returns None when only a value would."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import sympy

#: A dim: an int, or a sympy expression in the unbound dims.
Dim = Any


@dataclass(frozen=True)
class SymbolInfo:
    """Where a symbol comes from: the dim's name in the file (None for an unnamed dim), input and axis."""

    dim: str | None
    input: str
    axis: int


def undefined(x: Any) -> bool:
    """A dim sympy made nan or infinite: 0/0 or n/0 of dims (a dim bound to 0 that the model divides by)."""
    if not is_symbolic(x):
        return False
    import sympy

    return bool(x.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo))


@functools.lru_cache(maxsize=1 << 14)
def symbol(name: str) -> sympy.Symbol:
    """The dim named `name`: a positive integer. Cached: sympy derives a symbol's assumptions anew each time."""
    import sympy

    return sympy.Symbol(name, integer=True, positive=True)


@functools.lru_cache(maxsize=1 << 10)
def counter(name: str) -> sympy.Symbol:
    """A loop's iteration number: an integer from 0, unlike a dim (a positive integer)."""
    import sympy

    return sympy.Symbol(name, integer=True, nonnegative=True)


#: Most terms `sum_over` adds one by one when a sum has no closed form.
SUM_TERMS = 10_000


def sum_over(expr: Dim, var: Any, count: Dim) -> Dim | None:
    """expr summed for var = 0, 1, …, count - 1: a closed form (a polynomial in var sums to one), else term by
    term for a known count up to SUM_TERMS; None when neither gives an exact total."""
    if not is_symbolic(expr) or var not in expr.free_symbols:
        return normal(count * expr)
    import sympy

    total = sympy.summation(expr, (var, 0, count - 1))
    if not total.has(sympy.Sum):
        return normal(sympy.expand(total))
    if is_symbolic(count) or count > SUM_TERMS:
        return None
    return normal(sympy.expand(sum(expr.xreplace({var: k}) for k in range(count))))


PLACEHOLDER = "outer_dim_"  # a subgraph's stand-in for an expression of its enclosing graph's dims


def placeholder(k: int) -> str:
    """The name of the k-th stand-in dim of a subgraph."""
    return f"{PLACEHOLDER}{k}"


def is_model_dim(d: object) -> bool:
    """A dim that is one of the model's own free dims: a lone symbol, not an expression or a stand-in for one."""
    return bool(getattr(d, "is_Symbol", False)) and not str(d).startswith(PLACEHOLDER)


def is_symbolic(x: object) -> bool:
    """A sympy expression (with free symbols or not): anything that is neither an int nor a numpy integer."""
    # the class's attribute: on an instance, free_symbols is a property that walks the whole expression
    if type(x) is int:  # nearly every dim: decided before the isinstance and attribute checks
        return False
    return not isinstance(x, (int, np.integer)) and hasattr(type(x), "free_symbols")


def any_symbolic(values: object) -> bool:
    if isinstance(values, np.ndarray):
        return values.dtype == object and any(is_symbolic(v) for v in values.reshape(-1))
    return any(is_symbolic(v) for v in values)  # type: ignore[attr-defined]


def normal(x: Dim) -> Dim:
    """A sympy integer becomes an int; anything else stays as it is."""
    if is_symbolic(x) and getattr(x, "is_Integer", False):
        return int(x)
    return x


def decide(cond: object) -> bool | None:
    """The truth of a comparison of dims: a bool when it is settled (always, for ints), None when it depends
    on the values of unbound dims."""
    if isinstance(cond, (bool, np.bool_)):
        return bool(cond)
    import sympy

    if cond is sympy.true:
        return True
    if cond is sympy.false:
        return False
    return None


#: No dim reaches this (the shapes stage refuses larger tensors), so it is above every symbolic dim: Slice's
#: INT64_MAX ends and the like compare without a condition.
HUGE = 1 << 48


def _compare_huge(a: Dim, b: Dim) -> bool | None:
    """a >= b when one side is a concrete bound at least HUGE and the other symbolic."""
    if not is_symbolic(a) and a >= HUGE and is_symbolic(b):
        return True
    if not is_symbolic(b) and b >= HUGE and is_symbolic(a):
        return False
    return None


def equal(a: Dim, b: Dim) -> bool | None:
    """a == b for dims, the one tri-state equality every rule uses: True or False when settled (always, for
    ints), None when it depends on the values of unbound dims. Python's == on sympy objects compares their
    form, which says nothing about their values: floor((h+1)/2) and floor(h/2 + 1/2) are the same dim."""
    if not is_symbolic(a) and not is_symbolic(b):
        return bool(a == b)
    import sympy

    if sympy.expand(a - b) == 0:  # expand, not simplify: this runs on every Concat and MatMul of symbols
        return True
    return decide(sympy.Eq(a, b))


def differ(a: Dim, b: Dim) -> bool | None:
    """a != b for dims: the negation of `equal`, None when unsettled."""
    same = equal(a, b)
    return None if same is None else not same


@dataclass(frozen=True)
class Equal:
    """A condition of validity that two dims be equal (their values alone decide it): a warning as text,
    and a tie the shapes stage can use (a lone unbound dim equal to an expression of the others)."""

    a: Dim
    b: Dim

    def __str__(self) -> str:
        return f"{self.a} = {self.b}"


def tie(eq: Equal, bound: dict[Any, Any]) -> tuple[Any, Any] | None:
    """(symbol, value) when one side of `eq` is a lone symbol and the other a number or an expression of other
    symbols, after the ties already `bound` are applied; None otherwise (the condition stays a condition)."""
    a, b = (substitute(x, bound) for x in (eq.a, eq.b))
    for lone, other in ((a, b), (b, a)):
        if getattr(lone, "is_Symbol", False) and not (is_symbolic(other) and lone in other.free_symbols):
            return lone, other
    return None


def substitute(x: Any, bound: dict[Any, Any]) -> Any:
    """x with the tied symbols replaced (ints and numbers pass through)."""
    return normal(x.xreplace(bound)) if bound and is_symbolic(x) else x


def logic(op: str, a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """"not", "and", "or" of booleans and relations of dims, element-wise: a bool array when every element is
    settled, else an object array holding the open sympy conditions."""
    import sympy

    fn = {"not": sympy.Not, "and": sympy.And, "or": sympy.Or}[op]
    args = [a] if b is None else list(np.broadcast_arrays(a, b))
    cells = [fn(*(sympy.true if x is True or x is np.True_ else sympy.false if x is False or x is np.False_ else x
                  for x in xs)) for xs in zip(*(v.reshape(-1) for v in args), strict=True)]
    shape = args[0].shape
    if all(c in (sympy.true, sympy.false) for c in cells):
        return np.array([c == sympy.true for c in cells], dtype=bool).reshape(shape)
    out = np.empty(len(cells), dtype=object)
    out[:] = [True if c == sympy.true else False if c == sympy.false else c for c in cells]
    return out.reshape(shape)


def piecewise(cond: Any, then: Dim, other: Dim) -> Dim:
    """`then` where the relation of dims holds, else `other` (an If whose condition the unbound dims decide)."""
    import sympy

    return then if then == other else sympy.Piecewise((then, cond), (other, True))


def truth(cond: object) -> bool | None:
    """A comparison of dims or sizes (a >= b, n > 1) as a tri-state: decide() for a relation sympy may leave
    open, bool() for plain numbers."""
    if isinstance(cond, (bool, np.bool_)):
        return bool(cond)
    return decide(cond)


def divides(d: Dim, by: int) -> bool | None:
    """Whether `by` divides the dim: None when that depends on an unbound dim's value."""
    if not is_symbolic(d):
        return d % by == 0
    import sympy

    rest = sympy.Mod(d, by)
    return True if rest == 0 else None


def exact(x: Any) -> Any:
    """A number for exact arithmetic with symbols: a float becomes the rational it equals (0.5 -> 1/2), so a
    dim cast to float and back stays an integer expression."""
    if isinstance(x, (float, np.floating)):
        import sympy

        return sympy.Rational(float(x))
    return x.item() if isinstance(x, np.generic) else x


def quotient(total: Dim, by: Dim) -> Dim:
    """total / by for a reshape's -1 dim: the exact quotient when the form divides (1024·(h+1) / (h+1) is
    1024), else floor(total / by), which equals it wherever the model is valid."""
    if not is_symbolic(total) and not is_symbolic(by):
        return total // by
    import sympy

    exact = sympy.cancel(sympy.Integer(1) * total / by)
    if exact.is_Integer:
        return int(exact)
    symbols = sorted(exact.free_symbols, key=str)
    if exact.is_polynomial(*symbols) and all(c.is_Integer for c in sympy.Poly(exact, *symbols).coeffs()):
        return exact
    return normal(total // by)


def smax(a: Dim, b: Dim) -> Dim:
    """max() of two dims: sympy's Max when the unbound dims decide which is larger."""
    if not is_symbolic(a) and not is_symbolic(b):
        return max(a, b)
    larger = _compare_huge(a, b)
    larger = decide(a >= b) if larger is None else larger
    if larger is None:
        import sympy

        return sympy.Max(a, b)
    return a if larger else b


def smin(a: Dim, b: Dim) -> Dim:
    """min() of two dims, as `smax`."""
    if not is_symbolic(a) and not is_symbolic(b):
        return min(a, b)
    larger = _compare_huge(a, b)
    smaller = decide(a <= b) if larger is None else not larger
    if smaller is None:
        import sympy

        return sympy.Min(a, b)
    return a if smaller else b


@functools.lru_cache(maxsize=1 << 16)
def text(expr: Dim) -> str:
    """An expression as a string `sympy.sympify` parses back, expanded to a sum of monomials. Cached: a model's
    tensors and nodes share a few hundred formulas, and sympy prints nested floors slowly (a second on YOLOv8n)."""
    import sympy

    return str(sympy.expand(expr))


@functools.lru_cache(maxsize=1 << 16)
def show(dim: Dim) -> str:
    """A dim as written in a shape (not expanded); cached like `text`."""
    return str(dim)


def parse(text: str) -> Dim:
    """A formula of this module back into an expression, every name a symbol (even N, S or E, which sympify
    alone would read as sympy's own functions and constants)."""
    import re

    import sympy

    # sympy's own names in a printed formula: functions (named as their classes) and relations (as printed)
    functions = (sympy.floor, sympy.ceiling, sympy.Max, sympy.Min, sympy.Mod, sympy.log, sympy.Piecewise, sympy.And,
                 sympy.Or, sympy.Not)
    printed = {"Eq", "Ne", "Lt", "Gt", "Le", "Ge", "True", "False"}
    names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)) - {f.__name__ for f in functions} - printed
    return sympy.sympify(text, locals={name: sympy.Symbol(name) for name in names})


def evaluate(expr: Dim, values: dict[str, int]) -> int:
    """The value of `expr` with every symbol bound."""
    if not is_symbolic(expr):
        return int(expr)
    return int(expr.subs({s: values[s.name] for s in expr.free_symbols}))


def int_array(values: list[Dim] | tuple[Dim, ...]) -> np.ndarray:
    """Dims as an int64 array, or an object array of ints and expressions when some are symbolic."""
    if any(is_symbolic(v) for v in values):
        out = np.empty(len(values), dtype=object)
        out[:] = [normal(v) for v in values]
        return out
    return np.array(values, dtype=np.int64)


def compare(op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """An element-wise comparison (op: "==", "<", ">", "<=", ">=") of shape values with symbols: a bool array
    where the symbols' positivity settles every element; else an object array whose open elements are the sympy
    relations themselves (batch == 1), which an If turns into a Piecewise cost and every other op drops as a
    symbolic value."""
    import sympy

    relation = {"==": sympy.Eq, "<": sympy.Lt, ">": sympy.Gt, "<=": sympy.Le, ">=": sympy.Ge}[op]
    a, b = np.broadcast_arrays(a, b)
    cells = [relation(x, y) for x, y in zip(a.reshape(-1), b.reshape(-1), strict=True)]
    verdicts = [decide(c) for c in cells]
    if all(v is not None for v in verdicts):
        return np.array(verdicts, dtype=bool).reshape(a.shape)
    out = np.empty(len(cells), dtype=object)
    out[:] = [c if v is None else v for c, v in zip(cells, verdicts, strict=True)]
    return out.reshape(a.shape)


def readable(expr: Dim, limit: int = 4) -> str:
    """A short human formula: the terms of the expanded expression, highest degree first, coefficients in SI
    units ("9.89 K·height·width + 2.1 M·height + …")."""
    import sympy

    from .units import si

    expanded = sympy.expand(parse(expr) if isinstance(expr, str) else expr)

    def degree(term: Any) -> int:
        """How many symbolic factors a term multiplies (floor(h/2)·w counts 2)."""
        return sum(int(e) if (e := f.as_base_exp()[1]).is_Integer else 1
                   for f in sympy.Mul.make_args(term) if f.free_symbols)

    terms = sorted(sympy.Add.make_args(expanded), key=lambda t: (-degree(t), -abs(float(t.as_coeff_Mul()[0]))))
    parts = []
    for term in terms[:limit]:
        coeff, rest = term.as_coeff_Mul()
        factor = "" if rest == 1 else "·".join(str(f) for f in sympy.Mul.make_args(rest))
        number = "" if coeff == 1 and factor else si(int(coeff) if coeff.is_Integer else float(coeff))
        parts.append("·".join(p for p in (number.replace(" ", " "), factor) if p))
    text = " + ".join(parts).replace("+ -", "− ")
    return text + (" + …" if len(terms) > limit else "")
