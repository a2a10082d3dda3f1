"""Everyday NumPy differentiation snippets, each a scalar function of plain arrays.

``SNIPPETS`` maps a name to ``(f, args)``; ``tests/integration/test_typical_code.py`` runs the
representative ones against independent central differences (``tests/finite.py``), and
``python -m tests.integration.snippets`` runs them all and sorts each into pass /
NotDifferentiable / other error / wrong number.
"""

from collections import namedtuple

import numpy as np
import scipy.linalg
import scipy.special as sp

_NT = namedtuple("_NT", "w b")

R = np.random.default_rng(0)
V = R.normal(size=4)  # a vector
M = R.normal(size=(3, 4))  # a matrix
S = R.normal(size=(3, 3))  # a square matrix
SPD = S @ S.T + 3 * np.eye(3)  # symmetric positive definite
T3 = R.normal(size=(2, 3, 4))  # a 3-d array
P = np.abs(V) + 0.5  # positive entries
U = np.array([0.2, 0.45, 0.7, 0.9])  # in (0, 1)
DIST = np.array([0.3, -1.1, 2.2, 0.7])  # distinct, no ties
IDX = np.array([2, 0, 3, 0])
_RANK2 = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0], [1.5, 1.0, 5.0]])  # row 3 = row 1 + row 2

