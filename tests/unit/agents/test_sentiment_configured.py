"""The configuration's ``sentiment.scorer`` is the scorer the service and the CLI use, and
the mentions agent scores a message's texts off the event loop before handling it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

import smm_pulse.agents.mentions as mentions_agent
from smm_pulse.agents.family import Batch
from smm_pulse.config import ConfigError, parse_config
from smm_pulse.kpi.catalog import Family
from smm_pulse.sentiment import Sentiment, scorer
from smm_pulse.sentiment.rules import RuleScorer
from smm_pulse.streams.internal import Mentions, Packed, encoded
from tests.unit.agents.harness import StubApp, one_brand_pipeline

COMPLAINT = "Третий день не могут вернуть деньги, поддержка молчит"
PRAISE = "Not bad at all, support fixed it in 5 minutes"


def test_the_model_is_the_configured_default_and_rules_can_be_chosen():
    assert parse_config("brands: {acme: {}}", "smm.yaml").sentiment.scorer == "model"
    chosen = parse_config("brands: {acme: {}}\nsentiment: {scorer: rules}", "smm.yaml")
    assert chosen.sentiment.scorer == "rules"


def test_an_unknown_scorer_is_a_configuration_error_naming_the_key():
    with pytest.raises(ConfigError, match=r"smm.yaml: sentiment.scorer: .*'model' or 'rules'"):
        parse_config("brands: {acme: {}}\nsentiment: {scorer: bert}", "smm.yaml")


def run_cli(*args: str, texts: Sequence[str], env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[bytes]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "smm_pulse.cli", *args],
        input=b"".join(orjson.dumps({"text": t}) + b"\n" for t in texts),
        capture_output=True, timeout=120,
        env={k: v for k, v in {**os.environ, **(env or {})}.items()
             if k not in ("SMM_PULSE_CONFIG", "SMM_PULSE_SENTIMENT_MODEL")})


def test_the_sentiment_command_uses_the_model_by_default():
    done = run_cli("sentiment", texts=[COMPLAINT, PRAISE])
    assert done.returncode == 0, done.stderr
    out = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert [line["label"] for line in out] == ["negative", "positive"]
    model = scorer(kind="model")
    assert [line["score"] for line in out] == [model.score(COMPLAINT).score,
                                               model.score(PRAISE).score]


def test_the_sentiment_command_uses_the_configured_rules(tmp_path: Path):
    config = tmp_path / "smm.yaml"
    config.write_text("brands: {acme: {}}\nsentiment: {scorer: rules}\n")
    done = run_cli("sentiment", "--config", str(config), texts=[COMPLAINT, PRAISE])
    assert done.returncode == 0, done.stderr
    scores = [orjson.loads(line)["score"] for line in done.stdout.splitlines()]
    assert scores == [RuleScorer().score(COMPLAINT).score, RuleScorer().score(PRAISE).score]
    assert scores != [scorer(kind="model").score(t).score for t in (COMPLAINT, PRAISE)]


def test_the_bench_needs_labelled_data_and_reports_per_class_figures(tmp_path: Path):
    missing = run_cli("sentiment-bench", "--scorer", "rules", texts=[])
    assert missing.returncode == 2 and b"--data" in missing.stderr
    rows = [{"text": "ужасный сервис", "label": "negative"},
            {"text": "отличный сервис", "label": "positive"},
            {"text": "сервис открылся в среду", "label": "neutral"}]
    (tmp_path / "rusentiment_test.jsonl").write_bytes(
        b"\n".join(orjson.dumps(row) for row in rows))
    done = run_cli("sentiment-bench", "--scorer", "rules", "--runs", "1", texts=[],
                   env={"SMM_PULSE_SENTIMENT_DATA": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    report = done.stdout.decode()
    assert "ru: 3 texts, macro-F1 1.000" in report
    assert "negative precision 1.000 recall 1.000" in report and "loaded in" in report
    assert "mentions/s per core (CPU time; " in report


class RecordingScorer:
    """Scores every text 0.5 and notes the thread it ran on."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], str]] = []

    def score(self, text: str, lang: str | None = None) -> Sentiment:
        return self.score_many([(text, lang)])[0]

    def score_many(self, texts: Sequence[tuple[str, str | None]]) -> list[Sentiment]:
        self.calls.append(([text for text, _ in texts], threading.current_thread().name))
        return [Sentiment(0.5, "en") for _ in texts]


def registered_mentions_agent(monkeypatch, kind: str) -> dict[str, Any]:
    """The mentions agent registered on a stub pipeline whose configuration names ``kind``;
    what it handed to ``register_family_agent``, and the scorer kinds it asked for."""
    pipeline = one_brand_pipeline()
    pipeline.config = pipeline.config.model_copy(
        update={"sentiment": pipeline.config.sentiment.model_copy(update={"scorer": kind})})
    pipeline.family_topics[Family.VOICE] = SimpleNamespace(
        get_topic_name=lambda: "voice", send_soon=lambda **_: None)
    recording = RecordingScorer()
    found: dict[str, Any] = {"kinds": [], "scorer": recording}

    def fake_scorer(model_dir: str | None = None, kind: str = "rules") -> RecordingScorer:
        found["kinds"].append(kind)
        return recording

    def fake_register(_pipeline, family, handle, **options) -> None:
        found.update(family=family, handle=handle, **options)

    monkeypatch.setattr(mentions_agent, "scorer", fake_scorer)
    monkeypatch.setattr(mentions_agent, "register_family_agent", fake_register)
    assert isinstance(pipeline.app, StubApp)
    mentions_agent.register(pipeline)
    return found


@pytest.mark.parametrize("kind", ["model", "rules"])
def test_the_service_loads_the_configured_scorer_once(monkeypatch, kind):
    found = registered_mentions_agent(monkeypatch, kind)
    assert found["kinds"] == [kind]


def test_a_message_is_scored_off_the_loop_before_the_handler_reads_it(monkeypatch):
    found = registered_mentions_agent(monkeypatch, "model")
    now = time.time()
    block = Mentions.of_rows([
        ("m1", now - 10, "vk", None, "поддержка молчит", None, None, None, None),
        ("m2", now - 10, "vk", -0.9, None, None, None, None, None),  # the collector's wins
        ("m3", now - 10, "vk", None, "поддержка молчит", None, None, None, None),  # scored once
    ])
    value = encoded(Packed("smm.mentions", {"acme": [block]}))[0]
    recording: RecordingScorer = found["scorer"]

    asyncio.run(found["prepare"](value))
    assert recording.calls == [(["поддержка молчит"], recording.calls[0][1])]
    assert recording.calls[0][1] != threading.current_thread().name  # a worker thread

    handled: list[list[float]] = []
    original = mentions_agent.mention_scores
    monkeypatch.setattr(mentions_agent, "mention_scores",
                        lambda *args: handled.append(original(*args)) or handled[-1])
    found["handle"](Batch(0, "acme", {Mentions: block}, now))
    assert handled == [[0.5, -0.9, 0.5]]
    assert len(recording.calls) == 1  # the handler read the prepared scores
