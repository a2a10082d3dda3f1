"""Pytrees: nested containers of arrays, flattened to a list of leaves and rebuilt.

Tuples, lists, dicts, namedtuples and dataclasses are containers out of the box; any other
type can be made one with :func:`register_pytree`. Everything else (arrays, floats, ints,
``None``, strings) is a leaf.

>>> leaves, spec = flatten({"w": [1.0, 2.0], "b": (3.0,)})
>>> leaves
[1.0, 2.0, 3.0]
>>> unflatten(spec, [10.0, 20.0, 30.0])
{'w': [10.0, 20.0], 'b': (30.0,)}
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

__all__ = [
    "TreeSpec", "flatten", "unflatten", "leaf_paths", "map_leaves", "rebuild_sequence",
    "register_pytree", "is_container",
]

# type -> (to_children(obj) -> (children, aux), from_children(aux, children) -> obj)
_REGISTRY: dict[type, tuple[Callable, Callable]] = {}


def register_pytree(
    cls: type,
    to_children: Callable[[Any], tuple[list, Any]],
    from_children: Callable[[Any, list], Any],
) -> None:
    """Make ``cls`` a pytree container.

    ``to_children(obj)`` returns ``(children, aux)``; ``from_children(aux, children)`` rebuilds.

    >>> class Pair:
    ...     def __init__(self, a, b):
    ...         self.a, self.b = a, b
    >>> register_pytree(Pair, lambda p: ([p.a, p.b], None), lambda aux, c: Pair(*c))
    >>> flatten(Pair(1.0, 2.0))[0]
    [1.0, 2.0]
    """
    _REGISTRY[cls] = (to_children, from_children)


class TreeSpec:
    """The shape of a pytree without its leaves; ``unflatten`` fills it again."""

    __slots__ = ("kind", "aux", "children", "num_leaves")

    def __init__(self, kind: Any, aux: Any, children: list[TreeSpec]):
        self.kind = kind
        self.aux = aux
        self.children = children
        self.num_leaves = 1 if kind is None else sum(c.num_leaves for c in children)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TreeSpec)
            and self.kind == other.kind
            and self.aux == other.aux
            and self.children == other.children
        )

    def __hash__(self) -> int:
        return hash((self.kind, len(self.children)))

    def __repr__(self) -> str:
        if self.kind is None:
            return "*"
        name = getattr(self.kind, "__name__", str(self.kind))
        return f"{name}({', '.join(map(repr, self.children))})"


_LEAF = TreeSpec(None, None, [])


def _is_namedtuple(obj: Any) -> bool:
    return isinstance(obj, tuple) and hasattr(type(obj), "_fields")


def is_container(obj: Any) -> bool:
    """True when ``obj`` is a pytree node (not a leaf).

    >>> is_container((1.0,)), is_container(1.0)
    (True, False)
    """
    t = type(obj)
    return (
        t in _REGISTRY
        or t in (tuple, list, dict)
        or _is_namedtuple(obj)
        or (dataclasses.is_dataclass(obj) and not isinstance(obj, type))
    )


def _children(obj: Any) -> tuple[Any, Any, list] | None:
    """(kind, aux, children) for a container, None for a leaf."""
    t = type(obj)
    if t is tuple or t is list:
        return t, None, list(obj)
    if t is dict:
        keys = list(obj.keys())
        return dict, tuple(keys), [obj[k] for k in keys]
    if t in _REGISTRY:
        children, aux = _REGISTRY[t][0](obj)
        return t, aux, list(children)
    if _is_namedtuple(obj):
        return t, None, list(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        names = tuple(f.name for f in dataclasses.fields(obj))
        return t, names, [getattr(obj, n) for n in names]
    return None


def flatten(tree: Any) -> tuple[list, TreeSpec]:
    """Leaves of ``tree`` in a fixed order, and the spec to rebuild it.

    >>> flatten([1.0, (2.0, 3.0)])[0]
    [1.0, 2.0, 3.0]
    """
    leaves: list = []
    spec = _flatten_into(tree, leaves)
    return leaves, spec


def _flatten_into(tree: Any, leaves: list) -> TreeSpec:
    node = _children(tree)
    if node is None:
        leaves.append(tree)
        return _LEAF
    kind, aux, children = node
    return TreeSpec(kind, aux, [_flatten_into(c, leaves) for c in children])


def unflatten(spec: TreeSpec, leaves: list) -> Any:
    """Rebuild a pytree of shape ``spec`` from ``leaves``.

    >>> leaves, spec = flatten((1.0, [2.0]))
    >>> unflatten(spec, [5.0, 6.0])
    (5.0, [6.0])
    """
    if len(leaves) != spec.num_leaves:
        raise ValueError(f"expected {spec.num_leaves} leaves for {spec!r}, got {len(leaves)}")
    it = iter(leaves)
    return _build(spec, it)


def rebuild_sequence(kind: type, items: list) -> Any:
    """A tuple, list or namedtuple of type ``kind`` holding ``items``.

    >>> rebuild_sequence(tuple, [1, 2]), rebuild_sequence(list, [1])
    ((1, 2), [1])
    """
    if issubclass(kind, tuple) and hasattr(kind, "_fields"):
        return kind(*items)
    return kind(items)


def _build(spec: TreeSpec, it) -> Any:
    if spec.kind is None:
        return next(it)
    children = [_build(c, it) for c in spec.children]
    kind = spec.kind
    if kind is tuple or kind is list:
        return kind(children)
    if kind is dict:
        return dict(zip(spec.aux, children))
    if kind in _REGISTRY:
        return _REGISTRY[kind][1](spec.aux, children)
    if issubclass(kind, tuple):  # namedtuple
        return rebuild_sequence(kind, children)
    # dataclass: build without running __init__ side effects twice
    obj = object.__new__(kind)
    for name, value in zip(spec.aux, children):
        object.__setattr__(obj, name, value)
    return obj


def leaf_paths(tree: Any, prefix: str = "") -> list[str]:
    """A readable path for every leaf, in :func:`flatten` order.

    >>> leaf_paths({"w": [1.0, 2.0], "b": 3.0}, "params")
    ["params['w'][0]", "params['w'][1]", "params['b']"]
    """
    node = _children(tree)
    if node is None:
        return [prefix]
    kind, aux, children = node
    if kind is dict:
        labels = [f"[{k!r}]" for k in aux]
    elif kind not in _REGISTRY and dataclasses.is_dataclass(kind):
        labels = [f".{name}" for name in aux]
    elif isinstance(kind, type) and issubclass(kind, tuple) and hasattr(kind, "_fields"):
        labels = [f".{name}" for name in kind._fields]
    else:
        labels = [f"[{i}]" for i in range(len(children))]
    out: list[str] = []
    for label, child in zip(labels, children):
        out.extend(leaf_paths(child, prefix + label))
    return out


def map_leaves(fn: Callable[..., Any], tree: Any, *rest: Any) -> Any:
    """Apply ``fn`` leaf by leaf to one or more pytrees of the same shape.

    >>> map_leaves(lambda a, b: a + b, (1.0, [2.0]), (10.0, [20.0]))
    (11.0, [22.0])
    """
    leaves, spec = flatten(tree)
    others = []
    for r in rest:
        r_leaves, r_spec = flatten(r)
        if r_spec != spec:
            raise ValueError(f"pytree structures differ: {spec!r} vs {r_spec!r}")
        others.append(r_leaves)
    return unflatten(spec, [fn(*xs) for xs in zip(leaves, *others)])
