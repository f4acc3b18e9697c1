"""Generated Grafana dashboards: schema-valid, committed as generated, from catalog and goals."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import jsonschema
import pytest

from smm_pulse.config import Config, load_config
from smm_pulse.dashboards.boards import ROWS, UIDS, render_all
from smm_pulse.dashboards.push import FOLDER_UID, push
from smm_pulse.kpi.catalog import CATALOG, Family, Scope

ROOT = Path(__file__).parents[3]
SCHEMA = json.loads((ROOT / "tests/schemas/grafana-dashboard-v11.6.jsonschema.json").read_text())
DEMO = load_config(ROOT / "deploy" / "smm.yaml")
BARE = Config.model_validate({"brands": {"solo": {}}, "windows": ["1h"]})  # no goals, no rivals


def boards(config: Config) -> dict[str, dict]:
    return {name: json.loads(text) for name, text in render_all(config).items()}


def queries(board: dict) -> list[str]:
    return [t["expr"] for p in board["panels"] if p["type"] != "row" for t in p["targets"]]


# Brand names that look like quoting, regexes, Go templates or Grafana variables.
HOSTILE = Config.model_validate({"brands": {
    name: {"competitors": [n for n in ('"', "\\", "{{ $value }}") if n != name]}
    for name in ('"', "\\", "{{ $value }}", '=~".*"', "$window", "[[window]]", "x\u200f😀")}})
# The brand variable, regex-escaped by Grafana, in a PromQL raw string (no escapes there).
SAFE_BRAND_MATCHER = "brand=~`${brand:regex}`"
# A Grafana variable reference: $name, [[name]], [[name:format]], ${name}, ${name:format}.
GRAFANA_VARIABLE = re.compile(r"\$(\w+)|\[\[(\w+)(?::(\w+))?\]\]|\$\{(\w+)(?::([^}]+))?\}")


def grafana_variables(text: str) -> list[tuple[str, str | None]]:
    """(name, format) of every variable Grafana would substitute in ``text``."""
    return [(m[1] or m[2] or m[4], m[3] or m[5]) for m in GRAFANA_VARIABLE.finditer(text)]


def variable_queries(board: dict) -> list[str]:
    return [v["query"] for v in board.get("templating", {}).get("list", [])
            if v["type"] == "query"]


@pytest.mark.parametrize("config", [DEMO, HOSTILE], ids=["demo", "hostile"])
def test_every_brand_selector_is_safe_for_any_brand_name(config):
    """Fixed brands are quoted so Grafana finds no variable in them, while each dashboard
    variable is still used; the brand variable is used in the regex format inside a raw
    string only."""
    uses_of_brand = 0
    generated = boards(config)
    for name, board in generated.items():
        own = {v["name"] for v in board.get("templating", {}).get("list", [])}
        used: set[str] = set()
        for text in queries(board) + variable_queries(board):
            found = grafana_variables(text)
            used |= {n for n, _ in found}
            assert {n for n, _ in found} <= own | {"__rate_interval"}, (name, text)
            brand_uses = [use for use in found if use[0] == "brand"]
            assert text.count(SAFE_BRAND_MATCHER) == len(brand_uses), (name, text)
            uses_of_brand += len(brand_uses)
        assert used >= own, name
    brand = generated["brand.json"]  # where every query is of the chosen brand
    assert uses_of_brand == len(queries(brand)) + len(variable_queries(brand))


@pytest.mark.parametrize("config", [DEMO, HOSTILE], ids=["demo", "hostile"])
def test_dashboards_with_a_window_variable_select_that_window_in_every_query(config):
    """Quoting fixed label values must not quote the dashboard's own variables away."""
    for name, board in boards(config).items():
        if "window" not in {v["name"] for v in board.get("templating", {}).get("list", [])}:
            continue
        for text in queries(board):
            windows = re.findall(r'\bwindow=~?"[^"]*"', text)
            assert set(windows) <= {'window="$window"'}, (name, text)