SNIPPETS = {
    # -- reductions with axis / keepdims
    "sum_axis0": (lambda x: np.sum(np.sin(x).sum(axis=0) ** 2), (M,)),
    "sum_axis1_keepdims": (lambda x: np.sum(x / x.sum(axis=1, keepdims=True) * x), (M + 5,)),
    "mean_axis_tuple": (lambda x: np.mean(x, axis=(0, 2)) @ np.arange(3.0), (T3,)),
    "prod": (lambda x: np.prod(x), (P,)),
    "prod_axis": (lambda x: np.prod(x, axis=1).sum(), (M,)),
    "max_axis": (lambda x: np.max(x * DIST[None, :], axis=1).sum(), (M,)),
    "min_vec": (lambda x: np.min(x), (DIST,)),
    "amax": (lambda x: np.amax(x**2), (DIST,)),
    "method_max": (lambda x: x.max() - x.min(), (DIST,)),
    "var": (lambda x: np.var(x), (V,)),
    "var_ddof_axis": (lambda x: np.var(x, axis=0, ddof=1).sum(), (M,)),
    "std_axis_keepdims": (lambda x: (x / np.std(x, axis=1, keepdims=True)).sum(), (M,)),
    "x.std()": (lambda x: x.std(), (M,)),
    "average_weights": (lambda x: np.average(x, weights=np.array([1.0, 2.0, 3.0, 4.0])), (V,)),
    "ptp": (lambda x: np.ptp(x), (DIST,)),
    "nansum": (lambda x: np.nansum(np.where(x > 0, x, np.nan) ** 2), (V,)),
    "nanmean": (lambda x: np.nanmean(np.where(x > 0, x, np.nan) ** 2), (V,)),
    "logsumexp_manual": (lambda x: np.log(np.sum(np.exp(x - x.max()))) + x.max(), (V,)),
    "mean_method_axis": (lambda x: (x.mean(axis=-1) ** 2).sum(), (T3,)),
    "all_count_nonzero_const": (lambda x: np.sum(x) * np.count_nonzero(x > 0), (V,)),
    # -- elementwise
    "abs": (lambda x: np.sum(np.abs(x)), (DIST,)),
    "maximum_relu": (lambda x: np.sum(np.maximum(x, 0.0) ** 2), (DIST,)),
    "minimum_pair": (lambda x, y: np.sum(np.minimum(x, y)), (DIST, DIST[::-1] + 0.05)),
    "clip": (lambda x: np.sum(np.clip(x, -0.5, 1.0) ** 2), (DIST,)),
    "x.clip": (lambda x: np.sum(x.clip(min=0.0) * x), (DIST,)),
    "where_mask": (lambda x: np.sum(np.where(x > 0, x**2, -x)), (DIST,)),
    "sqrt_exp_log": (lambda x: np.sum(np.sqrt(x) + np.exp(-x) * np.log(x)), (P,)),
    "log1p_expm1": (lambda x: np.sum(np.log1p(x) * np.expm1(x)), (P,)),
    "power_float": (lambda x: np.sum(x**2.5), (P,)),
    "power_array_exp": (lambda x, y: np.sum(np.power(x, y)), (P, V)),
    "reciprocal": (lambda x: np.sum(np.reciprocal(x)), (P,)),
    "tanh_sinh_cosh": (lambda x: np.sum(np.tanh(x) * np.sinh(x) / np.cosh(x)), (V,)),
    "arctan2": (lambda x, y: np.sum(np.arctan2(x, y)), (V, P)),
    "hypot": (lambda x, y: np.sum(np.hypot(x, y)), (V, P)),
    "logaddexp": (lambda x, y: np.sum(np.logaddexp(x, y)), (V, DIST)),
    "logaddexp2": (lambda x, y: np.sum(np.logaddexp2(x, y)), (V, DIST)),
    "sign_times": (lambda x: np.sum(np.sign(x) * x**2), (DIST,)),
    "square_cbrt": (lambda x: np.sum(np.square(x) + np.cbrt(x)), (P,)),
    "arcsin_arccos": (lambda x: np.sum(np.arcsin(x) * np.arccos(x)), (U,)),
    "arctan_arcsinh": (lambda x: np.sum(np.arctan(x) + np.arcsinh(x)), (V,)),
    "arccosh_arctanh": (lambda x: np.sum(np.arccosh(x + 1.0) + np.arctanh(x / 2)), (U,)),
    "sinc": (lambda x: np.sum(np.sinc(x)), (V,)),
    "deg2rad": (lambda x: np.sum(np.sin(np.deg2rad(x * 50))), (V,)),
    "exp2_log2_log10": (lambda x: np.sum(np.exp2(x) + np.log2(x) + np.log10(x)), (P,)),
    "fmax_fmin": (lambda x, y: np.sum(np.fmax(x, y) - np.fmin(x, y) ** 2), (DIST, V)),
    "mod": (lambda x: np.sum(np.mod(x * 3, 1.0)), (np.array([0.1, 0.45, 0.62, 1.3]),)),
    "float_power": (lambda x: np.sum(np.float_power(x, 1.5)), (P,)),
    "nan_to_num": (lambda x: np.sum(np.nan_to_num(x) ** 2), (V,)),
    "heaviside_const": (lambda x: np.sum(np.heaviside(x, 0.5) * x), (DIST,)),
    "negative_positive": (lambda x: np.sum(-x + np.positive(x) * np.negative(x)), (V,)),
    "true_divide_scalar": (lambda x: np.sum(2.0 / x + x / 3), (P,)),
    "floor_divide_const": (
        lambda x: np.sum(x * (np.floor(x * 2) + 1)),
        (np.array([0.1, 0.7, 1.3, 2.2]),),
    ),
    "round_const": (lambda x: np.sum(x * np.round(x)), (np.array([0.1, 0.7, 1.3, 2.2]),)),
    "real_conj": (lambda x: np.sum(np.real(x) * np.conj(x)), (V,)),
    # -- indexing
    "fancy_index": (lambda x: np.sum(x[IDX] ** 2 * np.arange(4.0)), (V,)),
    "fancy_2d": (lambda x: np.sum(x[[0, 2], [1, 3]] ** 2), (M,)),
    "bool_mask": (lambda x: np.sum(x[x > 0] ** 2), (M,)),
    "slice_step": (lambda x: np.sum(x[::2] * x[1::2]), (V,)),
    "reverse": (lambda x: np.sum(x[::-1] * np.arange(4.0)), (V,)),
    "ellipsis_newaxis": (lambda x: np.sum(x[..., None, 1:] ** 2), (T3,)),
    "negative_index": (lambda x: x[-1] * x[0] + x[-2], (V,)),
    "row_col": (lambda x: np.sum(x[1] * x[:, 2].sum()), (M,)),
    "ix_": (lambda x: np.sum(x[np.ix_([0, 2], [1, 3])] ** 2), (M,)),
    "take": (lambda x: np.sum(np.take(x, IDX) * np.arange(4.0)), (V,)),
    "take_axis": (lambda x: np.sum(np.take(x, [2, 0], axis=1) ** 2), (M,)),
    "take_along_axis": (
        lambda x: np.sum(np.take_along_axis(x, np.argsort(x, axis=1), axis=1) * np.arange(4.0)),
        (M,),
    ),
    "argmax_pick": (lambda x: x[np.argmax(x)] ** 2, (DIST,)),
    "nonzero_index": (lambda x: np.sum(x[np.nonzero(x > 0)] ** 3), (DIST,)),
    "x.item_like_index0d": (lambda x: x[()] ** 2, (np.float64(1.3),)),
    # -- shape & copying
    "transpose": (lambda x: np.sum(x.T @ x), (M,)),
    "reshape": (lambda x: np.sum(x.reshape(4, 3) @ np.arange(3.0)), (M,)),
    "ravel_flatten": (lambda x: np.sum(x.ravel() * x.flatten()[::-1]), (M,)),
    "swapaxes_moveaxis": (
        lambda x: np.sum(np.moveaxis(x, 0, -1) * np.swapaxes(x, 0, 2).transpose(1, 0, 2)),
        (T3,),
    ),
    "expand_squeeze": (lambda x: np.sum(np.squeeze(np.expand_dims(x, 0)) ** 2), (V,)),
    "concatenate": (
        lambda x, y: np.sum(np.concatenate([x, y, x]) * np.arange(12.0)),
        (V, V[::-1].copy()),
    ),
    "concatenate_axis1": (lambda x: np.sum(np.concatenate([x, x**2], axis=1) ** 2), (M,)),
    "stack_axis1": (lambda x: np.sum(np.stack([x, 2 * x], axis=1) @ np.array([1.0, -1.0])), (V,)),
    "vstack_hstack": (lambda x: np.sum(np.vstack([x, x]) * np.hstack([x, x]).reshape(2, 4)), (V,)),
    "column_stack": (lambda x: np.sum(np.column_stack([x, x**2]) ** 2), (V,)),
    "dstack": (lambda x: np.sum(np.dstack([x, x]) ** 2), (M,)),
    "split": (lambda x: np.sum(np.split(x, 2)[0] * np.split(x, 2)[1]), (V,)),
    "array_split": (
        lambda x: sum(np.sum(p ** (i + 1)) for i, p in enumerate(np.array_split(x, 3))),
        (V,),
    ),
    "hsplit": (lambda x: np.sum(np.hsplit(x, 2)[1] ** 2), (M,)),
    "pad_constant": (lambda x: np.sum(np.pad(x, 1) * np.arange(6.0)), (V,)),
    "pad_edge": (lambda x: np.sum(np.pad(x, (1, 2), mode="edge") * np.arange(7.0)), (V,)),
    "pad_reflect": (lambda x: np.sum(np.pad(x, 2, mode="reflect") * np.arange(8.0)), (V,)),
    "pad_2d": (lambda x: np.sum(np.pad(x, ((1, 0), (0, 2))) ** 2), (M,)),
    "tile": (lambda x: np.sum(np.tile(x, 3) * np.arange(12.0)), (V,)),
    "tile_2d": (lambda x: np.sum(np.tile(x, (2, 1)) ** 3), (M,)),
    "repeat": (lambda x: np.sum(np.repeat(x, 2) * np.arange(8.0)), (V,)),
    "repeat_axis": (lambda x: np.sum(np.repeat(x, [1, 2, 3], axis=0) ** 2), (M,)),
    "roll": (lambda x: np.sum(np.roll(x, 1) * np.arange(4.0)), (V,)),
    "roll_axis": (lambda x: np.sum(np.roll(x, -1, axis=1) * M), (M,)),
    "flip": (lambda x: np.sum(np.flip(x, axis=0) * M), (M,)),
    "fliplr_rot90": (lambda x: np.sum(np.fliplr(x) * np.rot90(x, 2)), (M,)),
    "tril_triu": (lambda x: np.sum(np.tril(x) ** 2 + np.triu(x, 1)), (S,)),
    "diag_extract": (lambda x: np.sum(np.diag(x) ** 2), (S,)),
    "diag_build": (lambda x: np.sum(np.diag(x) @ S), (np.array([1.0, 2.0, 3.0]),)),
    "diagonal_offset": (lambda x: np.sum(np.diagonal(x, 1) ** 2), (M,)),
    "broadcast_to": (lambda x: np.sum(np.broadcast_to(x, (3, 4)) * M), (V,)),
    "atleast_2d": (lambda x: np.sum(np.atleast_2d(x) @ np.ones((4, 1))), (V,)),
    "append": (lambda x: np.sum(np.append(x, x[:2]) ** 2), (V,)),
    "copy": (lambda x: np.sum(np.copy(x) * x.copy()), (V,)),
    "astype_f64": (lambda x: np.sum(x.astype(np.float64) ** 2), (V.astype(np.float32),)),
    "meshgrid": (
        lambda x, y: np.sum(np.meshgrid(x, y)[0] * np.meshgrid(x, y)[1]),
        (V, V[:3].copy()),
    ),
    "sort": (lambda x: np.sum(np.sort(x) * np.arange(4.0)), (DIST,)),
    "sort_axis": (lambda x: np.sum(np.sort(x, axis=0) * M), (M,)),
    "argsort_index": (lambda x: np.sum(x[np.argsort(x)] * np.arange(4.0)), (DIST,)),
    "partition": (lambda x: np.partition(x, 1)[1], (DIST,)),
    "median": (lambda x: np.median(x), (np.array([0.3, -1.1, 2.2, 0.7, 1.5]),)),
    "percentile": (lambda x: np.percentile(x, 30), (np.array([0.3, -1.1, 2.2, 0.7, 1.5]),)),
    "select": (lambda x: np.sum(np.select([x < 0, x < 1], [x**2, -x], default=x**3)), (DIST,)),
    "linspace_endpoint": (lambda a: np.sum(np.linspace(0.0, a, 5) ** 2), (np.float64(1.7),)),
    # -- products & linalg
    "dot": (lambda x, y: np.dot(x, y), (V, P)),
    "matmul_op": (lambda A, x: np.sum(np.tanh(A @ x)), (M, V)),
    "x.dot": (lambda A, x: np.sum(A.dot(x) ** 2), (M, V)),
    "inner": (lambda x: np.inner(x, x[::-1]), (V,)),
    "vdot": (lambda x, y: np.vdot(x, y), (M, M * 2)),
    "outer": (lambda x, y: np.sum(np.outer(x, y) ** 2), (V, P[:3].copy())),
    "kron": (lambda x, y: np.sum(np.kron(x, y) ** 2), (S[:2, :2].copy(), S)),
    "trace": (lambda A: np.trace(A @ A), (S,)),
    "tensordot": (
        lambda A, B: np.sum(np.tensordot(A, B, axes=([1, 2], [0, 1])) ** 2),
        (T3, T3.transpose(1, 2, 0).copy()),
    ),
    "tensordot_int": (lambda A, B: np.sum(np.tensordot(A, B, 1) ** 2), (M, M.T.copy())),
    "cross": (lambda x, y: np.sum(np.cross(x, y) ** 2), (V[:3].copy(), P[:3].copy())),
    "einsum_ij_jk": (lambda A, B: np.sum(np.einsum("ij,jk->ik", A, B) ** 2), (M, M.T.copy())),
    "einsum_trace": (lambda A: np.einsum("ii", A) ** 2, (S,)),
    "einsum_ellipsis": (
        lambda A: np.sum(np.einsum("...ij->...ji", A) * T3.transpose(0, 2, 1)),
        (T3,),
    ),
    "einsum_three": (lambda a, B, c: np.einsum("i,ij,j->", a, B, c), (V[:3].copy(), M, V)),
    "einsum_implicit": (lambda A: np.sum(np.einsum("ij,jk", A, A.T)), (M,)),
    "inv": (lambda A: np.sum(np.linalg.inv(A) @ np.arange(3.0)), (SPD,)),
    "det": (lambda A: np.linalg.det(A), (S,)),
    "slogdet": (lambda A: np.linalg.slogdet(A)[1], (S,)),
    "solve_vec": (lambda A, b: np.sum(np.linalg.solve(A, b) ** 2), (SPD, V[:3].copy())),
    "solve_mat": (lambda A, B: np.sum(np.linalg.solve(A, B) ** 2), (S, M)),
    "solve_batched": (
        lambda A, B: np.sum(np.linalg.solve(A, B)),
        (np.stack([SPD, SPD + np.eye(3)]), R.normal(size=(2, 3, 2))),
    ),
    "cholesky": (
        lambda A: np.sum(np.linalg.cholesky(A) ** 2 * np.tril(np.ones((3, 3)) + np.arange(3.0))),
        (SPD,),
    ),
    "eigh_vals": (lambda A: np.sum(np.linalg.eigh(A)[0] ** 2 * np.arange(1.0, 4.0)), (SPD,)),
    "eigvalsh": (lambda A: np.sum(np.linalg.eigvalsh(A) * np.arange(1.0, 4.0)), (SPD,)),
    "eigh_vecs": (lambda A: np.sum(np.abs(np.linalg.eigh(A)[1][:, 0])), (SPD,)),
    "svd_vals": (lambda A: np.sum(np.linalg.svd(A, compute_uv=False) * np.arange(1.0, 4.0)), (M,)),
    "svd_full": (lambda A: np.sum(np.linalg.svd(A, full_matrices=False)[1] ** 3), (M,)),
    "qr_R": (lambda A: np.sum(np.abs(np.linalg.qr(A)[1])), (M.T.copy(),)),
    "pinv": (lambda A: np.sum(np.linalg.pinv(A) ** 2), (M,)),
    "lstsq": (lambda A, b: np.sum(np.linalg.lstsq(A, b, rcond=None)[0] ** 2), (M.T.copy(), V)),
    "norm_vec": (lambda x: np.linalg.norm(x), (V,)),
    "norm_ord1": (lambda x: np.linalg.norm(x, ord=1), (V,)),
    "norm_inf": (lambda x: np.linalg.norm(x, ord=np.inf), (DIST,)),
    "norm_fro": (lambda A: np.linalg.norm(A, "fro"), (M,)),
    "norm_axis": (lambda A: np.sum(np.linalg.norm(A, axis=1) ** 3), (M,)),
    "norm_nuc": (lambda A: np.linalg.norm(A, "nuc"), (M,)),
    "norm_2_matrix": (lambda A: np.linalg.norm(A, 2), (M,)),
    "matrix_power": (lambda A: np.sum(np.linalg.matrix_power(A, 3)), (S,)),
    "multi_dot": (lambda A, B: np.sum(np.linalg.multi_dot([A, B, A])), (S, SPD)),
    # -- scans
    "cumsum": (lambda x: np.sum(np.cumsum(x) ** 2), (V,)),
    "cumsum_axis": (lambda x: np.sum(np.cumsum(x, axis=1) * M), (M,)),
    "cumprod": (lambda x: np.sum(np.cumprod(x)), (P,)),
    "diff": (lambda x: np.sum(np.diff(x) ** 2), (V,)),
    "diff_n2_axis": (lambda x: np.sum(np.diff(x, n=2, axis=1) ** 2), (M,)),
    "gradient_fn": (lambda x: np.sum(np.gradient(x) ** 2), (V,)),
    "ufunc_accumulate": (lambda x: np.sum(np.multiply.accumulate(x)), (P,)),
    "ufunc_reduce": (lambda x: np.add.reduce(x**2, axis=0).sum(), (M,)),
    "ufunc_outer": (lambda x: np.sum(np.multiply.outer(x, x) ** 2), (V,)),
    "maximum_accumulate": (lambda x: np.sum(np.maximum.accumulate(x)), (DIST,)),
    "trapezoid": (lambda y: np.trapezoid(y**2), (V,)),
    "interp": (lambda x: np.sum(np.interp(np.array([0.5, 1.5]), np.arange(4.0), x)), (V,)),
    "polyval": (lambda c: np.polyval(c, 1.7), (V,)),
    "convolve": (lambda x: np.sum(np.convolve(x, np.array([1.0, -2.0, 0.5])) ** 2), (V,)),
    "correlate": (lambda x: np.sum(np.correlate(x, np.array([1.0, -2.0]), "valid") ** 2), (V,)),
    # -- scipy.special
    "erf_erfc": (lambda x: np.sum(sp.erf(x) * sp.erfc(x)), (V,)),
    "erfinv": (lambda x: np.sum(sp.erfinv(x)), (U,)),
    "gammaln_digamma": (lambda x: np.sum(sp.gammaln(x) + sp.digamma(x)), (P,)),
    "polygamma": (lambda x: np.sum(sp.polygamma(1, x)), (P,)),
    "expit_logit": (lambda x: np.sum(sp.expit(x) + sp.logit(U)), (V,)),
    "logit": (lambda x: np.sum(sp.logit(x)), (U,)),
    "xlogy": (lambda x, y: np.sum(sp.xlogy(x, y)), (V, P)),
    "xlog1py": (lambda x, y: np.sum(sp.xlog1py(x, y)), (V, P)),
    "log_ndtr_ndtr": (lambda x: np.sum(sp.log_ndtr(x) + sp.ndtr(x)), (V,)),
    "sp_logsumexp": (lambda x: sp.logsumexp(x), (V,)),
    "sp_logsumexp_axis": (lambda x: np.sum(sp.logsumexp(x, axis=1)), (M,)),
    "sp_softmax": (lambda x: np.sum(sp.softmax(x) * np.arange(4.0)), (V,)),
    "sp_log_softmax": (lambda x: np.sum(sp.log_softmax(x, axis=1) * M), (M,)),
    "gamma": (lambda x: np.sum(sp.gamma(x)), (P,)),
    "i0": (lambda x: np.sum(sp.i0(x)), (V,)),
    # -- dtypes, 0-d, pytrees
    "float32_input": (lambda x: np.sum(np.tanh(x) ** 2), (V.astype(np.float32),)),
    "float32_matmul": (
        lambda A, x: np.sum((A @ x) ** 2),
        (M.astype(np.float32), V.astype(np.float32)),
    ),
    "zero_d_array": (lambda x: np.sin(x) * x, (np.array(0.7),)),
    "python_float": (lambda x: x**3 - 2 * x, (1.3,)),
    "np_float64_scalar": (lambda x: np.exp(x) / (1 + x), (np.float64(0.4),)),
    "int_input_promoted": (lambda x: np.sum(x**2), (np.array([1, 2, 3]),)),
    "dict_input": (
        lambda p: np.sum(np.tanh(p["W"] @ p["x"] + p["b"])),
        ({"W": M, "x": V, "b": V[:3].copy()},),
    ),
    "tuple_input": (lambda t: np.sum(t[0] * t[1] ** 2), ((V, P),)),
    "list_input": (lambda ls: sum(np.sum(a**2) for a in ls), ([V, P, M],)),
    # -- control flow & in-place on intermediates
    "inplace_add_intermediate": (lambda x: _inplace_add(x), (V,)),
    "inplace_mul_intermediate": (lambda x: _inplace_mul(x), (V,)),
    "inplace_slice_assign_copy": (lambda x: _slice_assign(x), (V,)),
    "python_loop_accumulate": (lambda x: _loop(x), (V,)),
    "if_on_value": (lambda x: np.sum(x**2) if np.sum(x) > 0 else np.sum(x), (V,)),
    "while_loop_newton": (lambda a: _newton_sqrt(a), (np.float64(2.0),)),
    "sum_builtin_over_rows": (lambda x: sum(row @ row for row in x), (M,)),
    "np_array_of_traced": (lambda x: np.sum(np.array([x[0], x[1] * 2]) ** 2), (V,)),
    "full_like_times": (
        lambda x: np.sum(np.full_like(x, 2.0) * x + np.zeros_like(x) + np.ones_like(x) * x),
        (V,),
    ),
    "np_max_python_max": (lambda x: max(x[0], x[1]) * 2, (DIST,)),
    # -- second batch: corners where a rule could be quietly wrong
    "eigh_nonsymmetric_input": (
        lambda A: np.sum(np.linalg.eigvalsh(A) * np.arange(1.0, 4.0)),
        (SPD + np.triu(S, 1),),
    ),
    "eigh_upper": (
        lambda A: np.sum(np.linalg.eigvalsh(A, UPLO="U") * np.arange(1.0, 4.0)),
        (SPD + np.tril(S, -1),),
    ),
    "cholesky_nonsymmetric": (
        lambda A: np.sum(np.linalg.cholesky(A) * np.arange(9.0).reshape(3, 3)),
        (SPD + np.triu(S, 1) * 0.1,),
    ),
    "cholesky_upper": (
        lambda A: np.sum(np.linalg.cholesky(A, upper=True) * np.arange(9.0).reshape(3, 3)),
        (SPD,),
    ),
    "slogdet_negative": (
        lambda A: np.linalg.slogdet(A)[1] * np.linalg.slogdet(A)[0],
        (S[::-1].copy(),),
    ),
    "det_batched": (
        lambda A: np.sum(np.linalg.det(A) * np.array([1.0, -2.0])),
        (R.normal(size=(2, 3, 3)),),
    ),
    "inv_batched": (lambda A: np.sum(np.linalg.inv(A) ** 2), (np.stack([SPD, SPD * 2]),)),
    "solve_batched_column": (
        lambda A, b: np.sum(np.linalg.solve(A, b[..., None]) ** 2),
        (np.stack([SPD, SPD * 2]), R.normal(size=(2, 3))),
    ),
    "lstsq_matrix_rhs": (
        lambda A, B: np.sum(np.linalg.lstsq(A, B, rcond=None)[0] ** 2),
        (M.T.copy(), R.normal(size=(4, 2))),
    ),
    "lstsq_residuals": (lambda A, b: np.sum(np.linalg.lstsq(A, b, rcond=None)[1]), (M.T.copy(), V)),
    "pinv_wide": (lambda A: np.sum(np.linalg.pinv(A) * np.arange(12.0).reshape(4, 3)), (M,)),
    "pinv_hermitian": (lambda A: np.sum(np.linalg.pinv(A, hermitian=True) ** 2), (SPD,)),
    "svd_U": (lambda A: np.sum(np.abs(np.linalg.svd(A, full_matrices=False)[0][:, 0])), (M,)),
    "svd_Vt": (
        lambda A: np.sum(
            np.linalg.svd(A, full_matrices=False)[2][0] ** 3
            * np.sign(np.linalg.svd(A, full_matrices=False)[2][0, 0])
        ),
        (M,),
    ),
    "qr_Q_R_recon": (
        lambda A: np.sum(
            (np.linalg.qr(A)[0] * np.sign(np.diag(np.linalg.qr(A)[1])))
            * np.arange(12.0).reshape(4, 3)
        ),
        (M.T.copy(),),
    ),
    "qr_wide": (lambda A: np.sum(np.abs(np.linalg.qr(A)[1])), (M,)),
    "norm_neg_inf": (lambda x: np.linalg.norm(x, -np.inf), (DIST,)),
    "norm_ord3": (lambda x: np.linalg.norm(x, 3), (V,)),
    "norm_ord0_const": (lambda x: np.linalg.norm(x, 0) * np.sum(x), (V,)),
    "norm_ord_neg1": (lambda x: np.linalg.norm(x, -1), (V,)),
    "norm_matrix_1": (lambda A: np.linalg.norm(A, 1), (M,)),
    "norm_matrix_inf": (lambda A: np.linalg.norm(A, np.inf), (M,)),
    "norm_matrix_neg2": (lambda A: np.linalg.norm(A, -2), (M,)),
    "norm_axis_tuple": (lambda A: np.sum(np.linalg.norm(A, axis=(1, 2))), (T3,)),
    "norm_keepdims": (lambda A: np.sum(A / np.linalg.norm(A, axis=0, keepdims=True)), (M,)),
    "cond": (lambda A: np.linalg.cond(A), (S,)),
    "matrix_rank_const": (lambda A: np.sum(A) * np.linalg.matrix_rank(A), (S,)),
    "eig_general": (lambda A: np.sum(np.linalg.eigvals(A).real), (SPD,)),
    "vector_norm_new": (lambda x: np.linalg.vector_norm(x, ord=3), (V,)),
    "matrix_norm_new": (lambda A: np.linalg.matrix_norm(A), (M,)),
    "linalg_outer": (lambda x, y: np.sum(np.linalg.outer(x, y) ** 2), (V, V)),
    "matmul_vec_vec": (lambda x, y: np.matmul(x, y) ** 2, (V, P)),
    "matmul_batched_broadcast": (lambda A, B: np.sum((A @ B) ** 2), (T3, M.T.copy())),
    "matmul_vec_batched": (lambda x, B: np.sum((x @ B) ** 2), (V[:3].copy(), T3)),
    "einsum_repeated_out": (lambda A: np.sum(np.einsum("ii->i", A) ** 2), (S,)),
    "einsum_broadcast_ellipsis": (
        lambda A, b: np.sum(np.einsum("...j,j->...", A, b) ** 2),
        (T3, V),
    ),
    "einsum_optimize": (
        lambda A, B, C: np.sum(np.einsum("ij,jk,kl->il", A, B, C, optimize=True)),
        (S, M, M.T.copy()),
    ),
    "einsum_scalar_operand": (lambda a, x: np.einsum(",i->", a, x), (np.float64(1.5), V)),
    "einsum_same_operand_twice": (lambda x: np.einsum("i,i->", x, x), (V,)),
    "tensordot_axes0": (lambda x, y: np.sum(np.tensordot(x, y, axes=0) ** 2), (V, P)),
    "kron_vec": (lambda x, y: np.sum(np.kron(x, y) * np.arange(16.0)), (V, P)),
    "trace_offset_axes": (lambda A: np.trace(A, offset=1, axis1=1, axis2=2).sum() ** 2, (T3,)),
    "cross_axis": (lambda a, b: np.sum(np.cross(a, b, axis=0) ** 2), (M.T[:3].copy(), S)),
    "max_ties": (lambda x: np.max(x), (np.array([1.0, 3.0, 3.0, 2.0]),)),
    "maximum_self_tie": (lambda x: np.sum(np.maximum(x, x)), (V,)),
    "abs_at_zero": (lambda x: np.sum(np.abs(x)), (np.array([0.0, 1.0]),)),
    "sort_descending": (lambda x: np.sum(-np.sort(-x) * np.arange(4.0)), (DIST,)),
    "argsort_axis0": (
        lambda x: np.sum(np.take_along_axis(x, np.argsort(x, axis=0), axis=0) * M),
        (M,),
    ),
    "add_at_repeat": (lambda x: _add_at(x), (V,)),
    "index_repeat_sum": (lambda x: np.sum(x[[0, 0, 1]] * np.array([1.0, 2.0, 3.0])), (V,)),
    "index_neg_fancy": (lambda x: np.sum(x[[-1, 0, -1]] * np.array([1.0, 2.0, 3.0])), (V,)),
    "boolean_2d_rows": (lambda x: np.sum(x[np.array([True, False, True])] ** 2), (M,)),
    "where_broadcast": (lambda x, y: np.sum(np.where(x > 0, x, y[:, None]) * M), (M, V[:3].copy())),
    "where_scalar_branch": (lambda x: np.sum(np.where(x > 0, 1.0, x)), (DIST,)),
    "clip_array_bounds": (
        lambda x, lo: np.sum(np.clip(x, lo, 1.0)),
        (DIST, np.array([0.0, -2.0, 0.0, 1.0])),
    ),
    "cumsum_reverse": (lambda x: np.sum(np.cumsum(x[::-1])[::-1] * np.arange(4.0)), (V,)),
    "cumsum_no_axis_2d": (lambda x: np.sum(np.cumsum(x) * np.arange(12.0)), (M,)),
    "cumprod_axis_zero": (
        lambda x: np.sum(np.cumprod(x, axis=0)),
        (np.array([[1.0, 0.0], [2.0, 3.0], [0.5, 4.0]]),),
    ),
    "prod_with_zero": (lambda x: np.prod(x), (np.array([2.0, 0.0, 3.0]),)),
    "prod_two_zeros": (lambda x: np.prod(x), (np.array([2.0, 0.0, 0.0]),)),
    "diff_prepend": (lambda x: np.sum(np.diff(x, prepend=0.0) ** 2), (V,)),
    "gradient_2d": (lambda x: np.sum(np.gradient(x, axis=1) ** 2), (M,)),
    "gradient_spacing": (lambda x: np.sum(np.gradient(x, 0.5) ** 2), (V,)),
    "gradient_edge2": (lambda x: np.sum(np.gradient(x, edge_order=2) ** 2), (V,)),
    "var_axis_tuple_keepdims": (
        lambda x: np.sum(np.var(x, axis=(0, 2), keepdims=True) * T3),
        (T3,),
    ),
    "std_ddof_all": (lambda x: np.std(x, ddof=1), (M,)),
    "mean_where": (lambda x: np.mean(x, where=x > 0), (DIST,)),
    "sum_where": (lambda x: np.sum(x**2, where=x > 0), (DIST,)),
    "sum_initial": (lambda x: np.sum(x, initial=2.0) ** 2, (V,)),
    "max_initial": (lambda x: np.max(x, initial=0.5), (DIST,)),
    "sum_dtype_f32": (lambda x: np.sum(x, dtype=np.float32), (V,)),
    "nanmax": (lambda x: np.nanmax(np.where(x > 0, x, np.nan)), (DIST,)),
    "nanstd": (lambda x: np.nanstd(np.where(x > 0, x, np.nan)), (np.array([0.3, -1.1, 2.2, 0.7]),)),
    "average_axis_weights": (
        lambda x: np.sum(np.average(x, axis=1, weights=np.arange(1.0, 5.0))),
        (M,),
    ),
    "average_traced_weights": (lambda x, w: np.average(x, weights=w), (V, P)),
    "pad_wrap": (lambda x: np.sum(np.pad(x, 2, mode="wrap") * np.arange(8.0)), (V,)),
    "pad_symmetric": (lambda x: np.sum(np.pad(x, 2, mode="symmetric") * np.arange(8.0)), (V,)),
    "pad_constant_value": (lambda x: np.sum(np.pad(x, 1, constant_values=3.0) ** 2), (V,)),
    "roll_2d_tuple": (lambda x: np.sum(np.roll(x, (1, 2), axis=(0, 1)) * M), (M,)),
    "roll_no_axis": (lambda x: np.sum(np.roll(x, 5) * M), (M,)),
    "rot90_k1": (lambda x: np.sum(np.rot90(x) * M.T), (M,)),
    "repeat_2d_no_axis": (lambda x: np.sum(np.repeat(x, 2) * np.arange(24.0)), (M,)),
    "tril_k_neg": (lambda x: np.sum(np.tril(x, -1) * S), (S,)),
    "triu_batched": (lambda x: np.sum(np.triu(x) * T3), (T3,)),
    "diagflat": (lambda x: np.sum(np.diagflat(x, 1) * np.arange(25.0).reshape(5, 5)), (V,)),
    "diag_k": (lambda x: np.sum(np.diag(x, -1) ** 2), (S,)),
    "split_indices": (lambda x: np.sum(np.split(x, [1, 3])[1] ** 2), (V,)),
    "vsplit_dsplit": (
        lambda x: np.sum(np.dsplit(x, 2)[1] * np.vsplit(x, 2)[0].transpose(0, 1, 2)[:, :, 2:]),
        (T3,),
    ),
    "stack_negative_axis": (
        lambda x: np.sum(np.stack([x, x * 2], axis=-1) * np.arange(24.0).reshape(3, 4, 2)),
        (M,),
    ),
    "concatenate_axis_none": (
        lambda x: np.sum(np.concatenate([x, x], axis=None) * np.arange(24.0)),
        (M,),
    ),
    "hstack_1d_2d": (lambda x: np.sum(np.hstack([x, x[:, :1]]) ** 2), (M,)),
    "atleast_3d": (lambda x: np.sum(np.atleast_3d(x) ** 2), (V,)),
    "broadcast_arrays": (
        lambda x, y: np.sum(np.broadcast_arrays(x, y)[0] * np.broadcast_arrays(x, y)[1]),
        (V, M[:, :1].copy()),
    ),
    "squeeze_axis": (lambda x: np.sum(np.squeeze(x[:, None], axis=1) ** 2), (V,)),
    "reshape_minus1_order_F": (lambda x: np.sum(x.reshape(-1, order="F") * np.arange(12.0)), (M,)),
    "ravel_order_F": (lambda x: np.sum(np.ravel(x, order="F") * np.arange(12.0)), (M,)),
    "transpose_axes": (
        lambda x: np.sum(np.transpose(x, (2, 0, 1)) * np.arange(24.0).reshape(4, 2, 3)),
        (T3,),
    ),
    "T_of_3d": (lambda x: np.sum(x.T * np.arange(24.0).reshape(4, 3, 2)), (T3,)),
    "mT": (lambda x: np.sum(x.mT * np.arange(24.0).reshape(2, 4, 3)), (T3,)),
    "flat_iter_index": (lambda x: x.flat[3] ** 2, (M,)),
    "choose": (lambda x, y: np.sum(np.choose([0, 1, 0, 1], [x, y]) * np.arange(4.0)), (V, P)),
    "compress": (lambda x: np.sum(np.compress([True, False, True, True], x) ** 2), (V,)),
    "extract": (lambda x: np.sum(np.extract(x > 0, x) ** 2), (DIST,)),
    "put_along_like_setat": (lambda x: np.sum(np.where(np.arange(4) == 2, 0.0, x) ** 2), (V,)),
    "logical_mask_mul": (lambda x: np.sum(x * (x > 0)), (DIST,)),
    "bool_times_float_mask": (lambda x: np.sum(x * (x > 0).astype(float)), (DIST,)),
    "sigmoid_manual": (lambda x: np.sum(1 / (1 + np.exp(-x))), (V,)),
    "softplus_logaddexp0": (lambda x: np.sum(np.logaddexp(0, x)), (V,)),
    "pow_int_neg_base": (lambda x: np.sum(x**3), (DIST,)),
    "pow_neg_base_int_float": (lambda x: np.sum(x**2.0), (DIST,)),
    "rpow": (lambda x: np.sum(2.0**x), (V,)),
    "pow_traced_exp_zero_base": (
        lambda y: np.sum(np.array([0.0, 1.0, 2.0]) ** y),
        (np.array([1.5, 2.0, 0.5]),),
    ),
    "divmod_quot": (lambda x: np.sum(np.divmod(x, 0.7)[1]), (np.array([0.1, 0.45, 0.62, 1.3]),)),
    "fmod_neg": (lambda x: np.sum(np.fmod(x, 0.7)), (np.array([-0.1, 0.45, -0.62, 1.3]),)),
    "remainder_traced_divisor": (
        lambda x, y: np.sum(np.remainder(x, y)),
        (np.array([0.1, 0.45, 0.62, 1.3]), np.array([0.3, 0.4, 0.5, 0.6])),
    ),
    "copysign": (lambda x: np.sum(np.copysign(x, -1.0)), (V,)),
    "ldexp": (lambda x: np.sum(np.ldexp(x, 2)), (V,)),
    "log_of_softmax_manual": (
        lambda x: (
            -np.sum(
                (x - x.max(axis=1, keepdims=True))
                - np.log(np.sum(np.exp(x - x.max(axis=1, keepdims=True)), axis=1, keepdims=True))
            )
        ),
        (M,),
    ),
    "rfloordiv_const": (lambda x: np.sum(x * (7.0 // (x + 3))), (P,)),
    "complex_intermediate": (lambda x: np.sum(np.abs(x * (1 + 1j))), (V,)),
    # -- third batch: method spellings, lists of traced values, scipy.linalg, statistics
    "sum_positional_axis": (lambda x: np.sum(np.sum(x, 0, keepdims=True) ** 2), (M,)),
    "method_spellings": (
        lambda x: (
            x.sum(0).prod()
            + x.mean(keepdims=True).sum()
            + x.var(ddof=1)
            + x.cumsum(axis=1).sum()
            + x.max(axis=0).sum()
        ),
        (M,),
    ),
    "method_spellings_2": (
        lambda x: (
            x.trace()
            + x.diagonal(1).sum()
            + x.clip(-1, 1).sum()
            + x.squeeze().swapaxes(0, 1).take([0, 2], axis=0).sum()
            + x.repeat(2, axis=0).sum()
            + x.cumprod(axis=0).sum()
        ),
        (S,),
    ),
    "np_sum_of_list": (lambda x: np.sum([x[0], x[1] * 2, x[2] ** 2]), (V,)),
    "np_mean_of_list": (lambda x: np.mean([x[0], x[1] ** 2]), (V,)),
    "np_max_of_list": (lambda x: np.max([x[0], x[1]]), (DIST,)),
    "norm_of_list": (lambda x: np.linalg.norm([x[0], x[1]]), (V,)),
    "hstack_scalars": (lambda x: np.sum(np.hstack([x[0], 1.0, x[1]]) ** 2), (V,)),
    "concatenate_with_list_const": (lambda x: np.sum(np.concatenate([x, [1.0, 2.0]]) ** 2), (V,)),
    "stack_0d": (lambda x: np.sum(np.stack([x[0], x[1] * x[2]]) ** 2), (V,)),
    "asarray_at_top": (lambda x: np.sum(np.asarray(x) ** 2), (V,)),
    "asarray_float_dtype": (lambda x: np.sum(np.asarray(x, dtype=float) ** 2), (V,)),
    "np_array_copy": (lambda x: np.sum(np.array(x) ** 2), (V,)),
    "atleast_1d_0d": (lambda x: np.sum(np.atleast_1d(x) ** 2), (np.array(0.7),)),
    "dot_mat_vec": (lambda A, x: np.sum(np.dot(A, x) ** 2), (M, V)),
    "dot_scalar": (lambda x: np.sum(np.dot(x, 2.0)), (V,)),
    "dot_3d": (lambda A, B: np.sum(np.dot(A, B) ** 2), (T3, M.T.copy())),
    "triu_indices": (lambda x: np.sum(x[np.triu_indices(3)] ** 2), (S,)),
    "diag_indices": (lambda x: np.sum(x[np.diag_indices(3)] ** 3), (S,)),
    "tril_indices_k": (lambda x: np.sum(x[np.tril_indices(3, -1)] * np.arange(3.0)), (S,)),
    "cov": (lambda x: np.sum(np.cov(x) ** 2), (M,)),
    "cov_rowvar": (lambda x: np.sum(np.cov(x, rowvar=False) * np.arange(16.0).reshape(4, 4)), (M,)),
    "corrcoef": (lambda x: np.sum(np.corrcoef(x) * np.arange(9.0).reshape(3, 3)), (M,)),
    "empty_sum": (lambda x: np.sum(x[:0]) + np.sum(x), (V,)),
    "inv_1x1": (lambda A: np.sum(np.linalg.inv(A)), (np.array([[2.5]]),)),
    "det_1x1": (lambda A: np.linalg.det(A), (np.array([[2.5]]),)),
    "eigh_batched": (
        lambda A: np.sum(np.linalg.eigvalsh(A) * np.arange(3.0)),
        (np.stack([SPD, SPD + np.diag([0.0, 1.0, 3.0])]),),
    ),
    "solve_float32": (
        lambda A, b: np.sum(np.linalg.solve(A, b) ** 2),
        (SPD.astype(np.float32), V[:3].astype(np.float32)),
    ),
    "cholesky_float32": (lambda A: np.sum(np.linalg.cholesky(A)), (SPD.astype(np.float32),)),
    "mixed_f32_f64_const": (
        lambda x: np.sum(x * np.array([1.0, 2.0, 3.0, 4.0])),
        (V.astype(np.float32),),
    ),
    "unique": (lambda x: np.sum(np.unique(x) * np.arange(4.0)), (DIST,)),
    "searchsorted_const": (lambda x: np.sum(x * np.searchsorted(np.array([0.0, 1.0]), x)), (DIST,)),
    "digitize_const": (lambda x: np.sum(x * np.digitize(x, [0.0, 1.0])), (DIST,)),
    "isnan_mask": (lambda x: np.sum(np.where(np.isnan(x), 0.0, x) ** 2), (V,)),
    "zeros_like_plus": (lambda x: np.sum((np.zeros_like(x) + x) * np.ones(x.shape)), (V,)),
    "empty_like_fill": (lambda x: np.sum(np.empty_like(x)) * 0 + np.sum(x), (V,)),
    "namedtuple_input": (lambda p: np.sum(p.w * p.b**2), (_NT(V, P),)),
    "scipy_solve_triangular": (
        lambda A, b: np.sum(scipy.linalg.solve_triangular(A, b, lower=True)),
        (np.linalg.cholesky(SPD), V[:3].copy()),
    ),
    "scipy_cho_solve": (
        lambda A, b: np.sum(scipy.linalg.cho_solve(scipy.linalg.cho_factor(A), b)),
        (SPD, V[:3].copy()),
    ),
    "scipy_expm": (lambda A: np.sum(scipy.linalg.expm(A)), (S * 0.3,)),
    "np_outer_scalar": (lambda x: np.sum(np.outer(x[0], x)), (V,)),
    "prod_axis_keepdims": (lambda x: np.sum(np.prod(x, axis=0, keepdims=True) * M), (M,)),
    "max_keepdims_bcast": (lambda x: np.sum(np.exp(x - np.max(x, axis=1, keepdims=True))), (M,)),
    "argmax_take_along": (
        lambda x: np.sum(np.take_along_axis(x, np.argmax(x, axis=1)[:, None], 1)),
        (M,),
    ),
    "einsum_bcast_size1": (
        lambda a, b: np.sum(np.einsum("...ij,...jk->...ik", a, b) ** 2),
        (R.normal(size=(1, 2, 3)), R.normal(size=(4, 3, 2))),
    ),
    "linalg_solve_bcast": (
        lambda A, B: np.sum(np.linalg.solve(A, B) ** 2),
        (SPD, R.normal(size=(2, 3, 2))),
    ),
    "matmul_1d_2d_3d": (lambda x, A: np.sum((x @ A @ x[:, None]) ** 2), (V[:3].copy(), S)),
    "sum_over_bool_cast": (lambda x: np.sum(x * (x > 0).astype(np.float32)), (DIST,)),
    "sum_keepdims_then_squeeze": (
        lambda x: np.sum(np.squeeze(np.sum(x, axis=(0, 2), keepdims=True)) ** 2),
        (T3,),
    ),
    "softmax_temperature": (
        lambda x, t: np.sum(np.exp(x / t) / np.sum(np.exp(x / t)) * np.arange(4.0)),
        (V, np.float64(0.7)),
    ),
    "cumsum_then_index": (lambda x: np.cumsum(x)[-1] * np.cumsum(x)[1], (V,)),
    "reshape_view_then_op": (lambda x: np.sum(x.reshape(2, 2)[:, ::-1] @ x.reshape(2, 2)), (V,)),
    "x_T_inplace_like": (lambda x: _inplace_T(x), (M,)),
    "iadd_broadcast": (lambda x: _iadd_bcast(x), (M,)),
    "isub_self_slice": (lambda x: _isub_slice(x), (V,)),
    "idiv_intermediate": (lambda x: _idiv(x), (P,)),
    "ipow_intermediate": (lambda x: _ipow(x), (P,)),
    # -- fourth batch: corners of linear algebra, padding, indexing and newer NumPy names
    "svd_full_matrices_U": (lambda A: np.sum(np.abs(np.linalg.svd(A)[0][:, :3])), (M.T.copy(),)),
    "svd_full_matrices_U_extra": (lambda A: np.sum(np.abs(np.linalg.svd(A)[0])), (M.T.copy(),)),
    "svd_batched_vals": (
        lambda A: np.sum(np.linalg.svd(A, compute_uv=False) ** 2 * np.arange(3.0)),
        (T3,),
    ),
    "svdvals": (lambda A: np.sum(np.linalg.svdvals(A) * np.arange(1.0, 4.0)), (M,)),
    "qr_complete_R": (lambda A: np.sum(np.abs(np.linalg.qr(A, mode="complete")[1])), (M.T.copy(),)),
    "qr_mode_r": (lambda A: np.sum(np.abs(np.linalg.qr(A, mode="r"))), (M.T.copy(),)),
    "lstsq_wide_min_norm": (
        lambda A, b: np.sum(np.linalg.lstsq(A, b, rcond=None)[0] ** 2),
        (M, V[:3].copy()),
    ),
    "det_singular_rank2": (lambda A: np.linalg.det(A), (_RANK2,)),
    "det_singular_grad_cofactor": (
        lambda A: np.linalg.det(A) * 3.0,
        (np.array([[1.0, 2.0], [2.0, 4.0]]),),
    ),
    "matrix_power_neg": (lambda A: np.sum(np.linalg.matrix_power(A, -2)), (SPD,)),
    "matrix_power_zero_one": (
        lambda A: np.sum(np.linalg.matrix_power(A, 0) + np.linalg.matrix_power(A, 1)),
        (S,),
    ),
    "maximum_tie_two_arrays": (lambda x, y: np.sum(np.maximum(x, y)), (V, V.copy())),
    "einsum_outer": (lambda a, b: np.sum(np.einsum("i,j->ij", a, b) ** 2), (V, P)),
    "einsum_batched_matmul": (
        lambda a, b: np.sum(np.einsum("bij,bjk->bik", a, b) ** 2),
        (T3, R.normal(size=(2, 4, 3))),
    ),
    "einsum_iij": (lambda a: np.sum(np.einsum("iij->j", a) ** 2), (R.normal(size=(3, 3, 2)),)),
    "einsum_hadamard": (lambda a, b: np.sum(np.einsum("ij,ij->ij", a, b) ** 2), (M, M * 2)),
    "einsum_ii_ii": (lambda a: np.einsum("ii,ii->", a, a), (S,)),
    "einsum_sum_all": (lambda a: np.einsum("ijk->", a) ** 2, (T3,)),
    "einsum_permute_output": (
        lambda a: np.sum(np.einsum("ijk->kji", a) * np.arange(24.0).reshape(4, 3, 2)),
        (T3,),
    ),
    "tensordot_negative_axes": (
        lambda a, b: np.sum(np.tensordot(a, b, axes=([-1], [0])) ** 2),
        (M, M.T.copy()),
    ),
    "kron_3d": (lambda a, b: np.sum(np.kron(a, b) ** 2), (T3[:1, :2, :2].copy(), S[:2].copy())),
    "trace_3d_default": (lambda a: np.sum(np.trace(a) ** 2), (R.normal(size=(3, 3, 2)),)),
    "diagonal_neg_offset_wide": (lambda a: np.sum(np.diagonal(a, -1) * np.arange(1.0, 3.0)), (M,)),
    "pad_reflect_big": (lambda x: np.sum(np.pad(x, 5, mode="reflect") * np.arange(14.0)), (V,)),
    "pad_symmetric_big": (lambda x: np.sum(np.pad(x, 6, mode="symmetric") * np.arange(16.0)), (V,)),
    "pad_wrap_big": (lambda x: np.sum(np.pad(x, 7, mode="wrap") * np.arange(18.0)), (V,)),
    "pad_edge_2d_uneven": (
        lambda x: np.sum(np.pad(x, ((2, 0), (1, 3)), mode="edge") * np.arange(40.0).reshape(5, 8)),
        (M,),
    ),
    "pad_reflect_2d": (
        lambda x: np.sum(
            np.pad(x, ((1, 2), (2, 1)), mode="reflect") * np.arange(42.0).reshape(6, 7)
        ),
        (M,),
    ),
    "pad_linear_ramp": (lambda x: np.sum(np.pad(x, 2, mode="linear_ramp") * np.arange(8.0)), (V,)),
    "pad_mean": (lambda x: np.sum(np.pad(x, 2, mode="mean") * np.arange(8.0)), (V,)),
    "pad_maximum": (lambda x: np.sum(np.pad(x, 1, mode="maximum") * np.arange(6.0)), (DIST,)),
    "roll_big_negative": (lambda x: np.sum(np.roll(x, -9) * np.arange(4.0)), (V,)),
    "tile_longer_reps": (
        lambda x: np.sum(np.tile(x, (2, 1, 2)) * np.arange(16.0).reshape(2, 1, 8)),
        (V,),
    ),
    "take_mode_wrap": (
        lambda x: np.sum(np.take(x, [5, -1, 2], mode="wrap") * np.arange(3.0)),
        (V,),
    ),
    "take_mode_clip": (
        lambda x: np.sum(np.take(x, [5, -1, 2], mode="clip") * np.arange(3.0)),
        (V,),
    ),
    "fancy_slice_mix": (lambda x: np.sum(x[:, [0, 0, 2]] * np.arange(9.0).reshape(3, 3)), (M,)),
    "fancy_chain": (lambda x: np.sum(x[[0, 1]][:, [1]] ** 2), (M,)),
    "fancy_2d_index_array": (
        lambda x: np.sum(x[np.array([[0, 1], [3, 3]])] * np.arange(4.0).reshape(2, 2)),
        (V,),
    ),
    "fancy_bcast_index": (
        lambda x: np.sum(x[np.array([0, 2])[:, None], np.array([1, 3, 3])] ** 2),
        (M,),
    ),
    "fancy_separated_by_slice": (
        lambda x: np.sum(x[[0, 1], :, [2, 3]] * np.arange(6.0).reshape(2, 3)),
        (T3,),
    ),
    "bool_mask_2d_full": (lambda x: np.sum(x[x > 0.1] * np.arange(np.sum(M > 0.1))), (M,)),
    "moveaxis_multi": (
        lambda x: np.sum(np.moveaxis(x, [0, 1], [-1, 0]) * np.arange(24.0).reshape(3, 4, 2)),
        (T3,),
    ),
    "array_split_axis1": (
        lambda x: (
            np.sum(np.array_split(x, 3, axis=1)[0] ** 2 + 1)
            + np.sum(np.array_split(x, 3, axis=1)[2] ** 3)
        ),
        (M,),
    ),
    "linspace_both_traced": (
        lambda a, b: np.sum(np.linspace(a, b, 5) ** 2),
        (np.float64(0.3), np.float64(1.7)),
    ),
    "linspace_no_endpoint": (
        lambda a: np.sum(np.linspace(0.0, a, 4, endpoint=False) ** 2),
        (np.float64(1.7),),
    ),
    "linspace_array_endpoints": (lambda a: np.sum(np.linspace(a, 2 * a, 3) ** 2), (V[:2].copy(),)),
    "gradient_coordinates": (
        lambda y: np.sum(np.gradient(y, np.array([0.0, 0.5, 1.5, 3.0])) ** 2),
        (V,),
    ),
    "gradient_traced_coordinates": (
        lambda x: np.sum(np.gradient(V, x) ** 2),
        (np.array([0.0, 0.5, 1.5, 3.0]),),
    ),
    "diff_append": (lambda x: np.sum(np.diff(x, append=x[:1]) ** 2), (V,)),
    "cumsum_neg_axis": (lambda x: np.sum(np.cumsum(x, axis=-2) * T3), (T3,)),
    "average_returned": (
        lambda x: np.average(x, weights=np.arange(1.0, 5.0), returned=True)[0],
        (V,),
    ),
    "nanmean_axis": (
        lambda x: np.sum(np.nanmean(np.where(x > 0, x, np.nan), axis=0) ** 2),
        (np.abs(M) * np.array([[1, -1, 1, 1], [1, 1, -1, 1], [-1, 1, 1, 1]]),),
    ),
    "nanprod": (lambda x: np.nanprod(np.where(x > 0, x, np.nan)), (DIST,)),
    "nanmin_axis": (lambda x: np.sum(np.nanmin(np.where(x > 0, x, np.nan), axis=1)), (np.abs(M),)),
    "gammaln_negative": (lambda x: np.sum(sp.gammaln(x)), (np.array([-0.5, -1.5, 2.5]),)),
    "log_expit": (lambda x: np.sum(sp.log_expit(x)), (V,)),
    "erfcx": (lambda x: np.sum(sp.erfcx(x)), (V,)),
    "erfcinv": (lambda x: np.sum(sp.erfcinv(x + 1.0)), (U - 0.5,)),
    "betaln": (lambda a, b: np.sum(sp.betaln(a, b)), (P, P[::-1].copy())),
    "i0e_i1": (lambda x: np.sum(sp.i0e(x) + sp.i1(x)), (V,)),
    "sp_softplus": (lambda x: np.sum(sp.softplus(x)), (V,)),
    "sp_entr": (lambda x: np.sum(sp.entr(x)), (P,)),
    "sp_rel_entr": (lambda x, y: np.sum(sp.rel_entr(x, y)), (P, P[::-1].copy())),
    "sp_kl_div": (lambda x, y: np.sum(sp.kl_div(x, y)), (P, P[::-1].copy())),
    "sp_ndtri": (lambda x: np.sum(sp.ndtri(x)), (U,)),
    "sp_boxcox": (lambda x: np.sum(sp.boxcox(x, 0.5)), (P,)),
    "np_vecdot": (lambda a, b: np.sum(np.vecdot(a, b) ** 2), (M, M[::-1].copy())),
    "np_matvec": (lambda A, x: np.sum(np.matvec(A, x) ** 2), (M, V)),
    "np_vecmat": (lambda x, A: np.sum(np.vecmat(x, A) ** 2), (V[:3].copy(), M)),
    "linalg_vecdot": (lambda a, b: np.sum(np.linalg.vecdot(a, b) ** 2), (M, M * 2)),
    "linalg_cross": (lambda a, b: np.sum(np.linalg.cross(a, b) ** 2), (V[:3].copy(), P[:3].copy())),
    "linalg_matrix_transpose": (
        lambda a: np.sum(np.linalg.matrix_transpose(a) * np.arange(12.0).reshape(4, 3)),
        (M,),
    ),
    "linalg_trace": (lambda a: np.linalg.trace(a @ a), (S,)),
    "linalg_diagonal": (lambda a: np.sum(np.linalg.diagonal(a) ** 2), (S,)),
    "linalg_tensordot": (
        lambda a, b: np.sum(np.linalg.tensordot(a, b, axes=1) ** 2),
        (M, M.T.copy()),
    ),
    "linalg_matmul": (lambda a, b: np.sum(np.linalg.matmul(a, b) ** 2), (M, M.T.copy())),
    "cumulative_sum_initial": (
        lambda x: np.sum(np.cumulative_sum(x, include_initial=True) ** 2),
        (V,),
    ),
    "unstack": (lambda x: np.sum(np.unstack(x)[1] ** 2), (M,)),
    "permute_dims": (
        lambda x: np.sum(np.permute_dims(x, (1, 0)) * np.arange(12.0).reshape(4, 3)),
        (M,),
    ),
    "concat_alias": (lambda x: np.sum(np.concat([x, x]) * np.arange(8.0)), (V,)),
    "pow_alias": (lambda x: np.sum(np.pow(x, 3)), (V,)),
    "acos_alias": (lambda x: np.sum(np.acos(x) + np.atan2(x, 1.0) + np.asinh(x)), (U,)),
    "matrix_norm_ord_2": (lambda a: np.linalg.matrix_norm(a, ord=2), (M,)),
    "vector_norm_axis_keepdims": (
        lambda a: np.sum(np.linalg.vector_norm(a, axis=0, keepdims=True) * M),
        (M,),
    ),
    "norm_fro_3d_axes": (
        lambda a: np.sum(np.linalg.norm(a, "fro", axis=(0, 2)) * np.arange(3.0)),
        (T3,),
    ),
    "norm_2_batched": (lambda a: np.sum(np.linalg.norm(a, 2, axis=(1, 2))), (T3,)),
    "norm_vec_neg_axis": (lambda a: np.sum(np.linalg.norm(a, 3, axis=-1)), (M,)),
    # -- degenerate but common points: identity, rank-deficient, zero vector (see the report)
    "svdvals_sum_rank_deficient": (
        lambda a: np.sum(np.linalg.svd(a, compute_uv=False)),
        (np.array([[3.0, 0.0], [0.0, 0.0]]),),
    ),
    "nuclear_norm_rank_deficient": (
        lambda a: np.linalg.norm(a, "nuc"),
        (np.array([[1.0, 2.0], [-2.0, -4.0]]),),
    ),
    "eigvalsh_largest_at_identity": (lambda a: np.linalg.eigvalsh(a)[-1], (np.eye(2),)),
    "norm_2_at_identity": (lambda a: np.linalg.norm(a, 2), (np.eye(2),)),
    "norm_2_at_rotation": (lambda a: np.linalg.norm(a, 2), (np.array([[0.0, -1.0], [1.0, 0.0]]),)),
    "vector_norm_at_zero": (lambda x: np.linalg.norm(x), (np.zeros(3),)),
    "det_exactly_singular": (lambda a: np.linalg.det(a), (np.array([[1.0, 2.0], [2.0, 4.0]]),)),
    "max_at_identity_eigvalsh_via_np_max": (lambda a: np.max(np.linalg.eigvalsh(a)), (np.eye(2),)),
    "isclose_mask": (lambda x: np.sum(np.where(np.isfinite(x), x, 0.0) ** 2), (V,)),
}


def _inplace_T(x):
    y = x * 2.0
    z = y.T
    return np.sum(z @ y)


def _iadd_bcast(x):
    y = x**2
    y += x.sum(axis=0)
    return np.sum(y * M)


def _isub_slice(x):
    y = x * 1.0
    y -= y[::-1].copy()
    return np.sum(y**2 * np.arange(4.0))


def _idiv(x):
    y = x + 1.0
    y /= x.sum()
    return np.sum(y**2 * np.arange(4.0))


def _ipow(x):
    y = x + 0.0
    y **= 3
    return np.sum(y * np.arange(4.0))


def _add_at(x):
    y = np.zeros(3)
    np.add.at(y, [0, 0, 2], x[:3])
    return np.sum(y * np.arange(1.0, 4.0))


def _inplace_add(x):
    y = np.sin(x)
    y += x**2
    y *= 2.0
    return np.sum(y)


def _inplace_mul(x):
    y = x * 1.0
    y *= y
    return np.sum(y)


def _slice_assign(x):
    y = np.zeros(4)
    y[1:] = x[:3] ** 2
    return np.sum(y * x)


def _loop(x):
    s = 0.0
    for i in range(3):
        s = s + np.sum(np.tanh(x * (i + 1)))
    return s


def _newton_sqrt(a):
    z = a
    for _ in range(8):
        z = 0.5 * (z + a / z)
    return z


def _flat(args):
    """The float leaves of ``args`` (tuples, lists, dicts) as a list of arrays, and a rebuilder."""
    leaves = []

    def walk(a):
        if isinstance(a, dict):
            return {k: walk(v) for k, v in a.items()}
        if isinstance(a, tuple) and hasattr(a, "_fields"):
            return type(a)(*(walk(v) for v in a))
        if isinstance(a, (tuple, list)):
            return type(a)(walk(v) for v in a)
        leaves.append(np.array(a, dtype=np.float64))
        return len(leaves) - 1

    shape = walk(args)

    def build(vals):
        def fill(s):
            if isinstance(s, dict):
                return {k: fill(v) for k, v in s.items()}
            if isinstance(s, tuple) and hasattr(s, "_fields"):
                return type(s)(*(fill(v) for v in s))
            if isinstance(s, (tuple, list)):
                return type(s)(fill(v) for v in s)
            return vals[s]

        return fill(shape)

    return leaves, build


def _leaves(tree):
    if isinstance(tree, dict):
        return [x for v in tree.values() for x in _leaves(v)]
    if isinstance(tree, (tuple, list)):
        return [x for v in tree for x in _leaves(v)]
    return [tree]


def central_grads(f, args, h=1e-6):
    """Central differences of ``f(*args)`` for every float leaf of ``args`` (float64)."""
    leaves, build = _flat(args)
    grads = []
    for i, leaf in enumerate(leaves):
        g = np.empty_like(leaf)
        for j in np.ndindex(leaf.shape):
            vals = [v.copy() for v in leaves]
            vals[i][j] += h
            up = f(*build(vals))
            vals[i][j] -= 2 * h
            down = f(*build(vals))
            g[j] = (up - down) / (2 * h)
        grads.append(g)
    return grads


def compare(name, rtol=1e-5, atol=1e-6):
    """Run one snippet: ``("pass"|"wrong", detail)``; exceptions propagate."""
    import adcheck as ad

    f, args = SNIPPETS[name]
    got = _leaves(ad.gradient(f, *args))
    want = central_grads(f, args)
    low = any(np.asarray(a).dtype == np.float32 for a in _leaves(args))
    if low:
        rtol, atol = 2e-3, 2e-4
    for g, w in zip(got, want):
        if np.shape(g) != np.shape(w) or not np.allclose(g, w, rtol=rtol, atol=atol):
            return "wrong", f"adcheck {np.asarray(g).round(6).tolist()} vs fd {w.round(6).tolist()}"
    return "pass", ""


def main():
    import warnings

    import adcheck as ad

    counts = {"pass": 0, "NotDifferentiable": 0, "error": 0, "wrong": 0}
    for name in SNIPPETS:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                verdict, detail = compare(name)
        except ad.NotDifferentiable as exc:
            verdict, detail = "NotDifferentiable", str(exc).replace("\n", " | ")[:400]
        except Exception as exc:  # noqa: BLE001
            verdict, detail = "error", f"{type(exc).__name__}: {str(exc)[:400]}"
        counts[verdict] += 1
        print(f"{verdict:18s} {name:28s} {detail}")
    print(len(SNIPPETS), counts)


if __name__ == "__main__":
    main()
