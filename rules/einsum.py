"""The adjoint of ``np.einsum``, and the contraction pullback the other product rules share.

An Einstein sum multiplies its operands entry by entry over shared labels and sums the labels
the output does not keep. Its pullback for one operand is an Einstein sum too: the *other*
operands and the output cotangent ``dy``, summed down to that operand's labels. Three details
make that exact for every subscript NumPy accepts:

- a label repeated within the operand (``ii``, a diagonal or a trace) is split into distinct
  labels joined by an identity matrix (``i,iI->iI``), since an output cannot repeat a label;
- a label only that operand carries (summed inside it, ``ij->i``) gets a vector of ones, so
  the cotangent is broadcast along it;
- a broadcast axis (an ellipsis axis or a labelled axis of length 1 against a longer one) is
  summed back to the operand's shape by the engine's ``sum_to``.

Because pullbacks are einsums, second derivatives go through this same rule. ``optimize=`` is
passed to NumPy for the value and not needed by the pullbacks.

>>> import numpy as np
>>> import adcheck as ad
>>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> ad.gradient(lambda x: np.einsum("i,ij,j", x, A, x), np.array([1.0, -1.0]))[0]  # (A + A^T) x
array([-3., -3.])
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from adcheck import domains
from adcheck.engine.errors import NotDifferentiable
from adcheck.engine.tape import fit
from adcheck.registry import adjoint, nondifferentiable

from .shape import reject

# NumPy's labels in its own order: sublist integers 0-25 are 'A'-'Z', 26-51 'a'-'z', and an
# implicit output lists its labels in this (ASCII) order.
LETTERS = string.ascii_uppercase + string.ascii_lowercase


def refuse_complex(name: str, value: Any) -> None:
    """Raise :class:`NotDifferentiable` for a complex result (complex support comes later).

    >>> refuse_complex("einsum", np.ones(2))
    >>> refuse_complex("einsum", np.ones(2) * 1j)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    adcheck.engine.errors.NotDifferentiable: np.einsum of complex arrays is not ...
    """
    if np.iscomplexobj(value):
        raise NotDifferentiable(
            f"np.{name} of complex arrays is not differentiable by adcheck yet (complex "
            "numbers are planned); differentiate the real and imaginary parts as separate "
            "real arrays."
        )


def _dtype_of(values: Sequence[Any]) -> np.dtype:
    found = [getattr(v, "dtype", None) for v in values]
    return np.result_type(*[np.result_type(v) if d is None else d for v, d in zip(values, found)])


def contraction_pullback(subscripts: Sequence[str], output: str,
                         operands: Sequence[Any]) -> Callable[[Any, int], Any]:
    """The cotangent of operand ``k`` of ``einsum(subscripts -> output)``, as ``back(dy, k)``.

    ``subscripts`` are explicit labels, one string per operand (no ellipsis); labelled axes
    may broadcast (length 1 against a longer one). The cotangent has the operand's shape and
    dtype.

    >>> x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])
    >>> back = contraction_pullback(["i", "j"], "ij", [x, y])   # the outer product
    >>> back(np.ones((2, 3)), 0), back(np.ones((2, 3)), 1)
    (array([12., 12.]), array([3., 3., 3.]))
    """
    shapes = [np.shape(op) for op in operands]
    sizes: dict[str, int] = {}
    for sub, shape in zip(subscripts, shapes):
        for label, n in zip(sub, shape):
            if n != 1 or label not in sizes:
                sizes[label] = n
    used = set("".join(subscripts)) | set(output)
    spare = [c for c in LETTERS if c not in used]
    dtype = _dtype_of(operands)

    def carried(label: str, k: int) -> bool:
        """Whether the output or another operand has ``label`` at its full length."""
        if label in output:
            return True
        return any(lab == label and n == sizes[label]
                   for j, (sub, shape) in enumerate(zip(subscripts, shapes)) if j != k
                   for lab, n in zip(sub, shape))

    def back(dy: Any, k: int) -> Any:
        subs = [s for j, s in enumerate(subscripts) if j != k] + [output]
        ops = [op for j, op in enumerate(operands) if j != k] + [dy]
        target: list[str] = []
        fresh = iter(spare)
        for label in subscripts[k]:
            if label in target:  # a repeated label: a new one, tied to it by the identity
                new = next(fresh, None)
                if new is None:
                    raise NotDifferentiable(
                        "np.einsum uses too many labels for adcheck's pullback (52 at most, "
                        "counting one more per repeated label); split it into smaller einsums."
                    )
                subs.append(label + new)
                ops.append(np.eye(sizes[label], dtype=dtype))
                target.append(new)
            else:
                target.append(label)
        for label in dict.fromkeys(subscripts[k]):
            if not carried(label, k):  # summed inside this operand only: broadcast dy
                subs.append(label)
                ops.append(np.ones(sizes[label], dtype=dtype))
        g = np.einsum(",".join(subs) + "->" + "".join(target), *ops)
        return fit(g, operands[k])

    return back


# -- the domain: random subscripts -----------------------------------------------------------


def draw_dtype(draw: Any) -> type:
    """float64 or float32, for every operand of one example."""
    from hypothesis import strategies as st

    return draw(st.sampled_from([np.float64, np.float32]))


def draw_operand(draw: Any, shape: tuple, dtype: Any, bound: float = 3.0) -> np.ndarray:
    """An array of ``shape`` and ``dtype`` with entries in ``[-bound, bound]``, no subnormals
    (drawn at the dtype's own width, so a float32 entry is never a rounded float64)."""
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    width = 32 if np.dtype(dtype) == np.float32 else 64
    elements = st.floats(-bound, bound, width=width, allow_subnormal=False)
    return draw(hnp.arrays(dtype, shape, elements=elements))


def _einsum_args(draw: Any) -> tuple[tuple, dict]:
    """One to four operands over up to four labels: repeated labels (diagonals, traces),
    labels summed inside one operand, length-1 labelled axes broadcast, ellipses at any
    place and broadcast, implicit and explicit outputs, both call forms, ``optimize=``."""
    from hypothesis import strategies as st

    labels = "ijkl"[:draw(st.integers(1, 4))]
    size = {c: draw(st.integers(1, 3)) for c in labels}
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    terms, shapes = [], []
    for _ in range(draw(st.integers(1, 4))):
        term = [draw(st.sampled_from(labels)) for _ in range(draw(st.integers(0, 3)))]
        shape = [size[c] if term.count(c) > 1 or draw(st.integers(0, 4)) else 1 for c in term]
        if batch and len(term) < 3 and draw(st.booleans()):
            nb = draw(st.integers(0, min(len(batch), 3 - len(term))))
            ell = [draw(st.sampled_from([s, 1])) for s in batch[len(batch) - nb:]]
            at = draw(st.integers(0, len(term)))
            term = term[:at] + ["..."] + term[at:]
            shape = shape[:at] + ell + shape[at:]
        terms.append(term)
        shapes.append(tuple(shape))
    has_ellipsis = any("..." in t for t in terms)
    out = None
    if draw(st.booleans()):  # an explicit output: some of the labels, in any order
        present = list(dict.fromkeys(c for t in terms for c in t if c != "..."))
        out = list(draw(st.permutations(present)))[:draw(st.integers(0, len(present)))]
        if has_ellipsis:
            out.insert(draw(st.integers(0, len(out))), "...")
    dtype = draw_dtype(draw)
    operands = [draw_operand(draw, shape, dtype) for shape in shapes]
    if draw(st.booleans()):
        args: tuple = (",".join("".join(t) for t in terms)
                       + ("" if out is None else "->" + "".join(out)),) + tuple(operands)
    else:
        def sublist(term: list) -> list:
            return [Ellipsis if c == "..." else LETTERS.index(c) for c in term]

        args = tuple(x for op, t in zip(operands, terms) for x in (op, sublist(t)))
        if out is not None:
            args += (sublist(out),)
    optimize = draw(st.sampled_from([None, False, True, "greedy", "optimal"]))
    return args, ({} if optimize is None else {"optimize": optimize})


# -- reading einsum's arguments --------------------------------------------------------------


def _sublist_text(sublist: Any) -> str:
    return "".join("..." if s is Ellipsis else LETTERS[int(s)] for s in sublist)


def parse_einsum(args: Sequence[Any]) -> tuple[list[str], str, list[int]]:
    """Explicit labels of ``np.einsum(*args)``: per operand, the output, operand positions.

    Both call forms are read (a subscripts string, or operands interleaved with sublists);
    an ellipsis becomes labels of its own, right-aligned as NumPy broadcasts them, and an
    implicit output is made explicit (ellipsis first, then the labels used once, in order).

    >>> parse_einsum(["ij,jk", np.ones((2, 3)), np.ones((3, 4))])
    (['ij', 'jk'], 'ik', [1, 2])
    >>> parse_einsum(["...i,i", np.ones((5, 2, 3)), np.ones(3)])
    (['ABi', 'i'], 'AB', [1, 2])
    >>> parse_einsum([np.ones((2, 2)), [0, 0]])
    (['AA'], '', [0])
    """
    if isinstance(args[0], str):
        spec = args[0].replace(" ", "")
        positions = list(range(1, len(args)))
    else:
        positions = list(range(0, len(args) - 1, 2))
        spec = ",".join(_sublist_text(args[p + 1]) for p in positions)
        if len(args) % 2:
            spec += "->" + _sublist_text(args[-1])
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    used = set(spec) - set(".,->")
    spare = [c for c in LETTERS if c not in used]
    ellipsis_dims = [np.ndim(args[p]) - (len(term) - 3) if "..." in term else 0
                     for term, p in zip(terms, positions)]
    width = max(ellipsis_dims, default=0)
    if width > len(spare):
        raise NotDifferentiable("np.einsum uses too many labels for adcheck's rule (52 at most "
                                "with the ellipsis axes); split it into smaller einsums.")
    batch = "".join(spare[:width])
    explicit = [term.replace("...", batch[width - nd:]) for term, nd in zip(terms, ellipsis_dims)]
    if arrow:
        output = output.replace("...", batch)
    else:
        counts: dict[str, int] = {}
        for term in terms:
            for c in term.replace("...", ""):
                counts[c] = counts.get(c, 0) + 1
        once = sorted(c for c, n in counts.items() if n == 1)
        output = (batch if any("..." in t for t in terms) else "") + "".join(once)
    return explicit, output, positions


def _einsum_spec(*operands, out=None, optimize=False, dtype=None, order="K", casting="safe"):
    reject("einsum", out=out, dtype=dtype)


def _check_reading(subscripts: list[str], output: str, operands: list, value: Any) -> None:
    """The output shape the labels give must be NumPy's: a misread subscript never passes."""
    sizes: dict[str, int] = {}
    for sub, op in zip(subscripts, operands):
        for label, n in zip(sub, np.shape(op)):
            if n != 1 or label not in sizes:
                sizes[label] = n
    if tuple(sizes[c] for c in output) != np.shape(value) or any(
            len(sub) != np.ndim(op) for sub, op in zip(subscripts, operands)):
        raise NotDifferentiable(
            f"adcheck's einsum rule read the subscripts as {','.join(subscripts)}->{output}, "
            f"which does not give NumPy's output shape {np.shape(value)}; this is a bug in "
            "adcheck, please report it with the call."
        )


@adjoint(np.einsum, domain=domains.custom(_einsum_args, "1-4 operands, any subscripts: "
                                          "repeated, summed, broadcast, ellipsis, implicit "
                                          "output, sublists, optimize; float64/32"),
         builtin=True)
def _einsum(*args, **kwargs):
    """Adjoint of ``np.einsum`` for any subscripts: each operand's cotangent is an einsum.

    >>> import adcheck as ad
    >>> ad.gradient(lambda a: np.einsum("ii", a), np.arange(4.0).reshape(2, 2))[0]
    array([[1., 0.],
           [0., 1.]])
    """
    _einsum_spec(*args, **kwargs)
    value = np.einsum(*args, **kwargs)
    refuse_complex("einsum", value)
    subscripts, output, positions = parse_einsum(args)
    operands = [args[p] for p in positions]
    _check_reading(subscripts, output, operands, value)
    back = contraction_pullback(subscripts, output, operands)

    def pullback(dy):
        grads: list[Any] = [None] * len(args)
        for k, p in enumerate(positions):
            grads[p] = lambda k=k: back(dy, k)
        return tuple(grads)

    return value, pullback


# np.einsum_path only plans the order of a contraction: its result carries no derivative.
nondifferentiable(np.einsum_path)
