"""Implicit parameters, as Zygote's ``Params`` and ``Grads``.

A parameter is an ordinary array (an ``ndarray`` subclass) that a model closes over. While
``gradient(f, Params([...]))`` runs, every NumPy operation on a parameter sees a traced
stand-in; outside, the parameter is a plain array and can be updated in place.

>>> import numpy as np
>>> import adcheck as ad
>>> W = ad.param(np.ones((2, 3)))
>>> grads = ad.gradient(lambda: (W @ np.array([1.0, 2.0, 3.0])).sum(), ad.Params([W]))
>>> grads[W]
array([[1., 2., 3.],
       [1., 2., 3.]])
>>> W -= 0.5 * grads[W]
>>> W[0]
array([ 0.5,  0. , -0.5])
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from .errors import NotDifferentiable
from .tracer import active_params

__all__ = ["Param", "param", "Params", "Grads"]


def _plain(a: Any) -> Any:
    if type(a) is Param:
        box = active_params.get(id(a))
        return box if box is not None else np.ndarray.view(a, np.ndarray)
    if type(a) in (list, tuple):
        return type(a)(_plain(b) for b in a)
    return a


class Param(np.ndarray):
    """An array marked as a trainable parameter. Create one with :func:`param`."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out")
        if out is not None:
            for o in out:
                if type(o) is Param and id(o) in active_params:
                    raise NotDifferentiable(
                        "a parameter was written in place while its gradient is being "
                        "recorded; compute a new array instead."
                    )
            kwargs["out"] = tuple(_plain(o) for o in out)
        result = getattr(ufunc, method)(*(_plain(a) for a in inputs), **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return result

    def __array_function__(self, func, types, args, kwargs):
        return func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()})

    def __array_finalize__(self, obj):
        # Any view made of a parameter while it is traced (by an ndarray method this class
        # does not route through NumPy's protocols) would silently be a constant.
        if obj is not None and type(obj) is Param and id(obj) in active_params:
            raise NotDifferentiable(
                "this operation on a parameter is not traced by adcheck; use the NumPy "
                "function form (np.transpose(W), np.reshape(W, s), W @ x) instead."
            )

    def __getitem__(self, key):
        box = active_params.get(id(self))
        if box is not None:
            return box[key]
        return np.ndarray.view(self, np.ndarray)[key]

    def __repr__(self) -> str:
        return f"param({np.array_repr(np.ndarray.view(self, np.ndarray))})"

    __str__ = __repr__

    @property
    def T(self):
        return np.transpose(self)

    def sum(self, *a, **k):
        return np.sum(self, *a, **k)

    def mean(self, *a, **k):
        return np.mean(self, *a, **k)

    def prod(self, *a, **k):
        return np.prod(self, *a, **k)

    def max(self, *a, **k):
        return np.max(self, *a, **k)

    def min(self, *a, **k):
        return np.min(self, *a, **k)

    def dot(self, other):
        return np.dot(self, other)

    def reshape(self, *shape, **k):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return np.reshape(self, shape, **k)

    def transpose(self, *axes):
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = axes[0]
        return np.transpose(self, axes or None)

    def ravel(self, *a, **k):
        return np.ravel(self)

    def flatten(self, *a, **k):
        return np.reshape(self, (-1,))

    def squeeze(self, axis=None):
        return np.squeeze(self, axis)


def _traced_method(name: str) -> Any:
    """An ndarray method of a parameter that, while it is traced, is the traced value's method
    (so W.copy(), W.astype(...), W.cumsum() are recorded or raise, and W.item(), W.tolist(),
    float(W) raise instead of reading the plain numbers)."""
    plain = getattr(np.ndarray, name)

    def method(self, *args, **kwargs):
        box = active_params.get(id(self))
        if box is not None:
            return getattr(box, name)(*args, **kwargs)
        return plain(self, *args, **kwargs)

    method.__name__ = name
    return method


for _name in (
    "all", "any", "argmax", "argmin", "argsort", "astype", "clip", "compress", "conj",
    "conjugate", "copy", "cumprod", "cumsum", "diagonal", "item", "nonzero", "repeat", "round",
    "std", "swapaxes", "take", "tobytes", "tolist", "trace", "var", "view", "__copy__",
    "__float__", "__int__", "__complex__", "__index__",
):
    setattr(Param, _name, _traced_method(_name))


def _flat(self: Param) -> Any:
    if id(self) in active_params:
        raise NotDifferentiable(
            "W.flat reads a parameter's numbers while its gradient is being recorded, which "
            "would make them constants; use np.ravel(W) instead."
        )
    return np.ndarray.flat.__get__(self)


Param.flat = property(_flat)  # type: ignore[assignment]


def param(array: Any) -> Param:
    """Mark ``array`` as a parameter (ints are promoted to float64; floats keep their dtype).

    The result shares memory with ``array`` when it already is a float array.

    >>> p = param([1, 2])
    >>> p.dtype, p.shape
    (dtype('float64'), (2,))
    """
    a = np.asarray(array)
    if a.dtype.kind not in "f":
        if a.dtype.kind in "iub":
            a = a.astype(np.float64)
        else:
            raise TypeError(f"a parameter must hold real numbers, not {a.dtype}")
    return np.ndarray.view(a, Param)


class Params:
    """An ordered collection of parameters to differentiate with respect to.

    >>> W, b = param(np.ones((2, 2))), param(np.zeros(2))
    >>> len(Params([W, b]))
    2
    """

    def __init__(self, params: Iterable[Any]):
        self._params: list[Param] = []
        for p in params:
            if type(p) is not Param:
                raise TypeError(
                    "Params holds arrays made with adcheck.param(...); a plain array's uses "
                    "inside a function cannot be told apart from other arrays. Create it "
                    "as W = adcheck.param(np.random.rand(2, 3))."
                )
            if not any(p is q for q in self._params):
                self._params.append(p)

    def __iter__(self) -> Iterator[Param]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def __repr__(self) -> str:
        arrays = (np.array_repr(np.ndarray.view(p, np.ndarray)) for p in self)
        return "Params([" + ", ".join(arrays) + "])"


class Grads:
    """Gradients indexed by the parameter object: ``grads[W]``.

    >>> W = param(np.ones(2))
    >>> g = Grads({id(W): np.array([1.0, 2.0])}, [W])
    >>> g[W]
    array([1., 2.])
    """

    def __init__(self, by_id: dict[int, Any], params: Iterable[Param]):
        self._by_id = by_id
        self._params = list(params)

    def __getitem__(self, p: Any) -> Any:
        try:
            return self._by_id[id(p)]
        except KeyError:
            raise KeyError(
                "that array is not one of the parameters this gradient was taken for"
            ) from None

    def __contains__(self, p: Any) -> bool:
        return id(p) in self._by_id

    def __iter__(self) -> Iterator[Param]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def items(self):
        return [(p, self._by_id[id(p)]) for p in self._params]

    def __repr__(self) -> str:
        return f"Grads({len(self)} parameters)"
