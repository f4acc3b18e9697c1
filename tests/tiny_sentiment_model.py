"""A tiny BERT sentiment classifier written to a directory, as a user's fine-tuned model
would be (``save_pretrained``), for tests of the transformer scorer: nothing is downloaded."""

from __future__ import annotations

from pathlib import Path

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "acme", "is", "good", "bad", "not",
         "bank", "the", "app", "works", "ужасная", "поддержка", "!", ",", "."]
LABELS = {0: "Negative", 1: "Neutral", 2: "Positive"}


def write_model(path: Path, leaning: str | None = None, seed: int = 7) -> Path:
    """A random model (seeded); ``leaning`` ("negative", ...) makes that class win every text."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(VOCAB), hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=32, max_position_embeddings=48,
                        initializer_range=0.5,  # weights large enough to tell texts apart
                        num_labels=len(LABELS), id2label=LABELS,
                        label2id={name: index for index, name in LABELS.items()})
    model = BertForSequenceClassification(config)
    if leaning:
        bias = [4.0 if name.lower() == leaning else 0.0 for name in LABELS.values()]
        with torch.no_grad():
            model.classifier.weight.zero_()
            model.classifier.bias.copy_(torch.tensor(bias))
    model.save_pretrained(path)
    BertTokenizer(vocab={word: index for index, word in enumerate(VOCAB)}).save_pretrained(path)
    return path
