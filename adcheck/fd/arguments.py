"""Pytrees of arguments and outputs seen as flat float vectors.

Finite differences move one coordinate (or one direction) of the inputs at a time and read
all outputs as one vector. :class:`FlatArgs` turns ``f``'s positional arguments into a
vector ``x`` and builds fresh arguments at ``x + delta``; :class:`FlatOutput` reads ``f``'s
result, whatever pytree it is, as a vector, and rebuilds that pytree from a vector.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tree import TreeSpec, flatten, is_container, unflatten
from .evaluation import real_output, unit_roundoff

__all__ = ["FlatArgs", "FlatOutput"]


class FlatArgs:
    """The leaves of ``args`` (a tuple of positional arguments) as one float vector.

    Integer leaves become float64; float32 leaves stay float32. The leaves are copied, so
    later changes to the caller's arrays do not matter, and every call of
    :meth:`args_at` or :meth:`batch_at` builds new arrays, so ``f`` may even write to them.

    >>> flat = FlatArgs(({"a": 1, "b": np.zeros(2, np.float32)},))
    >>> flat.x.tolist(), [a.dtype.name for a in flat.leaves]
    ([1.0, 0.0, 0.0], ['float64', 'float32'])
    >>> flat.args_at(np.array([0.5, 0.0, 2.0]))
    ({'a': 1.5, 'b': array([0., 2.], dtype=float32)},)
    """

    def __init__(self, args: tuple) -> None:
        leaves, self.spec = flatten(tuple(args))
        self.leaves = [_float_leaf(leaf, i) for i, leaf in enumerate(leaves)]
        # Python numbers are given back to f as Python floats, NumPy scalars as NumPy scalars.
        self.kinds = [_kind(leaf) for leaf in leaves]
        sizes = [leaf.size for leaf in self.leaves]
        self.bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.size = int(self.bounds[-1])
        self.x = np.concatenate([leaf.ravel() for leaf in self.leaves] + [np.zeros(0)]).astype(
            np.float64
        )
        self.dtypes = [leaf.dtype for leaf in self.leaves]
        self.coordinate_eps = np.concatenate(
            [np.full(n, unit_roundoff(d)) for n, d in zip(sizes, self.dtypes, strict=True)]
            + [np.zeros(0)]
        )
        # The smallest change of each coordinate that its own dtype can represent.
        self.coordinate_ulp = np.concatenate(
            [np.spacing(np.abs(leaf.ravel())).astype(np.float64) for leaf in self.leaves]
            + [np.zeros(0)]
        )

    def split(self, flat: np.ndarray) -> list[np.ndarray]:
        """Cut the last axis of ``flat`` into one piece per leaf, shaped like the leaf."""
        lead = flat.shape[:-1]
        return [
            flat[..., lo:hi].reshape(lead + leaf.shape)
            for lo, hi, leaf in zip(self.bounds[:-1], self.bounds[1:], self.leaves, strict=True)
        ]

    def describe(self, coordinate: int) -> str:
        """Where flat coordinate ``coordinate`` lives, in the caller's terms.

        >>> FlatArgs((1.0, np.zeros((2, 2)))).describe(4)
        'argument leaf 1 at index (1, 1)'
        """
        leaf = int(np.searchsorted(self.bounds, coordinate, side="right")) - 1
        index = np.unravel_index(coordinate - self.bounds[leaf], self.leaves[leaf].shape)
        where = f" at index {tuple(int(i) for i in index)}" if index else ""
        return f"argument leaf {leaf}{where}"

    def rebuild(self, vector: np.ndarray) -> Any:
        """A flat float64 vector as a pytree shaped like ``args`` (0-d leaves as floats)."""
        pieces = self.split(vector)
        leaves = [
            float(p) if kind is not None else p for p, kind in zip(pieces, self.kinds, strict=True)
        ]
        return unflatten(self.spec, leaves)

    def args_at(self, delta: np.ndarray) -> tuple:
        """New arguments at ``x + delta``, the sum taken in each leaf's own dtype."""
        leaves = []
        for leaf, kind, piece in zip(self.leaves, self.kinds, self.split(delta), strict=True):
            moved = leaf.copy()  # in place on a copy: a 0-d array stays an array
            moved += piece.astype(leaf.dtype)
            leaves.append(moved if kind is None else kind(moved))
        return unflatten(self.spec, leaves)

    def batch_at(self, deltas: np.ndarray) -> tuple:
        """Arguments for ``B`` points at once: every leaf gets a leading axis of size ``B``."""
        pieces = self.split(deltas)
        leaves = [
            leaf[None] + piece.astype(leaf.dtype)
            for leaf, piece in zip(self.leaves, pieces, strict=True)
        ]
        return unflatten(self.spec, leaves)


