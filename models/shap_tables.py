"""The compile step of exact TreeSHAP: per-model tables of SHAP values by decision pattern.

Path-dependent TreeSHAP (what LightGBM's ``pred_contrib`` computes) sums, over the leaves of
every tree, a Shapley value of the leaf's path. For a leaf with unique path features
``F`` (a feature split on twice counts once, as in ``Tree::TreeSHAP``), feature ``i`` gets

    value * (o_i - z_i) * sum over S ⊆ F \\ {i} of |S|! (k-|S|-1)! / k! * prod_{j∈S} o_j
                                                     * prod_{j∉S, j≠i} z_j

where ``o_j`` is 1 when the row takes every split on ``j`` along the path the leaf's way,
``z_j`` the product of those splits' covers (child count / parent count) and ``k = |F|``.
The row enters only through its decisions on the path, so each leaf's values can be
tabulated once for all 2^depth patterns of decisions (the WOODELF idea) and looked up.

Leaves are tabulated in *groups*: a node's whole subtree shares its path prefix, so the
sum of its leaves' values is one table indexed by the prefix decisions plus one bit per
internal node of the subtree. A group is a subtree whose bits fit ``group_bits``; with
depth-4 trees that is two lookups per tree per feature slot instead of sixteen.

A group's pattern is linear in the row's decisions (1 = went left): prefix step s adds
``2^s * d`` when the path goes left there and ``2^s * (1 - d)`` when it goes right, a
subtree node adds ``2^s * d``. So the pattern of every group is a constant plus a few
columns of the decision matrix times powers of two.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

from models.tree_dump import Forest, Leaf, Step, Tree, UnsupportedTreeError

GROUP_BITS = 10  # a group's table: 2^bits entries per feature slot
MAX_PATH_BITS = 14  # deeper leaves: no table (the caller falls back to pred_contrib)


@dataclass(frozen=True)
class Group:
    """One table: the summed SHAP values of a subtree's leaves, by decision pattern."""

    tree: int
    nodes: np.ndarray  # global node ids whose decisions form the pattern, bit s = nodes[s]
    coef: np.ndarray  # +2^s (left, or a subtree node) or -2^s (prefix step going right)
    const: int  # sum of 2^s over prefix steps going right
    features: np.ndarray  # feature of each slot
    table: np.ndarray  # (slots, 2^bits) float64


def _bit_matrix(bits: int) -> np.ndarray:
    return ((np.arange(1 << bits)[:, None] >> np.arange(bits)) & 1).astype("float64")


def leaf_shap(covers: np.ndarray, value: float) -> np.ndarray:
    """SHAP values of one leaf for every pattern of its unique features' decisions.

    Args:
        covers: ``z_j`` of each unique path feature (product of its splits' covers).
        value: the leaf's output.

    Returns:
        (2^k, k): row ``b`` holds each feature's value when feature j's decisions all go
        the leaf's way exactly when bit j of ``b`` is set.
    """
    k = len(covers)
    b = _bit_matrix(k)
    weights = np.array([1.0 / (k * comb(k - 1, s)) for s in range(k)])
    out = np.empty((1 << k, k))
    for i in range(k):
        # prod over j != i of (b_j t + z_j): coefficient s sums the subsets S with |S| = s.
        poly = np.zeros((1 << k, k))
        poly[:, 0] = 1.0
        degree = 0
        for j in range(k):
            if j == i:
                continue
            poly[:, 1 : degree + 2] = (
                poly[:, 1 : degree + 2] * covers[j] + poly[:, 0 : degree + 1] * b[:, j : j + 1]
            )
            poly[:, 0] *= covers[j]
            degree += 1
        out[:, i] = value * (b[:, i] - covers[i]) * (poly @ weights)
    return out


