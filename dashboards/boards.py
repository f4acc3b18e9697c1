"""The Grafana dashboards, generated from the KPI catalog and the configuration.

- Overview: every brand's KPIs against its goals (``targets``) and data freshness.
- Brand: every catalog KPI of one brand, per platform, over a chosen window.
- Competitors: share of voice, mentions and sentiment across each competitive set.
- Pipeline health: events by outcome, dead letters, lag, workers, state.

``smm-pulse dashboards --config F --out DIR`` writes them; README.md describes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby

from grafana_foundation_sdk.builders import dashboard, stat
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DashboardLinkType,
    RowPanel,
    VariableOption,
    VariableRefresh,
    VariableSort,
)

from smm_pulse.config import Brand, Config
from smm_pulse.dashboards.exported import Exported
from smm_pulse.dashboards.panels import (
    BRAND_MATCHER,
    DATASOURCE,
    at_least,
    at_most,
    campaigns_panel,
    freshness_panel,
    goal_value,
    kpi_panel,
    query,
    stat_panel,
    steps,
    timeseries_panel,
)
from smm_pulse.dashboards.promql import JOB, Variable, any_brand, matcher, selector
from smm_pulse.dashboards.rules import recording_rules
from smm_pulse.dashboards.uids import UIDS
from smm_pulse.kpi.catalog import CATALOG, Family, Scope
from smm_pulse.kpi.goals import (
    AT_LEAST,
    BUSINESS_GOALS,
    ENGAGEMENT_RATE,
    RESPONSE_TIME,
    PlatformGoal,
)

TAG = "smm-pulse"
ROWS = {Family.ENGAGEMENT: "Engagement and audience", Family.MENTIONS: "Mentions and sentiment",
        Family.VOICE: "Share of voice", Family.RESPONSE: "Response time",
        Family.BUSINESS: "Business: traffic, conversions and ad spend"}
CAMPAIGN_PANEL_METRICS = ("smm_campaign_window_ad_spend", "smm_campaign_window_revenue")
FRESHNESS_UNIT = "timestamp"  # catalog entries shown as an age, not as a time series
WINDOW = Variable("window")  # the window chosen on a dashboard


def _base(key: str, title: str, description: str) -> dashboard.Dashboard:
    return (
        dashboard.Dashboard(title).uid(UIDS[key]).description(description)
        .tags([TAG]).editable().refresh("30s").time("now-6h", "now").timezone("browser")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .link(dashboard.DashboardLink("SMM Pulse").type(DashboardLinkType.DASHBOARDS)
              .tags([TAG]).as_dropdown(True).include_vars(False).keep_time(True))
    )


def _custom_option(value: str) -> str:
    """One value of a custom variable's comma-separated list.

    Grafana splits the list at commas not preceded by a backslash and trims each value, so
    a value ending in a backslash gets a space that keeps its backslash off the comma.
    """
    escaped = value.replace(",", "\\,")
    return escaped + " " if escaped.endswith("\\") else escaped


def _custom(name: str, label: str, values: list[str], default: str) -> dashboard.CustomVariable:
    options = ",".join(_custom_option(value) for value in values)
    return (dashboard.CustomVariable(name).label(label).values(options)
            .current(VariableOption(selected=True, text=default, value=default)))


def _window_variable(config: Config) -> dashboard.CustomVariable:
    windows = config.exported_windows
    return _custom("window", "Window", windows, windows[-1])


def _help(metric: str) -> str:
    return next(kpi.help for kpi in CATALOG if kpi.metric == metric)


def _goal_text(relation: str, goal: str | None) -> str:
    return f" Goal: {relation} {goal}." if goal else " No goal set in the configuration."


def _platform_goal_panel(goal: PlatformGoal, name: str, brand: Brand, config: Config,
                         span: int) -> stat.Panel:
    """A KPI per platform, coloured against the brand's target of it when it has one."""
    target = goal.target(brand.targets)
    window = target.window if target else config.windows[-1]
    bound = goal.bound(target) if target else None
    currency = f", {brand.currency}" if goal.unit == "currency" else ""
    thresholds = at_least if goal.relation == AT_LEAST else at_most
    return stat_panel(
        f"{goal.title} ({window}{currency})",
        _help(goal.metric) + "." + _goal_text(
            goal.relation, None if bound is None else goal_value(goal.unit, bound,
                                                                 brand.currency)),
        selector(goal.metric, window=window, **dict(goal.labels), brand=name), goal.unit,
        thresholds(bound, goal.unit), legend="{{platform}}", span=span)


def _business_row(name: str, brand: Brand, config: Config) -> Iterator[dashboard.Panel]:
    """The business goals' KPIs, one stat each filling the row."""
    width, wider = divmod(24, len(BUSINESS_GOALS))
    for i, goal in enumerate(BUSINESS_GOALS):
        yield _platform_goal_panel(goal, name, brand, config, width + (i < wider))


