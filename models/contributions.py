"""Exact TreeSHAP contributions of a LightGBM model, at a fraction of ``pred_contrib``'s cost.

``tree_contributions(booster, X)`` returns what ``booster.predict(X, pred_contrib=True)``
returns (per row, one column per feature and a last one for the expected value, raw-score
space; K blocks for K classes), equal to it within floating-point rounding. ``method=
"exact"`` compiles the model once into tables of SHAP values by decision pattern
(:mod:`models.shap_tables`) and then explains rows with a few vectorised numpy passes:
replay every split's decision, form each table's pattern, look up, sum per feature.
``method="pred_contrib"`` is LightGBM's own TreeSHAP, the reference.

The compiled tables are cached per booster object for as long as it lives, so a scorer
that loads its model once compiles once per run. A model the tables cannot hold (linear
trees, leaves deeper than 14 splits) is explained by ``pred_contrib``, with a warning.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from models.shap_tables import GROUP_BITS, compile_groups
from models.tree_dump import (
    MISSING_NAN,
    MISSING_ZERO,
    ZERO_THRESHOLD,
    Forest,
    UnsupportedTreeError,
    read_forest,
)

log = logging.getLogger(__name__)
METHODS: tuple[str, ...] = ("exact", "pred_contrib")
ROW_BLOCK = 256  # rows explained at once: bounds the intermediate arrays (rows x slots)
_LUT_LIMIT = 1 << 16  # categorical codes above this are looked up with np.isin


@dataclass(frozen=True)
class ExactTables:
    """A model compiled for exact contributions (see :func:`compile_contributions`)."""

    num_features: int
    num_classes: int
    num_nodes: int
    # decisions: rows of the decision matrix are the numerical nodes, then the categorical
    # ones, then an always-zero row; row_of[node] is a node's row
    row_of: np.ndarray
    num_source: np.ndarray  # row of the stacked feature variants (see _decisions) per node
    num_threshold: np.ndarray
    # decisions: categorical nodes read the codes of cat_features[cat_feature_index]
    cat_features: np.ndarray
    cat_feature_index: np.ndarray
    cat_lut: np.ndarray  # (categorical nodes, codes + 1) bool: code goes left; last: never
    # patterns: group g's pattern = const[g] + sum_s coef[g, s] * decision[node[g, s]]
    group_const: np.ndarray
    group_node: np.ndarray
    group_coef: np.ndarray
    # lookups: column c reads table[col_offset[c] + pattern[col_group[c]]]
    col_group: np.ndarray
    col_offset: np.ndarray
    summing: sparse.csr_matrix  # (output columns with a table, columns): which sums into which
    seg_output: np.ndarray
    table: np.ndarray
    bias: np.ndarray  # expected value per class
    compile_seconds: float

    @property
    def table_mb(self) -> float:
        return self.table.nbytes / 1e6


def _decision_arrays(forest: Forest) -> dict[str, Any]:
    numerical = np.array([c is None for c in forest.categories], dtype=bool)
    num_pos = np.flatnonzero(numerical)
    cat_pos = np.flatnonzero(~numerical)
    row_of = np.empty(forest.num_nodes + 1, dtype="int64")
    row_of[np.r_[num_pos, cat_pos, forest.num_nodes]] = np.arange(forest.num_nodes + 1)
    missing = forest.missing_type[num_pos]
    left = forest.default_left[num_pos]
    variant = np.select(
        [missing == MISSING_NAN, missing == MISSING_ZERO], [2 - left, 4 - left], default=0
    )
    sets = [forest.categories[i] for i in cat_pos]
    top = max((int(s.max()) for s in sets if s is not None and len(s)), default=0)
    if top >= _LUT_LIMIT:
        raise UnsupportedTreeError(f"a categorical split on code {top} (tables stop at 65536)")
    lut = np.zeros((len(cat_pos), top + 2), dtype=bool)
    for row, cats in enumerate(sets):
        if cats is not None and len(cats):
            lut[row, cats.astype("int64")] = True
    cat_features, cat_feature_index = np.unique(forest.feature[cat_pos], return_inverse=True)
    return {
        "row_of": row_of,
        "num_source": variant * forest.num_features + forest.feature[num_pos],
        "num_threshold": forest.threshold[num_pos],
        "cat_features": cat_features,
        "cat_feature_index": cat_feature_index.reshape(-1),
        "cat_lut": lut,
    }


def compile_contributions(booster: Any, group_bits: int = GROUP_BITS) -> ExactTables:
    """Compile a LightGBM model (``Booster`` or ``LGBMModel``) into exact SHAP tables.

    Raises:
        UnsupportedTreeError: linear trees, leaves deeper than the tables allow, or
            categorical codes above 65535.
    """
    started = time.perf_counter()
    forest = read_forest(booster)
    groups = compile_groups(forest, group_bits)
    width = max((len(g.nodes) for g in groups), default=0)
    dummy = forest.num_nodes  # an always-zero decision column pads short patterns
    group_node = np.full((len(groups), width), dummy, dtype="int64")
    group_coef = np.zeros((len(groups), width), dtype="int32")
    consts: list[int] = []
    chunks = []
    col_group, col_offset, col_output = [], [], []
    position = 0
    out_width = forest.num_features + 1
    for g, group in enumerate(groups):
        slots = len(group.features)
        # pattern-major: a row's slots of one group are adjacent (one cache line, not many)
        group_node[g, : len(group.nodes)] = group.nodes
        group_coef[g, : len(group.coef)] = group.coef * slots
        consts.append(group.const * slots)
        chunks.append(group.table.T.ravel())
        cls = group.tree % forest.num_classes
        for slot, feature in enumerate(group.features):
            col_group.append(g)
            col_offset.append(position + slot)
            col_output.append(cls * out_width + int(feature))
        position += group.table.size
    order = np.argsort(np.asarray(col_output, dtype="int64"), kind="stable")
    outputs = np.asarray(col_output, dtype="int64")[order]
    starts = np.flatnonzero(np.r_[True, outputs[1:] != outputs[:-1]][: len(outputs)])
    segment = np.cumsum(np.isin(np.arange(len(outputs)), starts)) - 1
    summing = sparse.csr_matrix(
        (np.ones(len(outputs)), (segment, np.arange(len(outputs)))),
        shape=(len(starts), len(outputs)),
    )
    bias = np.zeros(forest.num_classes)
    for tree in forest.trees:
        bias[tree.index % forest.num_classes] += tree.expected_value
    decisions = _decision_arrays(forest)
    tables = ExactTables(
        num_features=forest.num_features,
        num_classes=forest.num_classes,
        num_nodes=forest.num_nodes,
        **decisions,
        group_const=np.array(consts, dtype="int32"),
        group_node=decisions["row_of"][group_node],
        group_coef=group_coef,
        col_group=np.asarray(col_group, dtype="int64")[order],
        col_offset=np.asarray(col_offset, dtype=_index_dtype(position))[order],
        summing=summing,
        seg_output=outputs[starts],
        table=np.concatenate(chunks) if chunks else np.zeros(1),
        bias=bias,
        compile_seconds=time.perf_counter() - started,
    )
    return tables


def _index_dtype(size: int) -> str:
    return "int32" if size < (1 << 31) else "int64"


def _decisions(tables: ExactTables, XT: np.ndarray) -> np.ndarray:
    """(nodes + 1, rows) bool: True where the row goes left at the node (LightGBM's rules).

    Node-major: each node's decisions are one contiguous row, so forming patterns below
    gathers whole rows, not scattered columns.
    """
    rows = XT.shape[1]
    numerical = len(tables.num_source)
    D = np.zeros((tables.num_nodes + 1, rows), dtype=bool)
    missing = np.isnan(XT)
    # LightGBM reads |x| <= 1e-35f as an absent value, i.e. 0, and NaN as 0 unless the
    # split has missing_type NaN. A missing value goes the split's default way: -inf goes
    # left of any threshold, NaN right of every one. One variant of X per missing rule.
    clean = np.where(missing | (np.abs(XT) <= ZERO_THRESHOLD), 0.0, XT)
    zero = clean == 0.0
    variants = np.concatenate(
        [
            clean,
            np.where(missing, -np.inf, clean),  # 1: missing_type NaN, default left
            np.where(missing, np.nan, clean),  # 2: NaN, default right
            np.where(zero, -np.inf, clean),  # 3: missing_type Zero, default left
            np.where(zero, np.nan, clean),  # 4: Zero, default right
        ]
    )
    np.less_equal(variants[tables.num_source], tables.num_threshold[:, None], out=D[:numerical])
    if len(tables.cat_features):
        width = tables.cat_lut.shape[1]
        codes = np.trunc(XT[tables.cat_features])  # C++'s int cast: -0.5 is category 0
        valid = (codes >= 0) & (codes < width - 1)  # NaN, negative, unseen: never left
        codes = np.where(valid, codes, width - 1).astype("int64")
        base = (np.arange(len(tables.cat_feature_index)) * width)[:, None]
        index = codes[tables.cat_feature_index] + base
        D[numerical:-1] = tables.cat_lut.ravel().take(index)
    return D


def _explain_block(tables: ExactTables, XT: np.ndarray) -> np.ndarray:
    """(output columns with a table, rows) sums for one block of rows, node-major."""
    D = _decisions(tables, XT)
    rows = XT.shape[1]
    pattern = np.repeat(tables.group_const[:, None], rows, axis=1)
    for s in range(tables.group_node.shape[1]):
        pattern += D[tables.group_node[:, s]] * tables.group_coef[:, s, None]
    index = pattern[tables.col_group].astype(tables.col_offset.dtype, copy=False)
    index += tables.col_offset[:, None]
    return np.asarray(tables.summing @ tables.table.take(index))


def explain(tables: ExactTables, X: np.ndarray) -> np.ndarray:
    """Contributions of float64 feature rows ``X`` (LightGBM's numeric encoding)."""
    width = tables.num_features + 1
    out = np.zeros((len(X), width * tables.num_classes))
    if tables.summing.shape[0]:
        for start in range(0, len(X), ROW_BLOCK):
            XT = np.array(X[start : start + ROW_BLOCK], dtype="float64").T.copy()
            out[start : start + ROW_BLOCK, tables.seg_output] = _explain_block(tables, XT).T
    out[:, width - 1 :: width] = tables.bias
    return out


def feature_matrix(booster: Any, X: pd.DataFrame | np.ndarray) -> np.ndarray:
    """``X`` as LightGBM's predict sees it: float64, categorical columns as the codes of
    the categories the model was trained with (unseen or missing: NaN)."""
    if not isinstance(X, pd.DataFrame):
        return np.asarray(X, dtype="float64")
    categories = getattr(booster, "pandas_categorical", None) or []
    cat_columns = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
    if len(cat_columns) != len(categories):
        raise ValueError(
            f"X has {len(cat_columns)} categorical columns, the model was trained with "
            f"{len(categories)}"
        )
    if not cat_columns:
        return X.to_numpy(dtype="float64", na_value=np.nan)
    frame = X.copy(deep=False)
    for column, levels in zip(cat_columns, categories, strict=True):
        codes = frame[column].cat.set_categories(levels).cat.codes.to_numpy()
        frame[column] = np.where(codes < 0, np.nan, codes.astype("float64"))
    return frame.to_numpy(dtype="float64", na_value=np.nan)


_compiled: weakref.WeakKeyDictionary[Any, ExactTables | None] = weakref.WeakKeyDictionary()
_compile_lock = threading.Lock()


def compiled_tables(booster: Any) -> ExactTables | None:
    """The booster's exact tables, compiled on first use and kept while it lives.

    ``None`` when the model cannot be tabulated (logged once): use ``pred_contrib``.
    """
    booster = getattr(booster, "booster_", booster)
    with _compile_lock:
        if booster in _compiled:
            return _compiled[booster]
        try:
            tables = compile_contributions(booster)
        except UnsupportedTreeError as error:
            log.warning("exact contributions unavailable, using pred_contrib: %s", error)
            _compiled[booster] = None
            return None
        log.info(
            "compiled exact SHAP tables for %d trees in %.2f s (%.1f MB)",
            booster.num_trees(),
            tables.compile_seconds,
            tables.table_mb,
        )
        _compiled[booster] = tables
        return tables


def tree_contributions(
    booster: Any,
    X: pd.DataFrame | np.ndarray,
    method: str = "exact",
    num_threads: int = 1,
) -> np.ndarray:
    """Per-row SHAP contributions in raw-score space, as ``pred_contrib`` returns them.

    Args:
        booster: a fitted ``lightgbm.Booster`` or ``LGBMModel``.
        X: the model's input features (a frame with the training columns, or an array).
        method: ``"exact"`` (compiled tables, cached per booster) or ``"pred_contrib"``
            (LightGBM's TreeSHAP, the reference).
        num_threads: LightGBM threads for ``pred_contrib``.

    Returns:
        (rows, (features + 1) x classes): each class's features, then its expected value.
    """
    if method not in METHODS:
        raise ValueError(f"unknown contributions method {method!r} (use {' or '.join(METHODS)})")
    booster = getattr(booster, "booster_", booster)
    tables = compiled_tables(booster) if method == "exact" else None
    if tables is None:
        return np.asarray(booster.predict(X, pred_contrib=True, num_threads=num_threads))
    matrix = feature_matrix(booster, X)
    if matrix.ndim != 2 or matrix.shape[1] != tables.num_features:
        raise ValueError(
            f"X has {matrix.shape[-1]} features, the model was trained with {tables.num_features}"
        )
    return explain(tables, matrix)
