"""YAML configuration loaded into frozen pydantic models.

Every config model forbids unknown keys, so a typo in ``configs/*.yaml`` is an error that
names the key instead of a silent default. The directory comes from ``--config-dir``, the
``LEADSCORE_CONFIG_DIR`` environment variable, or ``./configs``; a missing file means the
defaults below, which are the same values the shipped YAML files spell out.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

ACTIVITY_TYPES = (
    "email_open",
    "email_click",
    "email_reply",
    "web_visit",
    "pricing_page_view",
    "content_download",
    "webinar_attended",
    "form_submit",
    "demo_request",
    "meeting",
    "call",
    "unsubscribe",
    "email_bounce",
)
STAGES = ("new", "contacted", "qualified", "demo", "proposal", "negotiation", "won", "lost")


class ConfigError(ValueError):
    """A config file is missing a value, has an unknown key or a value of the wrong type."""


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EngagementConfig(Frozen):
    activity_types: tuple[str, ...] = ACTIVITY_TYPES
    windows_days: tuple[int, ...] = (7, 30, 90)
    half_lives_days: tuple[float, ...] = (7.0, 30.0)
    high_intent_types: tuple[str, ...] = (
        "demo_request",
        "pricing_page_view",
        "meeting",
        "email_reply",
    )
    negative_types: tuple[str, ...] = ("unsubscribe", "email_bounce")
    trend_days: int = Field(14, gt=0)


class StageConfig(Frozen):
    order: tuple[str, ...] = STAGES
    closed: tuple[str, ...] = ("won", "lost")
    stagnant_days: dict[str, int] = {
        "new": 14,
        "contacted": 21,
        "qualified": 30,
        "demo": 21,
        "proposal": 30,
        "negotiation": 30,
    }


class EngineSettings(Frozen):
    """DuckDB settings for the event aggregations."""

    memory_limit: str = Field("2GB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")


class FeaturesConfig(Frozen):
    horizon_days: int = Field(90, gt=0)
    engine: EngineSettings = EngineSettings()
    engagement: EngagementConfig = EngagementConfig()
    stages: StageConfig = StageConfig()
    free_mail_domains: tuple[str, ...] = (
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "aol.com",
        "icloud.com",
        "gmx.de",
        "web.de",
        "mail.ru",
        "proton.me",
        "protonmail.com",
    )


M = TypeVar("M", bound=BaseModel)


def config_dir(explicit: str | Path | None = None) -> Path:
    """The directory holding the YAML configs."""
    return Path(explicit or os.environ.get("LEADSCORE_CONFIG_DIR") or "configs")


def load_config(model: type[M], name: str, directory: str | Path | None = None) -> M:
    """Loads ``<directory>/<name>.yaml`` into ``model``; defaults when the file is absent.

    Raises:
        ConfigError: one line naming the file and the offending key.
    """
    path = config_dir(directory) / f"{name}.yaml"
    raw: dict = {}
    if path.exists():
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: not valid YAML ({err.__class__.__name__})") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: {key}: {first['msg']}") from None
