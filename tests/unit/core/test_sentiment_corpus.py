"""The project's own labelled corpus of brand mentions, as training reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from smm_pulse.sentiment.training.sources import (
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    corpus_file,
    project_corpus,
)


def test_every_corpus_line_parses_into_a_labelled_example():
    examples = list(project_corpus())
    assert len(examples) > 1_500
    assert {example.label for example in examples} == {NEGATIVE, NEUTRAL, POSITIVE}
    assert all(example.text.strip() and example.source == "brand_mentions"
               for example in examples)


def test_a_part_of_every_class_is_held_out_and_no_text_is_in_both_splits():
    examples = list(project_corpus())
    held_out = {example.text for example in examples if example.held_out}
    trained = {example.text for example in examples if not example.held_out}
    assert not held_out & trained
    for label in (NEGATIVE, NEUTRAL, POSITIVE):
        assert sum(e.held_out and e.label == label for e in examples) >= 50


def test_the_classes_are_roughly_balanced():
    examples = list(project_corpus())
    shares = [sum(e.label == label for e in examples) / len(examples)
              for label in (NEGATIVE, NEUTRAL, POSITIVE)]
    assert min(shares) > 0.25


def test_comments_and_blank_lines_are_skipped(tmp_path: Path):
    path = tmp_path / "mentions.tsv"
    path.write_text("# a comment\n\nneg\tcomplaint\tbank\theldout\tДеньги не вернули\n"
                    "pos\tpraise\tbank\ttrain\tFixed in 5 minutes\n", "utf-8")
    examples = list(corpus_file(path))
    assert [(e.text, e.label, e.held_out) for e in examples] == [
        ("Деньги не вернули", NEGATIVE, True), ("Fixed in 5 minutes", POSITIVE, False)]


@pytest.mark.parametrize("line", [
    "bad\tcomplaint\tbank\ttrain\ttext",  # unknown label
    "neg\tcomplaint\tbank\ttest\ttext",  # unknown split
    "neg\tcomplaint\tbank\ttrain",  # no text
    "neg complaint bank train text",  # spaces, not tabs
])
def test_a_malformed_line_is_an_error_naming_the_file_and_line(tmp_path: Path, line: str):
    path = tmp_path / "mentions.tsv"
    path.write_text(f"# header\n{line}\n", "utf-8")
    with pytest.raises(ValueError, match=r"mentions\.tsv:2"):
        list(corpus_file(path))