@pytest.mark.parametrize("config", [DEMO, BARE], ids=["demo", "bare"])
def test_generated_dashboards_validate_against_the_dashboard_schema(config):
    for name, board in boards(config).items():
        errors = list(jsonschema.Draft7Validator(SCHEMA).iter_errors(board))
        assert not errors, f"{name}: {jsonschema.exceptions.best_match(errors).message}"


def test_committed_dashboards_are_what_the_generator_writes():
    committed = {p.name: p.read_text(encoding="utf-8")
                 for p in (ROOT / "dashboards" / "json").glob("*.json")}
    assert committed == render_all(DEMO), "regenerate with: make docs"


def test_every_dashboard_has_its_uid_and_unique_panel_ids():
    for key, board in zip(UIDS, boards(DEMO).values(), strict=True):
        assert board["uid"] == UIDS[key]
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids))


def test_every_catalog_metric_has_a_panel_on_the_brand_dashboard():
    """Per-campaign metrics aside: one panel shows the campaigns' spend and revenue."""
    text = "\n".join(queries(boards(DEMO)["brand.json"]))
    for kpi in CATALOG:
        if kpi.scope is not Scope.CAMPAIGN_WINDOW:
            assert kpi.metric in text, kpi.metric


def test_the_business_row_shows_each_campaigns_spend_and_revenue():
    panels = row_panels(boards(DEMO)["brand.json"], ROWS[Family.BUSINESS])
    panel = panels["Campaigns: ad spend and revenue over $window"]
    assert [(t["expr"], t["legendFormat"]) for t in panel["targets"]] == [
        ('smm_campaign_window_ad_spend{brand=~`${brand:regex}`, window="$window"}',
         "{{campaign}} ad spend {{currency}}"),
        ('smm_campaign_window_revenue{brand=~`${brand:regex}`, window="$window"}',
         "{{campaign}} revenue {{currency}}"),
    ]


def row_panels(board: dict, row_title: str) -> dict[str, dict]:
    """Panels by title under the row ``row_title`` (panels follow their row)."""
    found: dict[str, dict] = {}
    row = None
    for panel in board["panels"]:
        if panel["type"] == "row":
            row = panel["title"]
        elif row == row_title:
            found[panel["title"]] = panel
    return found


def test_overview_thresholds_are_the_brands_goals():
    acme = DEMO.brands["acme-bank"].targets
    panels = row_panels(boards(DEMO)["overview.json"], "acme-bank")
    er = panels[f"ER by followers ({acme.engagement_rate.window})"]
    assert [s["value"] for s in er["fieldConfig"]["defaults"]["thresholds"]["steps"]] == [
        0.0, acme.engagement_rate.min]
    assert 'brand="acme-bank"' in er["targets"][0]["expr"]


def test_a_brand_without_goals_or_competitors_gets_neutral_panels_and_no_share_of_voice():
    overview = boards(BARE)["overview.json"]
    stats = [p for p in overview["panels"] if p["type"] == "stat" and p["title"] != "Newest event"]
    assert stats and all(
        [s["color"] for s in p["fieldConfig"]["defaults"]["thresholds"]["steps"]] == ["blue"]
        for p in stats)
    assert not [p for p in overview["panels"] if p["title"].startswith("Share of voice")]
    assert len(boards(BARE)["competitors.json"]["panels"]) == 1  # the all-brands panel only


