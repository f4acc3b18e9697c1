from pathlib import Path

from smm_pulse.kpi.docs import metrics_markdown


def test_committed_metrics_docs_match_the_catalog():
    committed = Path(__file__).parents[3] / "docs" / "metrics.md"
    assert committed.read_text(encoding="utf-8") == metrics_markdown(), (
        "regenerate with: python -m smm_pulse.kpi.docs > docs/metrics.md")
