"""The optional transformer scorer: a local model directory behind the same interface."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from smm_pulse.kpi.formulas import sentiment_label
from smm_pulse.sentiment import MODEL_ENV, _loaded, scorer
from smm_pulse.sentiment.rules import RuleScorer
from smm_pulse.sentiment.transformer import (
    ModelError,
    TransformerScorer,
    class_indexes,
    probabilities_to_score,
)
from tests.tiny_sentiment_model import write_model

COMPLAINT = "Ужасная поддержка, третий день не могут вернуть деньги 😡"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    for leaning in ("negative", "neutral", "positive"):
        write_model(root / leaning, leaning)
    write_model(root / "random")
    return root


@pytest.fixture(autouse=True)
def fresh_scorer_cache() -> None:
    _loaded.cache_clear()


def test_the_likeliest_class_decides_the_label():
    assert sentiment_label(probabilities_to_score(0.1, 0.2, 0.7)) == "positive"
    assert sentiment_label(probabilities_to_score(0.6, 0.3, 0.1)) == "negative"
    # neutral most likely, even with positive well ahead of negative: inside the band
    assert sentiment_label(probabilities_to_score(0.05, 0.5, 0.45)) == "neutral"
    assert probabilities_to_score(0.05, 0.5, 0.45) > 0  # the lean is kept
    assert probabilities_to_score(0.0, 0.0, 1.0) == 1.0
    assert probabilities_to_score(1.0, 0.0, 0.0) == -1.0


def test_class_names_are_read_from_the_models_labels():
    assert class_indexes({0: "NEG", 1: "neu", 2: "Positive"}) == {
        "negative": 0, "neutral": 1, "positive": 2}
    assert class_indexes({0: "positive", 1: "negative"}) == {"positive": 0, "negative": 1}
    with pytest.raises(ModelError, match="do not name negative and positive"):
        class_indexes({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})


def test_the_model_decides_the_score(models: Path):
    for leaning in ("negative", "neutral", "positive"):
        results = TransformerScorer(models / leaning).score_many(
            [("acme is good", None), (COMPLAINT, None)])
        assert [r.label for r in results] == [leaning, leaning]
        assert [r.lang for r in results] == ["en", "ru"]


def test_batched_scores_equal_scores_one_at_a_time(models: Path):
    model = TransformerScorer(models / "random")
    texts = [(" ".join(["acme", "is", "good", "bad", "not"][: 1 + i % 5] * (1 + i % 3)), None)
             for i in range(40)]  # more than one forward pass, of different lengths
    batched = [r.score for r in model.score_many(texts)]
    assert batched == pytest.approx([model.score(text).score for text, _ in texts], abs=1e-3)
    assert len(set(batched)) >= 10  # of 15 distinct texts: the model reads the words


def test_empty_and_very_long_texts_are_scored(models: Path):
    model = TransformerScorer(models / "random")
    empty, long = model.score_many([("", None), ("acme is good " * 5_000, None)])
    assert -1 <= empty.score <= 1 and -1 <= long.score <= 1  # cut to the model's positions


def test_the_environment_names_the_services_model(models: Path, monkeypatch):
    monkeypatch.setenv(MODEL_ENV, str(models / "positive"))
    assert isinstance(scorer(), TransformerScorer)
    monkeypatch.delenv(MODEL_ENV)
    assert isinstance(scorer(), RuleScorer)


def test_a_directory_without_a_model_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ModelError, match="not a model directory"):
        TransformerScorer(tmp_path)


def run_sentiment(*args: str, text: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "smm_pulse.cli", "sentiment", *args],
                          input=orjson.dumps({"text": text}) + b"\n", capture_output=True,
                          timeout=120)


def test_the_sentiment_command_reads_with_the_given_model(models: Path):
    done = run_sentiment("--model", str(models / "positive"), text=COMPLAINT)
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout)["label"] == "positive"  # the model's word, not the rules'


def test_the_sentiment_command_rejects_a_directory_without_a_model(tmp_path: Path):
    done = run_sentiment("--model", str(tmp_path), text=COMPLAINT)
    assert done.returncode == 2
    assert b"not a model directory" in done.stderr
