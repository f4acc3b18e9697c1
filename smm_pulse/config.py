"""The service configuration: one YAML file, validated at start (contract section 5).

Every error names the file, the key path and what is wrong, e.g.
``demo.yaml: brands.acme.competitors[1]: 'globex' is not a declared brand``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from streams.events import normalize_brand

CONFIG_ENV = "SMM_PULSE_CONFIG"
_DURATION = re.compile(r"^(\d+)(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message says where and why."""


def duration_seconds(text: str) -> int:
    """Seconds in a Prometheus-style duration such as ``5m``, ``1h``, ``24h``, ``7d``."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration like 30s, 5m, 1h or 7d")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _check_duration(text: str) -> str:
    duration_seconds(text)
    return text


Duration = Annotated[str, AfterValidator(_check_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class MinTarget(_Strict):
    """A KPI that should stay at or above ``min`` over ``window``."""

    min: float
    window: Duration = "24h"
    for_: Duration = Field("30m", alias="for")


class SentimentTarget(MinTarget):
    window: Duration = "1h"
    for_: Duration = Field("15m", alias="for")
    min_mentions: int = Field(20, ge=1)


class SpikeTarget(_Strict):
    factor: float = Field(3.0, gt=1)
    min_mentions: int = Field(50, ge=1)
    for_: Duration = Field("5m", alias="for")


class MaxTarget(_Strict):
    max: float = Field(gt=0)
    window: Duration = "24h"
    for_: Duration = Field("1h", alias="for")


class FollowersGoal(_Strict):
    target: int = Field(gt=0)
    by: dt.date
    for_: Duration = Field("1h", alias="for")


class Targets(_Strict):
    engagement_rate: MinTarget | None = None
    sentiment_score: SentimentTarget | None = None
    mention_spike: SpikeTarget | None = None
    share_of_voice: MinTarget | None = None
    response_time: MaxTarget | None = None
    followers: FollowersGoal | None = None


class Brand(_Strict):
    competitors: list[str] = []
    targets: Targets = Targets()


class Topics(_Strict):
    engagement: str = "smm.engagement"
    mentions: str = "smm.mentions"
    dlq: str = "smm.dlq"


class SentimentSettings(_Strict):
    """How the service scores mentions that come without the collector's sentiment."""

    # The trained model shipped in the package (docs/sentiment.md), or the rules alone:
    # no start-up cost, ten times the speed, less accurate.
    scorer: Literal["model", "rules"] = "model"


class Config(_Strict):
    brands: dict[str, Brand] = Field(min_length=1)
    # Consumer group and prefix of internal topics: workers with one id share the work.
    app_id: str = Field("smm-pulse", pattern=r"^[A-Za-z0-9._-]{1,100}$")
    windows: list[Duration] = ["5m", "1h", "24h"]
    topics: Topics = Topics()
    partitions: int = Field(8, ge=1, le=256)
    # A post whose snapshots stop for this long is forgotten (bounded state); a later
    # snapshot of it counts as a first one (see docs/design.md).
    post_retention: Duration = "30d"
    # Platform ids accepted besides the contract's (vk, telegram, ...): any other is
    # rejected, so the series per brand stay bounded whatever collectors send.
    platforms: list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]] = []
    sentiment: SentimentSettings = SentimentSettings()

    @field_validator("brands", mode="before")
    @classmethod
    def _brands_by_nfc_name(cls, brands: Any) -> Any:
        if not isinstance(brands, dict):
            return brands
        normalized: dict[str, Any] = {}
        for name, body in brands.items():
            if not isinstance(name, str) or not 1 <= len(name) <= 64:
                raise ValueError(f"brand name {name!r} must be a string of 1..64 characters")
            key = normalize_brand(name)
            if key in normalized:
                raise ValueError(f"brand {name!r} is declared twice")
            normalized[key] = body if body is not None else {}
        return normalized

    @field_validator("windows")
    @classmethod
    def _distinct_windows(cls, windows: list[str]) -> list[str]:
        if not windows:
            raise ValueError("at least one window is needed")
        if len({duration_seconds(w) for w in windows}) != len(windows):
            raise ValueError("windows must be distinct")
        return sorted(windows, key=duration_seconds)

    @model_validator(mode="after")
    def _competitors_are_declared_brands(self) -> Config:
        for name, brand in self.brands.items():
            seen: set[str] = set()
            for i, raw in enumerate(brand.competitors):
                competitor = normalize_brand(raw)
                where = f"brands.{name}.competitors[{i}]"
                if competitor == name:
                    raise ValueError(f"{where}: a brand cannot be its own competitor")
                if competitor not in self.brands:
                    raise ValueError(f"{where}: {raw!r} is not a declared brand")
                if competitor in seen:
                    raise ValueError(f"{where}: {raw!r} is listed twice")
                seen.add(competitor)
        return self

    @model_validator(mode="after")
    def _target_windows_are_configured(self) -> Config:
        for name, brand in self.brands.items():
            for kind, target in brand.targets:
                window = getattr(target, "window", None)
                if window is not None and window not in self.windows:
                    raise ValueError(f"brands.{name}.targets.{kind}.window: {window!r} is not "
                                     f"one of the configured windows {self.windows}")
        return self

    @property
    def window_seconds(self) -> dict[str, int]:
        return {w: duration_seconds(w) for w in self.windows}

    @property
    def longest_window_seconds(self) -> int:
        return max(self.window_seconds.values())

    def competitive_set(self, brand: str) -> list[str]:
        """The brand itself followed by its competitors (share of voice denominator)."""
        return [brand, *(normalize_brand(c) for c in self.brands[brand].competitors)]


def _where(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part not in ("function-after", "function-before"):
            path += f".{part}" if path else str(part)
    return path


def _problem(source: str, error: Any) -> str:
    message = error["msg"].removeprefix("Value error, ")
    if not error["loc"]:  # cross-field checks name their key path themselves
        return f"{source}: {message}"
    return f"{source}: {_where(error['loc'])}: {message}"


def parse_config(text: str, source: str) -> Config:
    """Parse and validate YAML text; ``source`` names the file in errors."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: (top level): expected a mapping with a 'brands' key")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("\n".join(_problem(source, e) for e in exc.errors())) from None


def load_config(path: str | os.PathLike[str] | None) -> Config:
    """Load the file named by ``path``, else by ``$SMM_PULSE_CONFIG``."""
    chosen = path or os.environ.get(CONFIG_ENV)
    if not chosen:
        raise ConfigError(f"no configuration: pass --config FILE or set {CONFIG_ENV}")
    file = Path(chosen)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from None
    return parse_config(text, str(file))