class FlatOutput:
    """The layout of ``f``'s result: read results as vectors and rebuild them.

    A single array (or number) keeps its shape, ``shape``; any other pytree is read as the
    concatenation of its raveled leaves and has ``shape == (size,)``.

    >>> out = FlatOutput({"u": np.ones(2), "v": 3.0})
    >>> out.shape, out.read({"u": np.array([1.0, 2.0]), "v": 3.0}).tolist()
    ((3,), [1.0, 2.0, 3.0])
    >>> out.rebuild(np.array([4.0, 5.0, 6.0]))
    {'u': array([4., 5.]), 'v': 6.0}
    """

    def __init__(self, y: Any, batch: int | None = None) -> None:
        self.spec: TreeSpec | None = None
        leaves = [y]
        if is_container(y):
            leaves, self.spec = flatten(y)
        arrays = [real_output(leaf) for leaf in leaves]
        self.dtype_eps = unit_roundoff(*[np.asarray(leaf).dtype for leaf in leaves])
        if batch is not None:
            _check_batch(arrays, batch)
            arrays = [a[0] for a in arrays]
        self.leaf_shapes = [a.shape for a in arrays]
        self.size = int(sum(a.size for a in arrays))
        self.shape = self.leaf_shapes[0] if self.spec is None else (self.size,)

    def read(self, y: Any, what: str = "f's output at a stencil point") -> np.ndarray:
        """``y`` (one result of ``f``) as a new float64 vector of length ``size``."""
        return self.read_batch(y, None, what)[0]

    def read_batch(
        self, y: Any, batch: int | None, what: str = "f's output at a stencil point"
    ) -> np.ndarray:
        """A batched result (every leaf with a leading axis ``batch``) as ``(batch, size)``."""
        leaves = self._leaves(y, what)
        arrays = [real_output(leaf) for leaf in leaves]
        if batch is None:
            arrays = [a[None] for a in arrays]
        else:
            _check_batch(arrays, batch)
        shapes = [a.shape[1:] for a in arrays]
        if shapes != self.leaf_shapes:
            raise ValueError(
                f"{what} has leaf shapes {shapes}, but f's output at the point of "
                f"differentiation has {self.leaf_shapes}"
            )
        rows = arrays[0].shape[0]
        return np.concatenate([a.reshape(rows, -1) for a in arrays] + [np.zeros((rows, 0))], 1)

    def rebuild(self, vector: np.ndarray) -> Any:
        """The vector as a result of ``f``: same pytree, same leaf shapes."""
        bounds = np.cumsum([0] + [int(np.prod(s)) for s in self.leaf_shapes])
        leaves: list[Any] = [
            vector[lo:hi].reshape(shape)
            for lo, hi, shape in zip(bounds[:-1], bounds[1:], self.leaf_shapes, strict=True)
        ]
        leaves = [float(a) if a.ndim == 0 else a for a in leaves]
        return leaves[0] if self.spec is None else unflatten(self.spec, leaves)

    def _leaves(self, y: Any, what: str) -> list:
        if self.spec is None:
            if is_container(y):
                raise ValueError(f"{what} is a pytree, but f's output is a single array")
            return [y]
        leaves, spec = flatten(y)
        if spec != self.spec:
            raise ValueError(f"{what} has structure {spec!r}, but f's output has {self.spec!r}")
        return leaves


def _check_batch(arrays: list[np.ndarray], batch: int) -> None:
    for a in arrays:
        if a.ndim == 0 or a.shape[0] != batch:
            raise ValueError(
                f"with vectorized=True, f must return every output with a leading batch axis "
                f"of size {batch} (one row per input point), got shape {a.shape}"
            )


def _float_leaf(leaf: Any, index: int) -> np.ndarray:
    """A float copy of one argument leaf, or a TypeError saying why it cannot be one."""
    what = f"argument leaf {index} ({type(leaf).__name__})"
    if leaf is None or isinstance(leaf, (str, bytes)):
        raise TypeError(f"{what} is not a number: only floats and numeric arrays can be moved")
    arr = np.asarray(leaf)
    if arr.dtype == bool:
        raise TypeError(f"{what} is boolean: finite differences need real numbers")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{what} is complex: pass real and imaginary parts as separate floats")
    if np.issubdtype(arr.dtype, np.floating):
        return arr.copy()
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.float64)
    raise TypeError(f"{what} is not numeric (dtype {arr.dtype})")


def _kind(leaf: Any):
    """How to hand a moved 0-d leaf back to ``f``: as a Python float, a NumPy scalar, or as is."""
    if isinstance(leaf, np.ndarray):
        return None
    if isinstance(leaf, np.generic) and np.issubdtype(leaf.dtype, np.floating):
        return lambda a: a.dtype.type(a)
    return lambda a: float(a)