class FakeGrafana(BaseHTTPRequestHandler):
    """Grafana's folder and dashboard API, as far as ``push`` uses it (no Grafana runs here)."""

    folders: ClassVar[dict[str, dict]] = {}
    saved: ClassVar[list[dict]] = []
    auth: ClassVar[list[str]] = []

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.auth.append(self.headers.get("Authorization", ""))
        uid = self.path.rsplit("/", 1)[-1]
        if uid in self.folders:
            self._answer(200, self.folders[uid])
        else:
            self._answer(404, {"message": "folder not found"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path.endswith("/folders"):
            self.folders[body["uid"]] = {"uid": body["uid"], "title": body["title"]}
            self._answer(200, self.folders[body["uid"]])
        else:
            self.saved.append(body)
            uid = body["dashboard"]["uid"]
            self._answer(200, {"status": "success", "uid": uid, "url": f"/d/{uid}"})

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def grafana() -> Iterator[str]:
    FakeGrafana.folders, FakeGrafana.saved, FakeGrafana.auth = {}, [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGrafana)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_push_creates_the_folder_once_and_overwrites_every_dashboard(grafana):
    first = push(DEMO, grafana, token="glsa_test")
    second = push(DEMO, grafana, token="glsa_test")
    assert list(FakeGrafana.folders) == [FOLDER_UID] and first.folder == FOLDER_UID
    assert second.dashboards == [f"/d/{uid}" for uid in UIDS.values()]
    assert len(FakeGrafana.saved) == 2 * len(UIDS)
    assert all(s["overwrite"] and s["folderUid"] == FOLDER_UID for s in FakeGrafana.saved)
    assert set(FakeGrafana.auth) == {"Bearer glsa_test"}


def test_the_overview_has_a_business_row_per_brand_coloured_by_its_business_goals():
    acme = DEMO.brands["acme-bank"].targets
    panels = row_panels(boards(DEMO)["overview.json"], "acme-bank: business")
    assert set(panels) == {"Conversion rate (24h)", "Bounce rate (24h)", "CPC (24h, USD)",
                           "CAC (24h, USD)", "ROI (24h)"}
    assert sum(p["gridPos"]["w"] for p in panels.values()) == 24

    def steps(title: str) -> list[tuple[float, str]]:
        thresholds = panels[title]["fieldConfig"]["defaults"]["thresholds"]["steps"]
        return [(s["value"], s["color"]) for s in thresholds]

    assert steps("Conversion rate (24h)") == [(0.0, "red"), (acme.conversion_rate.min, "green")]
    assert steps("CPC (24h, USD)") == [(0.0, "green"), (acme.cost_per_click.max, "red")]
    assert "Goal: at most 0.80 USD." in panels["CPC (24h, USD)"]["description"]
    # a brand without a business goal: neutral
    bare = row_panels(boards(BARE)["overview.json"], "solo: business")
    assert {s["color"] for p in bare.values()
            for s in p["fieldConfig"]["defaults"]["thresholds"]["steps"]} == {"blue"}


def test_benchmarks_are_dashed_reference_lines_on_their_kpis_panels_only():
    brand = boards(DEMO)["brand.json"]
    benchmarked = {m for b in DEMO.brands.values() for m in b.benchmarks}
    for panel in brand["panels"]:
        lines = [t for t in panel.get("targets", []) if t["legendFormat"] == "benchmark"]
        metric = panel["targets"][0]["expr"].split("{")[0] if panel.get("targets") else None
        if metric in benchmarked:
            [line] = lines
            assert line["expr"] == (f'brand:smm_benchmark:value{{brand=~`${{brand:regex}}`, '
                                    f'metric="{metric}"}}')
            [override] = panel["fieldConfig"]["overrides"]
            assert override["matcher"] == {"id": "byNames", "options": {
                "mode": "include", "names": ["benchmark"]}}
            assert override["properties"][0]["id"] == "custom.lineStyle"
        else:
            assert not lines, panel["title"]
    assert len(benchmarked) == 5


def test_panels_read_only_exported_families_and_windows_and_offer_only_exported_windows():
    config = Config.model_validate({
        "brands": {"acme": {"competitors": ["globex"],
                            "targets": {"engagement_rate": {"min": 0.03}}},
                   "globex": {}},
        "export": {"families": ["engagement"], "windows": ["1h", "24h"]}})
    withheld = [k.metric for k in CATALOG if k.family.value != "engagement"
                and k.metric != "smm_newest_event_timestamp_seconds"]
    for name, board in boards(config).items():
        for expr in queries(board):
            assert not [m for m in withheld if m in expr], (name, expr)
            assert "mention" not in expr and 'window="5m"' not in expr, (name, expr)
        for variable in board.get("templating", {}).get("list", []):
            if variable["name"] == "window":
                assert variable["query"] == "1h,24h"
    detail = boards(config)["brand.json"]
    assert [p["title"] for p in detail["panels"] if p["type"] == "row"] == [
        "Engagement and audience"]
    assert any("smm_engagement_rate_ratio" in expr for expr in queries(detail))
