"""docker-compose.yml cannot run here (no Docker engine): check it statically."""

import json
from pathlib import Path

import jsonschema
import yaml

from smm_pulse.dashboards.panels import DATASOURCE

ROOT = Path(__file__).parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"


def mounts(service: str) -> dict[str, str]:
    """Container path -> host path of a service's bind mounts."""
    found = {}
    for volume in COMPOSE["services"][service].get("volumes", []):
        source, target = volume.split(":")[:2]
        found[target] = source
    return found


def test_compose_file_follows_the_compose_specification():
    schema = json.loads((ROOT / "tests/schemas/compose-spec.json").read_text(encoding="utf-8"))
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(COMPOSE))
    assert not errors, jsonschema.exceptions.best_match(errors).message


def test_the_stack_has_every_part_with_health_checks_and_named_volumes():
    services = COMPOSE["services"]
    assert {"kafka", "worker", "prometheus", "alertmanager", "grafana", "feeder"} <= set(services)
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    assert all("healthcheck" in service for service in services.values())
    named = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])
             if not v.startswith(".")}
    assert named == set(COMPOSE["volumes"])


def test_grafana_is_provisioned_with_the_dashboards_datasource_and_the_generated_json():
    grafana = mounts("grafana")
    assert grafana["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"
    datasources = yaml.safe_load((PROVISIONING / "datasources/prometheus.yml").read_text())
    [prometheus] = datasources["datasources"]
    assert (prometheus["uid"], prometheus["type"]) == (DATASOURCE.uid, DATASOURCE.type_val)
    providers = yaml.safe_load((PROVISIONING / "dashboards/smm-pulse.yml").read_text())
    path = providers["providers"][0]["options"]["path"]
    assert grafana[path] == "./dashboards/json"
    assert sorted(p.name for p in (ROOT / "dashboards/json").glob("*.json")) == [
        "brand.json", "competitors.json", "health.json", "overview.json"]


def test_every_file_the_compose_stack_mounts_or_builds_exists():
    for name, service in COMPOSE["services"].items():
        assert "image" in service or (ROOT / service["build"] / "Dockerfile").exists(), name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: {source}"


def test_compose_worker_uses_a_valid_configuration():
    from smm_pulse.config import load_config

    assert load_config(ROOT / "deploy" / "smm.yaml").brands


def test_committed_prometheus_rules_match_the_compose_configuration():
    from smm_pulse.config import load_config
    from smm_pulse.dashboards.rules import render

    committed = (ROOT / "deploy" / "rules.yml").read_text(encoding="utf-8")
    assert committed == render(load_config(ROOT / "deploy" / "smm.yaml")), "run: make docs"


def test_secrets_are_files_outside_the_repository():
    for secret in COMPOSE["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    assert "secrets/" in (ROOT / ".gitignore").read_text(encoding="utf-8")


def test_compose_commands_are_commands_of_the_cli():
    import typer

    from smm_pulse.cli import app

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert '"up", "--config", "/etc/smm-pulse/smm.yaml"' in dockerfile and "up" in commands
    assert COMPOSE["services"]["feeder"]["command"][0] in commands
