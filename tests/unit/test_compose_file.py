"""docker-compose.yml cannot run here (no Docker engine): check it statically."""

from pathlib import Path

import yaml

ROOT = Path(__file__).parents[2]


def test_every_file_the_compose_stack_mounts_or_builds_exists():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    for name, service in compose["services"].items():
        assert "image" in service or (ROOT / service["build"] / "Dockerfile").exists(), name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: {source}"


def test_compose_worker_uses_a_valid_configuration():
    from smm_pulse.config import load_config

    assert load_config(ROOT / "deploy" / "smm.yaml").brands


def test_committed_prometheus_rules_match_the_compose_configuration():
    from dashboards.rules import render
    from smm_pulse.config import load_config

    committed = (ROOT / "deploy" / "rules.yml").read_text(encoding="utf-8")
    assert committed == render(load_config(ROOT / "deploy" / "smm.yaml")), "run: make docs"


def test_secrets_are_files_outside_the_repository():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    assert "secrets/" in (ROOT / ".gitignore").read_text(encoding="utf-8")