def _brand_row(name: str, brand: Brand, config: Config) -> Iterator[dashboard.Panel]:
    """One stat per KPI goal kind, coloured against the brand's target when it has one."""
    t = brand.targets
    b = {"brand": name}

    def window(target: object) -> str:
        return getattr(target, "window", None) or config.exported_windows[-1]

    yield freshness_panel("Newest event", matcher("brand", name), span=3)
    yield _platform_goal_panel(ENGAGEMENT_RATE, name, brand, config, span=4)
    mood = t.sentiment_score
    yield stat_panel(
        f"Sentiment ({window(mood)})",
        "Mean sentiment of the scored mentions, all platforms."
        + _goal_text("at least", mood and str(mood.min)),
        selector("brand:smm_sentiment_score:mean", window=window(mood), **b), "score",
        at_least(mood and mood.min, "score"), span=3)
    spike = t.mention_spike
    yield stat_panel(
        f"Mentions vs usual ({config.exported_windows[0]})",
        "Mention rate over the shortest window / the usual rate (the longest window without "
        "it)." + _goal_text("below", spike and f"{spike.factor}x"),
        f"{selector('brand:smm_mention_recent_rate:per_second', **b)}"
        f" / {selector('brand:smm_mention_baseline_rate:per_second', **b)}",
        "times", at_most(spike and spike.factor, "times"), span=3)
    if brand.competitors:
        voice = t.share_of_voice
        yield stat_panel(
            f"Share of voice ({window(voice)})",
            _help("smm_share_of_voice_ratio")
            + _goal_text("at least", voice and f"{voice.min:.0%}"),
            selector("smm_share_of_voice_ratio", window=window(voice), **b), "ratio",
            at_least(voice and voice.min, "ratio"), span=3)
    yield _platform_goal_panel(RESPONSE_TIME, name, brand, config, span=4)
    goal = t.followers
    yield stat_panel(
        "Followers" + (f" (goal {goal.target:,} by {goal.by})" if goal else ""),
        "Latest follower snapshots summed over the brand's accounts and platforms."
        + _goal_text("reach", goal and f"{goal.target:,} by {goal.by}"),
        selector("brand:smm_followers:sum", **b), "followers",
        steps((0.0, "orange"), (goal.target, "green")) if goal else at_least(None, "followers"),
        span=4)


def overview(config: Config) -> dashboard.Dashboard:
    board = _base("overview", "SMM Pulse: overview",
                  "Every brand's KPIs against its goals; green meets the goal, red misses it.")
    for name, brand in config.brands.items():
        board = board.with_row(dashboard.Row(name))
        for panel in _brand_row(name, brand, config):
            board = board.with_panel(panel)
        board = board.with_row(dashboard.Row(f"{name}: business"))
        for panel in _business_row(name, brand, config):
            board = board.with_panel(panel)
    return board


def brand_detail(config: Config) -> dashboard.Dashboard:
    brands = list(config.brands)
    board = (
        _base("brand", "SMM Pulse: brand",
              "Every KPI of one brand per platform over the chosen window.")
        .with_variable(_custom("brand", "Brand", brands, brands[0]))
        .with_variable(
            dashboard.QueryVariable("platform").label("Platform").datasource(DATASOURCE)
            .query('label_values({__name__=~"smm_window_interactions|smm_window_mentions|'
                   f'smm_window_unanswered_messages", {BRAND_MATCHER}}}, platform)')
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED).sort(VariableSort.ALPHABETICAL_ASC)
            .multi(True).include_all(True).all_value(".*")
            .current(VariableOption(selected=True, text="All", value="$__all")))
        .with_variable(_window_variable(config))
        .with_panel(freshness_panel("Newest event", f'{BRAND_MATCHER}, platform=~"$platform"',
                                    by="family", span=8))
    )
    shown = [k for k in CATALOG if k.unit != FRESHNESS_UNIT]
    benchmarked = {metric for brand in config.brands.values() for metric in brand.benchmarks}
    for family in Family:
        board = board.with_row(dashboard.Row(ROWS[family]))
        in_family = [k for k in shown
                     if k.family is family and k.scope is not Scope.CAMPAIGN_WINDOW]
        for metric, entries in groupby(in_family, key=lambda k: k.metric):
            board = board.with_panel(kpi_panel(list(entries), metric in benchmarked))
        if family is Family.BUSINESS:  # the declared campaigns' spend against their revenue
            board = board.with_panel(campaigns_panel(
                [next(k for k in shown if k.metric == m) for m in CAMPAIGN_PANEL_METRICS]))
    return board


