"""Primitive outputs of every pytree kind, deeply nested traced values, and the exact advice
the engine gives when it refuses something."""

import dataclasses

import numpy as np
import pytest

import adcheck as ad
from adcheck import NotDifferentiable
from adcheck.tree import register_pytree
from tests.finite import central

X = np.array([1.0, 2.0])


# -- primitives returning pytrees: traced leaf by leaf, never a silent constant -------------


@dataclasses.dataclass
class Kelvin:
    value: object


@ad.primitive
def kelvin(t):
    return Kelvin(t)


@ad.primitive
def fields(t):
    return {"sq": t ** 2, "rest": (np.sin(t), "label", 3)}


class Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b


register_pytree(Pair, lambda p: ([p.a, p.b], None), lambda aux, c: Pair(*c))


@ad.primitive
def pair(t):
    return Pair(2.0 * t, np.exp(t))


class Opaque:
    def __init__(self, v):
        self.v = v


@ad.primitive
def opaque(t):
    return Opaque(t)


def _register_rules():
    @ad.adjoint(kelvin)
    def _(t):
        return kelvin(t), lambda d: (d.value,)

    @ad.adjoint(fields)
    def _(t):
        def back(d):
            # the cotangent has the output's structure; unused float leaves are zeros
            assert set(d) == {"sq", "rest"} and len(d["rest"]) == 3
            return (2 * t * d["sq"] + np.cos(t) * d["rest"][0],)

        return fields(t), back

    @ad.adjoint(pair)
    def _(t):
        return pair(t), lambda d: (2.0 * d.a + np.exp(t) * d.b,)

    @ad.adjoint(opaque)
    def _(t):
        return opaque(t), lambda d: (d.v,)


@pytest.mark.parametrize("f, plain", [
    (lambda t: np.sum(kelvin(t).value ** 2), lambda t: np.sum(t ** 2)),
    (lambda t: np.sum(fields(t)["rest"][0] * fields(t)["sq"]),
     lambda t: np.sum(np.sin(t) * t ** 2)),
    (lambda t: np.sum(fields(t)["sq"]), lambda t: np.sum(t ** 2)),
    (lambda t: np.sum(pair(t).a * pair(t).b), lambda t: np.sum(2.0 * t * np.exp(t))),
    (lambda t: np.sum(pair(t).b), lambda t: np.sum(np.exp(t))),
])
def test_primitive_returning_a_pytree_is_traced_leaf_by_leaf(f, plain):
    with ad.scoped_rules():
        _register_rules()
        (g,) = ad.gradient(f, X)
    np.testing.assert_allclose(g, central(plain, X), rtol=1e-7)


def test_primitive_returning_an_unknown_object_with_floats_raises():
    with ad.scoped_rules():
        _register_rules()
        with pytest.raises(NotDifferentiable) as info:
            ad.gradient(lambda t: np.sum(opaque(t).v), X)
    assert str(info.value) == (
        "opaque returned an object of type Opaque, which adcheck does not know how to "
        "trace: it holds float arrays whose derivative would be silently dropped. Make it "
        "a pytree (a dataclass, or register it with adcheck.tree.register_pytree), or "
        "return its arrays in a tuple or dict."
    )


# -- traced values nested deeper than the engine looks: raise, never recurse -----------------

NESTED = (
    "got a traced value nested in a list inside a list (or deeper), where adcheck does not "
    "look for traced values, so its derivative would be lost. "
)


def test_np_block_with_traced_values_names_the_tracing_helper():
    with pytest.raises(NotDifferentiable) as info:
        ad.gradient(lambda x: np.block([[x, x]]).sum(), X)
    assert str(info.value) == (
        "np.block " + NESTED + "Use adcheck.numpy.block instead, which traces them."
    )
    # and the helper it names gives the right gradient
    (g,) = ad.gradient(lambda x: (ad.numpy.block([[x, x ** 2]]) ** 2).sum(), X)
    np.testing.assert_allclose(g, central(lambda x: np.sum(x ** 2 + x ** 4), X), rtol=1e-7)


def test_traced_value_two_lists_deep_next_to_a_traced_argument_raises():
    with pytest.raises(NotDifferentiable) as info:
        ad.gradient(lambda x: np.stack([x, [x[0], x[1]]]).sum(), X)
    assert str(info.value).startswith("np.stack " + NESTED + "Pass the traced values")


# -- messages: what the user reads says exactly what to do ------------------------------------


def _message(f, x=None):
    with pytest.raises(NotDifferentiable) as info:
        ad.gradient(f, np.arange(1.0, 7.0) if x is None else x)
    return str(info.value)


