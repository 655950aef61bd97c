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


def leaf_shap(covers: np.ndarray, values: np.ndarray) -> np.ndarray:
    """SHAP values of leaves with k unique path features, for every pattern of decisions.

    Args:
        covers: (leaves, k) ``z_j`` of each unique path feature (its splits' covers, multiplied).
        values: (leaves,) the leaves' outputs.

    Returns:
        (leaves, 2^k, k): entry ``[l, b, j]`` is feature j's value in leaf l when feature
        j'-s decisions all go the leaf's way exactly for the bits j' set in ``b``.
    """
    leaves, k = covers.shape
    b = _bit_matrix(k)[None, :, :]  # (1, 2^k, k)
    z = covers[:, None, :]  # (leaves, 1, k)
    weights = np.array([1.0 / (k * comb(k - 1, s)) for s in range(k)])
    out = np.empty((leaves, 1 << k, k))
    for i in range(k):
        # prod over j != i of (b_j t + z_j): coefficient s sums the subsets S with |S| = s.
        poly = np.zeros((leaves, 1 << k, k))
        poly[:, :, 0] = 1.0
        degree = 0
        for j in range(k):
            if j == i:
                continue
            poly[:, :, 1 : degree + 2] = (
                poly[:, :, 1 : degree + 2] * z[:, :, j : j + 1]
                + poly[:, :, 0 : degree + 1] * b[:, :, j : j + 1]
            )
            poly[:, :, 0] *= z[:, :, j]
            degree += 1
        out[:, :, i] = values[:, None] * (b[:, :, i] - z[:, :, i]) * (poly @ weights)
    return out


def leaf_tables(forest: Forest) -> dict[int, tuple[list[int], np.ndarray]]:
    """Per leaf (by ``id``): its unique path features and SHAP table, batched by k."""
    info = {}
    by_k: dict[int, list[Leaf]] = {}
    for tree in forest.trees:
        for leaf in tree.leaves:
            order, covers = _unique_features(leaf.path, forest.feature)
            info[id(leaf)] = (order, covers)
            by_k.setdefault(len(order), []).append(leaf)
    out = {}
    for k, leaves in by_k.items():
        if k == 0:
            continue
        covers = np.array([info[id(leaf)][1] for leaf in leaves])
        values = np.array([leaf.value for leaf in leaves])
        for leaf, table in zip(leaves, leaf_shap(covers, values), strict=True):
            out[id(leaf)] = (info[id(leaf)][0], table)
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


def compile_group(
    tree: Tree,
    root: int | Leaf,
    prefix: list[Step],
    forest: Forest,
    shap: dict[int, tuple[list[int], np.ndarray]],
) -> Group | None:
    """The table of one subtree (``None`` when its leaves have no features to credit)."""
    inner, leaves = _subtree(tree, root)
    leaves = [leaf for leaf in leaves if id(leaf) in shap]
    if not leaves:
        return None
    bits = len(prefix) + len(inner)
    bit_of = {step.node: s for s, step in enumerate(prefix)}
    bit_of.update({node: len(prefix) + s for s, node in enumerate(inner)})
    inside = set(inner)
    slots: dict[int, int] = {}
    width = max(len(shap[id(leaf)][0]) for leaf in leaves)
    # per (leaf, unique feature): the pattern bits of its splits and the values they must take
    mask = np.zeros((len(leaves), width), dtype="int64")
    want = np.zeros((len(leaves), width), dtype="int64")
    slot = np.zeros((len(leaves), width), dtype="int64")
    offset = np.zeros((len(leaves), width), dtype="int64")
    valid = np.zeros((len(leaves), width), dtype=bool)
    flat, position = [], 0
    for row, leaf in enumerate(leaves):
        order, table = shap[id(leaf)]
        column = {f: j for j, f in enumerate(order)}
        for step in leaf.path:
            j = column[int(forest.feature[step.node])]
            bit = 1 << bit_of[step.node]
            mask[row, j] |= bit
            # prefix bits say "went the leaf's way"; a subtree node's bit says "went left"
            if step.node not in inside or step.left:
                want[row, j] |= bit
        for j, f in enumerate(order):
            slot[row, j] = slots.setdefault(f, len(slots))
            offset[row, j] = position + j
            valid[row, j] = True
        flat.append(table.ravel())
        position += table.size
    ks = valid.sum(axis=1)
    patterns = np.arange(1 << bits, dtype="int64")
    along = (patterns[None, None, :] & mask[:, :, None]) == want[:, :, None]
    merged = ((along & valid[:, :, None]).astype("int64") << np.arange(width)[None, :, None]).sum(1)
    index = offset[:, :, None] + merged[:, None, :] * ks[:, None, None]
    values = np.concatenate(flat)[np.where(valid[:, :, None], index, 0)]
    cells = slot[:, :, None] * (1 << bits) + patterns[None, None, :]
    table = np.bincount(
        cells[np.broadcast_to(valid[:, :, None], cells.shape)],
        weights=values[np.broadcast_to(valid[:, :, None], values.shape)],
        minlength=len(slots) << bits,
    ).reshape(len(slots), 1 << bits)
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
    roots = [
        (tree, root, prefix)
        for tree in forest.trees
        if tree.root is not None and not isinstance(tree.root, Leaf)
        for root, prefix in _group_roots(tree, group_bits)
    ]
    shap = leaf_tables(forest)
    for tree, root, prefix in roots:
        group = compile_group(tree, root, prefix, forest, shap)
        if group is not None:
            groups.append(group)
    return groups
