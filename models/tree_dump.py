"""A LightGBM model's trees as plain arrays, read from ``booster.dump_model()``.

Everything :mod:`models.contributions` needs to replay LightGBM's own decisions and
TreeSHAP's covers: per internal node its feature, threshold (or set of categories going
left), missing-value handling and data count; per leaf its value, data count and the path
of decisions from the root. Counts are LightGBM's ``internal_count`` / ``leaf_count``, the
numbers its TreeSHAP (``Tree::TreeSHAP``) and ``Tree::ExpectedValue`` divide by.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

MISSING_NONE, MISSING_ZERO, MISSING_NAN = 0, 1, 2
_MISSING_TYPES = {"None": MISSING_NONE, "Zero": MISSING_ZERO, "NaN": MISSING_NAN}
# LightGBM's kZeroThreshold (1e-35f): |x| at or below it counts as zero for missing_type Zero.
ZERO_THRESHOLD = float(np.float32(1e-35))


class UnsupportedTreeError(ValueError):
    """A model whose trees this module cannot replay exactly (e.g. linear trees)."""


@dataclass(frozen=True)
class Step:
    """One decision on a leaf's path: at ``node`` the row went left (or right)."""

    node: int  # global id of the internal node
    left: bool
    cover: float  # data_count(child) / data_count(node), TreeSHAP's zero fraction


@dataclass
class Leaf:
    value: float
    path: list[Step]


@dataclass
class Tree:
    """One tree: its internal nodes (global ids, in pre-order), leaves and expected value."""

    index: int
    nodes: list[int] = field(default_factory=list)
    leaves: list[Leaf] = field(default_factory=list)
    expected_value: float = 0.0
    children: dict[int, tuple[int | Leaf, int | Leaf]] = field(default_factory=dict)
    root: int | Leaf | None = None
    depth_of: dict[int, int] = field(default_factory=dict)
    steps: dict[tuple[int, bool], Step] = field(default_factory=dict)  # (node, left) -> Step


@dataclass
class Forest:
    """All trees of a model, with one row per internal node in the node arrays."""

    num_features: int
    num_classes: int  # trees per iteration: tree t explains class t % num_classes
    trees: list[Tree]
    feature: np.ndarray  # int64 per node
    threshold: np.ndarray  # float64 per node (NaN for categorical nodes)
    categories: list[np.ndarray | None]  # categories going left, per node (None: numerical)
    missing_type: np.ndarray  # int8 per node
    default_left: np.ndarray  # bool per node

    @property
    def num_nodes(self) -> int:
        return len(self.feature)


class _Builder:
    def __init__(self) -> None:
        self.feature: list[int] = []
        self.threshold: list[float] = []
        self.categories: list[np.ndarray | None] = []
        self.missing_type: list[int] = []
        self.default_left: list[bool] = []

    def add_node(self, node: dict[str, Any], thresholds: list[float]) -> int:
        decision = node["decision_type"]
        self.feature.append(int(node["split_feature"]))
        if decision == "==":
            cats = [float(c) for c in str(node["threshold"]).split("||") if c != ""]
            self.categories.append(np.asarray(cats, dtype="float64"))
            self.threshold.append(np.nan)
        elif decision == "<=":
            self.categories.append(None)
            # the dump prints 15 digits; the model text has the exact double
            index = int(node["split_index"])
            exact = thresholds[index] if index < len(thresholds) else float(node["threshold"])
            self.threshold.append(exact)
        else:
            raise UnsupportedTreeError(f"unknown decision_type {decision!r} in the model dump")
        self.missing_type.append(_MISSING_TYPES[str(node.get("missing_type", "None"))])
        self.default_left.append(bool(node.get("default_left", False)))
        return len(self.feature) - 1


def _count(node: dict[str, Any]) -> float:
    return float(node["leaf_count"] if "leaf_index" in node else node["internal_count"])


def _walk(
    tree: Tree,
    builder: _Builder,
    node: dict[str, Any],
    path: list[Step],
    depth: int,
    thresholds: list[float],
) -> int | Leaf:
    """Add ``node`` and its subtree; returns its global id, or its Leaf."""
    if "split_index" not in node:
        leaf = Leaf(float(node["leaf_value"]), list(path))
        tree.leaves.append(leaf)
        return leaf
    gid = builder.add_node(node, thresholds)
    tree.nodes.append(gid)
    tree.depth_of[gid] = depth
    total = _count(node)
    kids = []
    for side, key in ((True, "left_child"), (False, "right_child")):
        child = node[key]
        step = Step(gid, side, _count(child) / total if total > 0 else 0.0)
        tree.steps[(gid, side)] = step
        kids.append(_walk(tree, builder, child, [*path, step], depth + 1, thresholds))
    tree.children[gid] = (kids[0], kids[1])
    return gid


def _expected_value(structure: dict[str, Any]) -> float:
    """``Tree::ExpectedValue``: leaf values weighted by leaf_count / the root's count."""
    if "split_index" not in structure:
        return float(structure["leaf_value"])
    total = float(structure["internal_count"])
    value = 0.0
    stack = [structure]
    leaves = []
    while stack:
        node = stack.pop()
        if "split_index" in node:
            stack.extend((node["right_child"], node["left_child"]))
        else:
            leaves.append(node)
    for leaf in sorted(leaves, key=lambda n: int(n["leaf_index"])):
        value += (float(leaf["leaf_count"]) / total) * float(leaf["leaf_value"])
    return value


def read_forest(booster: Any) -> Forest:
    """The trees of a fitted ``lightgbm.Booster`` (or a model with ``booster_``).

    Raises:
        UnsupportedTreeError: linear trees, or a dump this module does not know.
    """
    booster = getattr(booster, "booster_", booster)
    dump = booster.dump_model()
    thresholds = exact_thresholds(booster.model_to_string())
    builder = _Builder()
    trees = []
    for info in dump["tree_info"]:
        structure = info["tree_structure"]
        if "leaf_coeff" in structure or _has_linear_leaves(structure):
            raise UnsupportedTreeError("linear trees have no exact table decomposition")
        tree = Tree(index=int(info["tree_index"]))
        tree.root = _walk(tree, builder, structure, [], 0, thresholds.get(tree.index, []))
        tree.expected_value = _expected_value(structure)
        trees.append(tree)
    return Forest(
        num_features=int(dump["max_feature_idx"]) + 1,
        num_classes=int(dump.get("num_tree_per_iteration", 1)),
        trees=trees,
        feature=np.asarray(builder.feature, dtype="int64"),
        threshold=np.asarray(builder.threshold, dtype="float64"),
        categories=builder.categories,
        missing_type=np.asarray(builder.missing_type, dtype="int8"),
        default_left=np.asarray(builder.default_left, dtype="bool"),
    )


def exact_thresholds(model_text: str) -> dict[int, list[float]]:
    """Each tree's ``threshold=`` line of the model text, by tree index (split order)."""
    out: dict[int, list[float]] = {}
    for block in model_text.split("\nTree=")[1:]:
        header, _, body = block.partition("\n")
        for line in body.splitlines():
            if line.startswith("threshold="):
                out[int(header)] = [float(v) for v in line[len("threshold=") :].split()]
                break
            if not line:
                break
    return out


def _has_linear_leaves(structure: dict[str, Any]) -> bool:
    stack = [structure]
    while stack:
        node = stack.pop()
        if "split_index" in node:
            stack.extend((node["left_child"], node["right_child"]))
        elif "leaf_coeff" in node:
            return True
    return False
