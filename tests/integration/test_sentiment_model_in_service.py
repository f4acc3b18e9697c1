"""The service scores mentions with the user's transformer model when
``$SMM_PULSE_SENTIMENT_MODEL`` names its directory; the collector's score still wins."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest

from smm_pulse.sentiment import MODEL_ENV
from tests.integration.conftest import Service, value, write_config
from tests.tiny_sentiment_model import write_model

pytestmark = pytest.mark.integration
CONFIG = """
brands:
  acme: {}
windows: [1h]
partitions: 1
"""


def mention(event_id: str, text: str, **extra: object) -> bytes:
    return orjson.dumps({"type": "mention", "event_id": event_id, "ts": time.time() - 60,
                         "brand": "acme", "platform": "vk", "text": text, **extra})


def test_the_service_scores_mentions_with_the_users_model(broker, tmp_path: Path):
    model = write_model(tmp_path / "model", leaning="positive")
    service = Service(write_config(tmp_path / "smm.yaml", CONFIG), broker.bootstrap,
                      tmp_path / "service.log", extra_env={MODEL_ENV: str(model)}).start()
    try:
        service.feed([
            mention("m1", "Ужасная поддержка, третий день не могут вернуть деньги 😡"),
            mention("m2", "worst bank ever, never again"),
            mention("m3", "acme is fine", sentiment=-0.5),  # the collector's score wins
        ], tmp_path)
        samples = service.wait_for_events(3)
    finally:
        service.stop()
    labels = {"brand": "acme", "platform": "vk", "window": "1h"}
    # the rules call both texts negative; the model (leaning positive) decides here
    assert value(samples, "smm_sentiment_positive_ratio", **labels) == pytest.approx(2 / 3)
    assert value(samples, "smm_sentiment_negative_ratio", **labels) == pytest.approx(1 / 3)