def test_scipy_ufuncs_are_labelled_by_their_module():
    import scipy.special as special

    from adcheck.registry import function_label

    assert [function_label(f) for f in (special.erfcx, special.entr, special.i0e,
                                        special.logsumexp, np.sin, np.add)] == [
        "scipy.special.erfcx", "scipy.special.entr", "scipy.special.i0e",
        "scipy.special.logsumexp", "np.sin", "np.add"]
    # the advice names the ufunc as user code can import it, and that advice works
    with ad.scoped_rules():
        ad.adjoint(special.erfcx)(lambda x: (special.erfcx(x), lambda dy: (dy,)))
        assert ad.gradient(lambda x: special.erfcx(x).sum(), X)[0].tolist() == [1.0, 1.0]
    missing = [f for f in (special.erfcx, special.entr, special.i0e, special.kl_div,
                           special.boxcox, special.rel_entr) if ad.registry.lookup(f) is None]
    for f in missing[:1]:
        args = (X,) * f.nin
        text = _message(lambda x, f=f: f(*(x,) * f.nin).sum(), *args[:1])
        assert text.startswith(f"scipy.special.{f.__name__} has no adjoint rule")
        assert f"@adcheck.adjoint(scipy.special.{f.__name__})" in text


ARRAY_MESSAGE = (
    "a traced value was converted to a plain NumPy array (np.asarray, np.array, np.r_/np.c_, "
    "np.full, or assignment into an array), which would drop it from the tape and give a "
    "wrong gradient. Build arrays from traced values with np.stack / np.concatenate, or the "
    "helpers in adcheck.numpy: array([...]) for np.array, block for np.block, r_[...] / "
    "c_[...] for np.r_ / np.c_, full / full_like for np.full / np.full_like, set_at / add_at "
    "for x[i] = v / x[i] += v; for a function NumPy cannot trace, make it a primitive with "
    "@adcheck.primitive and register an adjoint."
)


def test_conversion_to_a_plain_array_says_what_to_use_and_where():
    text = _message(lambda x: np.asarray(x).sum())
    line = test_conversion_to_a_plain_array_says_what_to_use_and_where.__code__.co_firstlineno
    assert text == (ARRAY_MESSAGE + f"\n  at {__file__}:{line + 1}: "
                    "text = _message(lambda x: np.asarray(x).sum())")


@pytest.mark.parametrize("name, alternative", [
    ("logsumexp", "adcheck.rules.special.logsumexp"),
    ("polygamma", "adcheck.rules.special.polygamma"),
    ("softmax", "np.exp(x - adcheck.rules.special.logsumexp(x, axis, keepdims=True))"),
])
def test_scipy_functions_that_convert_point_at_the_replacement(name, alternative):
    import scipy.special as special
    fn = getattr(special, name)
    f = (lambda x: fn(1, x).sum()) if name == "polygamma" else (lambda x: np.sum(fn(x)))
    text = _message(f)
    assert text.startswith(ARRAY_MESSAGE + f" scipy.special.{name} converts its input: use "
                           f"{alternative} instead.\n  at {__file__}:")
    if name == "logsumexp":  # the replacement it names is right
        (g,) = ad.gradient(lambda x: ad.rules.special.logsumexp(x), X)
        np.testing.assert_allclose(g, central(lambda x: np.log(np.sum(np.exp(x))), X),
                                   rtol=1e-7)


def _acc(x):
    acc = np.zeros(6)
    acc += x
    return acc.sum()


def _clip(x):
    y = x * 1.0
    np.clip(y, -1, 1, out=y)
    return y.sum()


def _reshape_in_place(x):
    y = x * 1.0
    y.shape = (3, 2)
    return y.sum()


def _flat_write(x):
    x.flat[2] = 1.0
    return x.sum()


def _copyto(x):
    a = np.zeros(6)
    np.copyto(a, x[0])
    return a.sum()


