"""Reports name a rule's inputs by its own parameter names, never confusable with the output."""

from __future__ import annotations

import numpy as np

import adcheck as ad


def test_a_transposed_matvec_names_the_rules_own_arguments():
    with ad.scoped_rules():
        @ad.primitive
        def matvec(A, x):
            return A @ x

        @ad.adjoint(matvec)
        def _(A, x):
            return A @ x, lambda dy: (np.outer(dy, x), A @ dy)  # should be A.T @ dy

        r = ad.check_adjoint(matvec, np.array([[1.0, 0.0], [1.0, 1.0]]), np.zeros(2), seed=0,
                             raise_exception=False)
    paths = {f.path for f in r.failures if f.kind == "value"}
    assert paths == {"x[0]", "x[1]"}, r.report()
    assert "∂y[1]/∂x[0]: adjoint gives 0, finite differences 1" in r.report()


def test_an_input_called_y_does_not_collide_with_the_output():
    with ad.scoped_rules():
        @ad.primitive
        def scale(x, y):
            return x * y

        @ad.adjoint(scale)
        def _(x, y):
            return x * y, lambda dy: (dy * y, dy * y)  # second should be dy * x

        r = ad.check_adjoint(scale, np.array([1.0, 2.0]), np.array([3.0, 5.0]), seed=0,
                             raise_exception=False)
    assert "∂out[0]/∂y[0]" in r.report()
    assert {f.argument for f in r.failures if f.kind == "value"} == {1}
