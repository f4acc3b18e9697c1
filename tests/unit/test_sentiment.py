"""The service's sentiment scorer: Russian and English brand talk, offline."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest

from smm_pulse.sentiment import scorer
from smm_pulse.sentiment.evaluate import macro_f1
from smm_pulse.sentiment.language import detect


def score(text: str, lang: str | None = None) -> float:
    return scorer().score(text, lang).score


def label(text: str) -> str:
    return scorer().score(text).label


COMPLAINTS = [
    "Ужасная поддержка, третий день не могут вернуть деньги 😡",
    "не советую этот банк",
    "Приложение не работает с утра",
    "The app keeps crashing, worst bank ever",
    "still waiting for my refund, overcharged again",
]
PRAISE = [
    "Спасибо, всё быстро решили)",
    "Очень удобное приложение, рекомендую!",
    "Отличный сервис 👍",
    "Love the new app, super smooth!",
    "not bad at all",
]
# Plain news, empty and wordless texts.
NEITHER = ["Сбербанк открыл новое отделение на Ленина",
           "Who else is going to the Apple event tomorrow?", "", "   ", "12345"]


@pytest.mark.parametrize(("text", "expected"), [
    *((text, "negative") for text in COMPLAINTS),
    *((text, "positive") for text in PRAISE),
    *((text, "neutral") for text in NEITHER),
])
def test_brand_talk_gets_the_label_a_reader_would_give(text, expected):
    assert label(text) == expected, score(text)


def test_negation_flips_a_sentiment_word():
    assert score("хороший банк") > 0.05 > -0.05 > score("не хороший банк")
    assert score("not good") < -0.05 < 0.05 < score("good")


def test_intensifiers_strengthen_and_dampeners_weaken():
    assert score("очень плохой сервис") < score("плохой сервис") < 0
    assert 0 < score("немного хороший") < score("хороший")


def test_emoji_and_brackets_carry_sentiment_on_their_own():
    assert label("Тинькофф 😍😍") == "positive"
    assert label("МТС 😡") == "negative"
    assert score("ну вот опять(((") < 0 < score("получил карту)))")


def test_a_contrast_weighs_what_follows_more():
    assert label("Приложение красивое, но постоянно глючит и зависает") == "negative"


def test_mixed_language_text_is_read_by_both_scorers():
    assert label("Сбер app is awful, ужасно 😡") == "negative"
    assert label("Приложение Сбера просто awesome") == "positive"  # the English word counts
    assert detect("Приложение Сбера просто awesome") == "ru"
    assert detect("Love the Сбер app") == "en"


def test_the_language_hint_wins_and_scores_stay_in_range():
    assert scorer().score("ok", "ru").lang == "ru"
    long_text = "Ужасно! " * 2_000 + "Спасибо! " * 500  # at the 10,000-character scale
    result = scorer().score(long_text)
    assert -1 <= result.score <= 0 and result.label == "negative"


def test_macro_f1_averages_the_three_labels():
    truth = ["positive", "neutral", "negative", "neutral"]
    assert macro_f1(truth, truth) == 1
    assert macro_f1(truth, ["neutral"] * 4) == pytest.approx((0 + 2 * 2 / 6 + 0) / 3)


def test_sentiment_command_prints_score_label_and_language_per_line():
    lines = [{"text": "Ужасная поддержка, третий день не могут вернуть деньги 😡"},
             {"text": "great service", "lang": "en"}]
    done = subprocess.run(
        [sys.executable, "-m", "smm_pulse.cli", "sentiment"],
        input=b"\n".join(orjson.dumps(line) for line in lines) + b"\n",
        capture_output=True, check=True, timeout=60)
    out = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert out[0]["score"] < -0.05 and out[0]["label"] == "negative" and out[0]["lang"] == "ru"
    assert out[1]["label"] == "positive" and out[1]["lang"] == "en"


def test_sentiment_command_rejects_a_line_without_text():
    done = subprocess.run([sys.executable, "-m", "smm_pulse.cli", "sentiment"],
                          input=b'{"lang": "en"}\n', capture_output=True, timeout=60)
    assert done.returncode == 2 and b"line 1" in done.stderr