def competitors(config: Config) -> dashboard.Dashboard:
    board = (
        _base("competitors", "SMM Pulse: competitors",
              "Share of voice, mentions and sentiment across each brand's competitive set.")
        .with_variable(_window_variable(config))
        .with_panel(timeseries_panel(
            "Share of voice, every brand in its own set",
            "Each brand's mentions / mentions of its competitive set over $window.",
            [query('smm_share_of_voice_ratio{window="$window"}', "{{brand}}")], "ratio",
            span=24))
    )
    for name in config.brands:
        members = config.competitive_set(name)
        if len(members) < 2:
            continue
        mentions = (f"sum by (brand) "
                    f"({any_brand('smm_window_mentions', members, window=WINDOW)})")
        board = (
            board.with_row(dashboard.Row(f"{name} vs {', '.join(members[1:])}"))
            .with_panel(timeseries_panel(
                f"Share of voice in {name}'s set",
                f"Each member's mentions / all mentions of {name}'s set over $window.",
                [query(f"{mentions} / scalar(sum({mentions}))", "{{brand}}")], "ratio"))
            .with_panel(timeseries_panel(
                "Mentions", "Mentions of each member over $window.",
                [query(mentions, "{{brand}}")], "count"))
            .with_panel(timeseries_panel(
                "Sentiment", "Mean sentiment of each member's scored mentions over $window.",
                [query(any_brand("brand:smm_sentiment_score:mean", members, window=WINDOW),
                       "{{brand}}")],
                "score"))
        )
    return board


def health(_config: Config) -> dashboard.Dashboard:
    job = f'job="{JOB}"'
    rate = "[$__rate_interval]"
    return (
        _base("health", "SMM Pulse: pipeline health",
              "Is the pipeline keeping up: events, dead letters, lag, workers, state.")
        .with_panel(stat_panel("Workers up", "Workers Prometheus scrapes successfully.",
                               f"sum(up{{{job}}})", "count",
                               steps((0.0, "red"), (1.0, "green")), span=4))
        .with_panel(stat_panel("Consumer lag", "Messages not yet read, all topics.",
                               "sum(smm_consumer_lag_messages)", "count",
                               steps((0.0, "green"), (10_000.0, "red")), span=4))
        .with_panel(freshness_panel("Newest event per brand", "", by="brand", span=16))
        .with_panel(timeseries_panel(
            "Events by outcome", "Events read from the input topics per second.",
            [query(f"sum by (outcome) (rate(smm_events_total{rate}))", "{{outcome}}")],
            "per_second", span=12))
        .with_panel(timeseries_panel(
            "Dead letters by reason", "Rejected events per second by reason; the originals "
            "are on the dead-letter topic with the reason in headers.",
            [query(f"sum by (reason) (rate(smm_dlq_events_total{rate}))", "{{reason}}")],
            "per_second", span=12))
        .with_panel(timeseries_panel(
            "Late events", "Events older than the longest window: counted, not applied.",
            [query(f"sum by (type) (rate(smm_late_events_total{rate}))", "{{type}}")],
            "per_second", span=8))
        .with_panel(timeseries_panel(
            "Consumer lag by topic", "Messages behind the end of each topic.",
            [query("sum by (topic) (smm_consumer_lag_messages)", "{{topic}}")], "count"))
        .with_panel(timeseries_panel(
            "State keys", "Keys held per kind of state, all workers (flat when state is "
            "bounded).", [query("sum by (table) (smm_state_keys)", "{{table}}")], "count"))
        .with_panel(timeseries_panel(
            "Scrape duration", "Seconds each worker takes to answer /metrics.",
            [query(f"scrape_duration_seconds{{{job}}}", "{{instance}}")], "seconds",
            span=12))
        .with_panel(timeseries_panel(
            "Worker up", "1 while Prometheus scrapes the worker.",
            [query(f"up{{{job}}}", "{{instance}}")], "count", span=12))
    )


def _reading_exported(panels: list, exported: Exported) -> list:
    """The panels whose queries read only exported series, and the rows still holding one."""
    kept = [p for p in panels
            if all(exported.reads_exported(t.expr) for t in getattr(p, "targets", None) or [])]
    rows = [i for i, p in enumerate(kept) if isinstance(p, RowPanel)]
    empty = {i for i in rows if i + 1 == len(kept) or isinstance(kept[i + 1], RowPanel)}
    return [p for i, p in enumerate(kept) if i not in empty]


BOARDS = {"overview": overview, "brand": brand_detail, "competitors": competitors,
          "health": health}


def render_all(config: Config) -> dict[str, str]:
    """File name -> dashboard JSON, stable across runs (sorted keys)."""
    encoder = JSONEncoder(sort_keys=True, indent=2, ensure_ascii=False)
    exported = Exported(config)
    exported.keep(recording_rules(config))  # what the rule file records, the panels may read
    rendered = {}
    for key, build in BOARDS.items():
        model = build(config).build()
        model.panels = _reading_exported(model.panels or [], exported)
        for number, panel in enumerate(model.panels or [], start=1):
            panel.id_val = number  # unique ids keep links and edits stable
        rendered[f"{key}.json"] = encoder.encode(model) + "\n"
    return rendered