@pytest.mark.parametrize("f, expected", [
    (_acc, "acc += y with a traced y writes it into the plain NumPy array acc in place, "
           "which the tape cannot record (acc would hold a constant). Write acc = acc + y "
           "instead."),
    (lambda x: np.multiply(x, 2.0, out=np.zeros(6)).sum(),
     "np.multiply(..., out=...) writes into an array, which the tape cannot record: out= is "
     "not supported by adcheck. Assign the result instead: y = np.multiply(...) without out=."),
    (_clip, "np.clip(..., out=...) writes into an array, which the tape cannot record: out= "
            "is not supported by adcheck. Assign the result instead: y = np.clip(...) without "
            "out=."),
    (_reshape_in_place, "x.shape = ... reshapes an array in place, which the tape cannot "
                        "record; use x = np.reshape(x, shape) instead."),
    (_flat_write, "x.flat[i] = v writes into a traced array, which the tape cannot record; "
                  "write it as a new array: x = np.reshape(adcheck.numpy.set_at(x.ravel(), i, "
                  "v), x.shape)."),
    (lambda x: x.sort(), "x.sort(...) changes an array in place, which the tape cannot "
                         "record; use y = np.sort(x)."),
    (lambda x: x.partition(2), "x.partition(...) changes an array in place, which the tape "
                               "cannot record; use y = np.partition(x, k)."),
    (lambda x: x.fill(2.0), "x.fill(...) changes an array in place, which the tape cannot "
                            "record; use adcheck.numpy.full_like(x, v)."),
    (_copyto, "np.copyto writes a traced value into an array, which the tape cannot record. "
              "Build the array instead: adcheck.numpy.full_like(x, v) or "
              "adcheck.numpy.full(shape, v) for a filled one, adcheck.numpy.set_at(a, i, v) "
              "for some entries."),
])
def test_in_place_writes_get_the_exact_advice(f, expected):
    assert _message(f) == expected


def test_flat_reads_are_the_ravelled_array():
    x = np.arange(1.0, 7.0).reshape(2, 3)
    (g,) = ad.gradient(lambda x: x.flat[2] * x.flat[4] + sum(x.flat), x)
    np.testing.assert_allclose(
        g, central(lambda x: x.ravel()[2] * x.ravel()[4] + x.sum(), x), rtol=1e-7)


def test_ufunc_method_without_rule_says_to_write_a_primitive():
    methods = [(np.subtract, "accumulate"), (np.add, "reduceat"), (np.subtract, "reduceat"),
               (np.divide, "accumulate")]
    ufunc, method = next((u, m) for u, m in methods
                         if ad.registry.lookup(getattr(u, m)) is None)
    n = f"{ufunc.__name__}_{method}"
    args = (X, [0]) if method == "reduceat" else (X,)
    with pytest.raises(NotDifferentiable) as info:
        ad.gradient(lambda x: getattr(ufunc, method)(x, *args[1:]).sum(), X)
    assert str(info.value) == (
        f"np.{ufunc.__name__}.{method} is not differentiable by adcheck, and a ufunc method "
        "cannot have an adjoint of its own. Write a primitive that computes it and register "
        "its adjoint:\n"
        "    @adcheck.primitive\n"
        f"    def {n}(*args):\n"
        f"        return np.{ufunc.__name__}.{method}(*args)\n"
        f"    @adcheck.adjoint({n})\n"
        "    def _(*args):\n"
        f"        return {n}(*args), lambda dy: (...one cotangent per positional argument...)"
    )


# -- keywords of generalized ufuncs reach their rules -----------------------------------------

A = np.arange(1.0, 7.0).reshape(3, 2)
B = np.linspace(-1.0, 1.0, 6).reshape(3, 2)


def test_vecdot_with_axis_is_differentiated():
    def f(a):
        return np.sum(np.vecdot(a, B, axis=0) ** 2)

    (g,) = ad.gradient(f, A)
    np.testing.assert_allclose(g, central(f, A), rtol=1e-7)
    (g,) = ad.gradient(lambda b: np.sum(np.vecdot(A, b, axis=0) ** 2), B)
    np.testing.assert_allclose(
        g, central(lambda b: np.sum(np.vecdot(A, b, axis=0) ** 2), B), rtol=1e-7)


def test_gufunc_keyword_its_rule_does_not_take_raises_clearly():
    def f(a):
        return np.matmul(a, B.T, axes=[(0, 1), (0, 1), (0, 1)]).sum()

    if ad.registry.lookup(np.matmul) is None or "axes" in str(
            __import__("inspect").signature(ad.registry.lookup(np.matmul).rule)):
        (g,) = ad.gradient(f, A)  # someone taught the rule axes=: then it must be right
        np.testing.assert_allclose(g, central(f, A), rtol=1e-7)
        return
    with pytest.raises(NotDifferentiable) as info:
        ad.gradient(f, A)
    assert str(info.value) == (
        "np.matmul with axes= is not differentiable by adcheck: np.matmul has an adjoint "
        "rule without axes=. Move the axes with np.moveaxis so that the defaults apply, or "
        "register an adjoint for np.matmul that takes axes= (@adcheck.adjoint(np.matmul))."
    )
