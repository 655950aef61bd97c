"""BANT checklist, qualification and trend: ordered, configurable rules over a lead's features.

Rules are pandas expressions (``DataFrame.eval``) over the transformed feature columns plus
``score``, ``grade`` and ``bant_met`` (how many of need/budget/authority/timing are met).
"""

from __future__ import annotations

import difflib
import json
import logging
import re

import numpy as np
import pandas as pd

from pipelines import ConfigError
from scoring.config import BantRules, QualificationRule, TrendSettings

log = logging.getLogger(__name__)

# When this feature says the field was not given, the BANT item is unknown (null).
BANT_UNKNOWN_WHEN = {
    "need": "bant_need_present == 0",
    "budget": "bant_budget_missing == 1",
    "authority": "bant_authority_level != bant_authority_level",  # NaN: no title, no declaration
    "timing": "bant_timing_missing == 1",
}


FEATURE_PREFIXES = ("bant_", "fit_", "eng_", "stage_", "attr_")
_MISSING_NAME = re.compile(r"name '(?P<name>[^']+)' is not defined")


class RuleSkipped(Exception):
    """A rule reads a feature the model does not have (its family is off, or dropped).

    A name one letter or two away from a column the model has is a typo, not a missing
    family: that stays a :class:`ConfigError`.
    """


def _evaluate(frame: pd.DataFrame, expression: str) -> pd.Series:
    try:
        result = frame.eval(expression, engine="python")
    except NameError as err:
        found = _MISSING_NAME.search(str(err))
        name = found["name"] if found else ""
        typo_of = difflib.get_close_matches(name, list(map(str, frame.columns)), n=1, cutoff=0.9)
        if name.startswith(FEATURE_PREFIXES) and not typo_of:
            raise RuleSkipped(name) from None
        hint = f" (did you mean {typo_of[0]}?)" if typo_of else ""
        raise _config_error(expression, f"{err}{hint}") from None
    except (KeyError, SyntaxError, TypeError, ValueError) as err:
        raise _config_error(expression, err) from None
    return pd.Series(np.asarray(result, dtype=bool), index=frame.index)


def _config_error(expression: str, err: object) -> ConfigError:
    known = "score, grade, bant_met and the bant_/fit_/eng_/stage_ features"
    return ConfigError(f"scoring rule {expression!r}: {err} (rules may use {known})")


_WARNED: set[tuple[str, str]] = set()


def _warn_skipped(rule: str, feature: str) -> None:
    """Once per run and rule (see :func:`reset_skipped_rules`): skipped, never a crash."""
    if (rule, feature) not in _WARNED:
        _WARNED.add((rule, feature))
        log.warning("scoring rule %s skipped: the model has no feature %s", rule, feature)


def reset_skipped_rules() -> None:
    """Forgets which skipped rules were reported: each scoring run reports them again."""
    _WARNED.clear()


def bant_checklist(Xt: pd.DataFrame, rules: BantRules) -> pd.DataFrame:
    """True / False / None per BANT item and lead (None when the lead never said, or when
    the item's rule reads a feature the model lacks: that rule is skipped with a warning)."""
    out = {}
    for item, expression in rules.model_dump().items():
        try:
            met = _evaluate(Xt, expression)
            unknown = _evaluate(Xt, BANT_UNKNOWN_WHEN[item])
        except RuleSkipped as skipped:
            _warn_skipped(f"bant.{item}", str(skipped))
            out[item] = pd.Series(None, index=Xt.index, dtype=object)
            continue
        out[item] = met.astype(object).where(~unknown, None)
    return pd.DataFrame(out, index=Xt.index)


def bant_json(checklist: pd.DataFrame) -> list[str]:
    return [json.dumps(row) for row in checklist.to_dict(orient="records")]


def qualify(frame: pd.DataFrame, rules: tuple[QualificationRule, ...], default: str) -> np.ndarray:
    """The first rule that matches names the qualification; ``default`` when none does.

    A rule reading a feature the model lacks is skipped (one warning), never a crash.
    """
    decided = np.full(len(frame), None, dtype=object)
    for rule in rules:
        try:
            hit = _evaluate(frame, rule.when).to_numpy() & (decided == None)  # noqa: E711
        except RuleSkipped as skipped:
            _warn_skipped(f"qualification.{rule.name}", str(skipped))
            continue
        decided[hit] = rule.name
    decided[decided == None] = default  # noqa: E711
    return decided


def trend(score: pd.Series, previous: pd.Series, cfg: TrendSettings) -> np.ndarray:
    """improving / steady / declining against the previous run's score, ``new`` without one."""
    delta = score.to_numpy() - previous.reindex(score.index).to_numpy(dtype="float64")
    return np.select(
        [np.isnan(delta), delta >= cfg.min_change, delta <= -cfg.min_change],
        ["new", "improving", "declining"],
        default="steady",
    )
