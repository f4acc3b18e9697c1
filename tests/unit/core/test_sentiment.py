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


def test_a_question_judges_less_than_a_statement():
    assert label("Is the new app good?") == "neutral" != label("The new app is good.")
    assert label("Поддержка плохая?") == "neutral" != label("Поддержка плохая.")
    assert label("Is anyone else's app broken again?? worst bank ever") == "negative"


def test_names_made_of_sentiment_words_are_not_judgements():
    assert label("Picked up a TV at Best Buy") == "neutral"
    assert label("Picked up a TV at Best Buy, best price ever") == "positive"


def test_like_counts_as_liking_only_after_its_subject():
    assert label("It looks like a new logo") == "neutral"
    assert label("I like the new logo") == "positive"


def test_a_modifier_with_its_own_valence_only_modifies():
    assert label("супер плохо") == "negative"  # not "супер" +3 against "плохо"
    assert label("no good") == "negative"


def test_stretched_words_and_adverbs_read_as_their_dictionary_form():
    assert label("sooo goood") == "positive"
    assert label("ужаааас") == "negative"
    assert label("одиноко") == "negative"  # the lexicon has the adjective одинокий


def test_what_a_customer_lacks_or_awaits_is_a_complaint_or_eagerness():
    assert label("no reply from support") == "negative"
    assert label("нет связи второй день") == "negative"
    assert label("can't wait for the new phone") == "positive"


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