def _unique_features(path: list[Step], feature: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Unique features of a path (first-appearance order) and their merged covers."""
    order: list[int] = []
    cover: dict[int, float] = {}
    for step in path:
        f = int(feature[step.node])
        if f not in cover:
            order.append(f)
            cover[f] = 1.0
        cover[f] *= step.cover
    return order, np.array([cover[f] for f in order])


def _subtree(tree: Tree, root: int | Leaf) -> tuple[list[int], list[Leaf]]:
    """Internal nodes (pre-order) and leaves under ``root``."""
    nodes: list[int] = []
    leaves: list[Leaf] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, Leaf):
            leaves.append(node)
        else:
            nodes.append(node)
            left, right = tree.children[node]
            stack.extend((right, left))
    return nodes, leaves


def _group_roots(tree: Tree, group_bits: int) -> list[tuple[int | Leaf, list[Step]]]:
    """Disjoint subtrees covering every leaf, each with prefix + internal nodes <= bits."""
    roots: list[tuple[int | Leaf, list[Step]]] = []
    size: dict[int, int] = {}

    def count(node: int | Leaf) -> int:
        if isinstance(node, Leaf):
            return 0
        left, right = tree.children[node]
        size[node] = 1 + count(left) + count(right)
        return size[node]

    assert tree.root is not None
    count(tree.root)
    stack: list[tuple[int | Leaf, list[Step]]] = [(tree.root, [])]
    while stack:
        node, prefix = stack.pop()
        if isinstance(node, Leaf):
            if len(prefix) > MAX_PATH_BITS:
                raise UnsupportedTreeError(
                    f"tree {tree.index} has a leaf at depth {len(prefix)} "
                    f"(exact tables stop at {MAX_PATH_BITS})"
                )
            roots.append((node, prefix))
        elif len(prefix) + size[node] <= group_bits:
            roots.append((node, prefix))
        else:
            left, right = tree.children[node]
            stack.append((right, [*prefix, tree.steps[(node, False)]]))
            stack.append((left, [*prefix, tree.steps[(node, True)]]))
    return roots


def compile_group(tree: Tree, root: int | Leaf, prefix: list[Step], forest: Forest) -> Group | None:
    """The table of one subtree (``None`` when its leaves have no features to credit)."""
    inner, leaves = _subtree(tree, root)
    inside = set(inner)
    bits = len(prefix) + len(inner)
    bit_of = {step.node: s for s, step in enumerate(prefix)}
    bit_of.update({node: len(prefix) + s for s, node in enumerate(inner)})
    patterns = _bit_matrix(bits).astype(bool)
    slots: dict[int, int] = {}
    for leaf in leaves:
        for f in _unique_features(leaf.path, forest.feature)[0]:
            slots.setdefault(f, len(slots))
    if not slots:
        return None
    table = np.zeros((len(slots), 1 << bits))
    for leaf in leaves:
        order, covers = _unique_features(leaf.path, forest.feature)
        shap = leaf_shap(covers, leaf.value)
        merged = np.zeros(1 << bits, dtype="int64")
        for j, f in enumerate(order):
            along = np.ones(1 << bits, dtype=bool)
            for step in leaf.path:
                if int(forest.feature[step.node]) == f:
                    went = patterns[:, bit_of[step.node]]
                    # prefix bits already say "matches"; subtree bits say "went left"
                    matches = went if step.node not in inside or step.left else ~went
                    along &= matches
            merged |= along.astype("int64") << j
        for j, f in enumerate(order):
            table[slots[f]] += shap[merged, j]
    nodes = np.array([step.node for step in prefix] + inner, dtype="int64")
    coef = np.array(
        [(1 << s) if step.left else -(1 << s) for s, step in enumerate(prefix)]
        + [1 << (len(prefix) + s) for s in range(len(inner))],
        dtype="int64",
    )
    const = sum(1 << s for s, step in enumerate(prefix) if not step.left)
    return Group(tree.index, nodes, coef, const, np.array(list(slots), dtype="int64"), table)


def compile_groups(forest: Forest, group_bits: int = GROUP_BITS) -> list[Group]:
    """Every table of a forest.

    Raises:
        UnsupportedTreeError: a leaf deeper than :data:`MAX_PATH_BITS`.
    """
    groups = []
    group_bits = min(group_bits, MAX_PATH_BITS)
    for tree in forest.trees:
        if tree.root is None or isinstance(tree.root, Leaf):
            continue
        for root, prefix in _group_roots(tree, group_bits):
            group = compile_group(tree, root, prefix, forest)
            if group is not None:
                groups.append(group)
    return groups
