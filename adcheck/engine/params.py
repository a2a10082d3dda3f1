"""Implicit parameters, as Zygote's ``Params`` and ``Grads``.

A parameter is an array that a model closes over. While ``gradient(f, Params([...]))`` runs,
every NumPy operation on a parameter sees a traced stand-in (and anything that would read its
plain numbers raises); outside, the parameter behaves as its array and can be updated in place.

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
from .tracer import current_params

__all__ = ["Param", "param", "Params", "Grads"]


def _plain(a: Any) -> Any:
    """A parameter's traced stand-in while its gradient is recorded, else its array."""
    if type(a) is Param:
        box = current_params().get(id(a))
        return box if box is not None else a._data
    if type(a) in (list, tuple):
        return type(a)(_plain(b) for b in a)
    return a


class Param:
    """An array marked as a trainable parameter. Create one with :func:`param`.

    A parameter wraps its array rather than subclassing ``ndarray``: NumPy turns an ndarray
    subclass into a plain array in C (``np.asarray(W)``) without asking it, which would make
    a parameter a constant without a word. A wrapper is asked every time (through
    ``__array__`` and NumPy's protocols), so while its gradient is recorded every use is
    either traced or refused.

    >>> W = param(np.ones((2, 2)))
    >>> W.shape, float((W @ np.ones(2)).sum())
    ((2, 2), 4.0)
    """

    __slots__ = ("_data", "__weakref__")
    __array_priority__ = 200.0

    def __init__(self, data: np.ndarray):
        self._data = data

    # -- NumPy's protocols: the traced stand-in while recorded, the array otherwise ----------

    def __array__(self, dtype=None, copy=None):
        if id(self) in current_params():
            raise NotDifferentiable(
                "np.asarray / np.array of a parameter while its gradient is being recorded "
                "would make it a constant; use the parameter itself in NumPy operations."
            )
        if dtype is not None and np.dtype(dtype) != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out")
        if out is not None:
            for o in out:
                if type(o) is Param and id(o) in current_params():
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

    # -- everything else an array does, on the stand-in or the array --------------------------

    def __getattr__(self, name: str) -> Any:
        if name == "flat" and id(self) in current_params():
            raise NotDifferentiable(
                "W.flat reads a parameter's numbers while its gradient is being recorded, "
                "which would make them constants; use np.ravel(W) instead."
            )
        return getattr(_plain(self), name)

    def __getitem__(self, key):
        return _plain(self)[key]

    def __setitem__(self, key, value):
        if id(self) in current_params():
            raise NotDifferentiable(
                "a parameter was written into while its gradient is being recorded; compute a "
                "new array instead (adcheck.numpy.set_at)."
            )
        self._data[key] = _plain(value)

    def __len__(self) -> int:
        return len(_plain(self))

    def __iter__(self):
        return iter(_plain(self))

    def __bool__(self) -> bool:
        return bool(_plain(self))

    def __float__(self) -> float:
        return float(_plain(self))

    def __int__(self) -> int:
        return int(_plain(self))

    def __index__(self) -> int:
        return _plain(self).__index__()

    def __complex__(self) -> complex:
        return complex(_plain(self))

    def __copy__(self):
        box = current_params().get(id(self))
        return box.copy() if box is not None else Param(self._data.copy())

    def __deepcopy__(self, memo):
        return self.__copy__()

    def __repr__(self) -> str:
        return f"param({np.array_repr(self._data)})"

    __str__ = __repr__
    __hash__ = object.__hash__  # parameters are told apart by identity, as Zygote's Params


def _operator(ufunc: np.ufunc, reflected: bool = False) -> Any:
    if reflected:
        return lambda self, other: ufunc(other, self)
    return lambda self, other: ufunc(self, other)


def _in_place(ufunc: np.ufunc) -> Any:
    # W -= g updates the parameter's array (the seed's update step); NumPy's fallback would
    # rebind W to a new plain array instead.
    return lambda self, other: ufunc(self, other, out=(self,))


for _name, _ufunc in (
    ("add", np.add), ("sub", np.subtract), ("mul", np.multiply), ("truediv", np.true_divide),
    ("floordiv", np.floor_divide), ("mod", np.remainder), ("pow", np.power),
    ("matmul", np.matmul),
):
    setattr(Param, f"__{_name}__", _operator(_ufunc))
    setattr(Param, f"__r{_name}__", _operator(_ufunc, reflected=True))
    setattr(Param, f"__i{_name}__", _in_place(_ufunc))
for _name, _ufunc in (
    ("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
    ("gt", np.greater), ("ge", np.greater_equal),
):
    setattr(Param, f"__{_name}__", _operator(_ufunc))
Param.__neg__ = lambda self: np.negative(self)  # type: ignore[method-assign]
Param.__pos__ = lambda self: np.positive(self)  # type: ignore[method-assign]
Param.__abs__ = lambda self: np.absolute(self)  # type: ignore[method-assign]


def param(array: Any) -> Param:
    """Mark ``array`` as a parameter (ints are promoted to float64; floats keep their dtype).

    The parameter shares memory with ``array`` when it already is a float array; ``W -= g``
    updates that memory in place.

    >>> p = param([1, 2])
    >>> p.dtype, p.shape
    (dtype('float64'), (2,))
    """
    if type(array) is Param:
        return array
    a = np.asarray(array)
    if a.dtype.kind not in "f":
        if a.dtype.kind in "iub":
            a = a.astype(np.float64)
        else:
            raise TypeError(f"a parameter must hold real numbers, not {a.dtype}")
    return Param(a)


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
        arrays = (np.array_repr(p._data) for p in self)
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
