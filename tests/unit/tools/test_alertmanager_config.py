"""The shipped Alertmanager configuration: valid for amtool, and routes as docs/alerts.md says."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CONFIG = Path(__file__).parents[3] / "alertmanager" / "alertmanager.yml"


@pytest.fixture(scope="module")
def amtool() -> str:
    found = shutil.which("amtool")
    assert found, "amtool is missing: apt-get install prometheus-alertmanager"
    return found


def route(amtool: str, *labels: str) -> str:
    done = subprocess.run([amtool, "config", "routes", "test", f"--config.file={CONFIG}",
                           *labels], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_alertmanager_config_is_valid(amtool):
    done = subprocess.run([amtool, "check-config", str(CONFIG)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (["alertname=SmmWorkerDown", "severity=critical", "instance=w1"],
         "oncall-telegram,incident-webhook"),
        (["alertname=SmmDeadLettersHigh", "severity=warning", "topic=smm.engagement"],
         "oncall-telegram,incident-webhook"),
        (["alertname=SmmConsumerLagHigh", "severity=warning", "topic=smm.mentions"],
         "oncall-telegram,incident-webhook"),
        (["alertname=SmmMentionSpike", "brand=globex-bank", "severity=critical"],
         "brand-telegram"),
        (["alertname=SmmMentionSpike", "brand=acme-bank", "severity=critical"],
         "brand-telegram,acme-bank-team"),
        (["alertname=SmmEngagementRateBelowGoal", "brand=acme-bank", "severity=warning"],
         "acme-bank-team"),
        (["alertname=SmmBrandSilent", "brand=acme-bank", "severity=info"], "marketing-slack"),
        (["alertname=SmmSentimentBelowGoal", "brand=globex-bank", "severity=warning"],
         "marketing-slack"),
        (["alertname=SmmBrandSilent", "brand=globex-bank", "severity=info"], "marketing-email"),
    ],
)
def test_alerts_route_by_severity_and_brand(amtool, labels, receivers):
    assert route(amtool, *labels) == receivers
