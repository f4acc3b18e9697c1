"""The ``smm-pulse`` command (docs/contract.md, section 5)."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer
from tqdm import tqdm

from smm_pulse.config import (
    CONFIG_ENV,
    Config,
    ConfigError,
    Kafka,
    Topics,
    kafka_from_environment,
    load_config,
)
from smm_pulse.kpi.benchmarks import check_benchmarks
from smm_pulse.runtime.broker import BOOTSTRAP_ENV, EmbeddedBroker
from smm_pulse.sentiment import MODEL_ENV

if TYPE_CHECKING:
    from smm_pulse.sentiment import Scorer, ScorerKind

app = typer.Typer(help="SMM Pulse: real-time social media marketing KPIs.", no_args_is_help=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Configuration YAML (default: $SMM_PULSE_CONFIG)."),
]


@contextlib.contextmanager
def _user_error(kind: type[Exception], heading: str) -> Iterator[None]:
    """A ``kind`` error is in what the user gave: its message and exit code 2, no traceback."""
    try:
        yield
    except kind as exc:
        typer.echo(f"{heading}{exc}", err=True)
        raise typer.Exit(2) from None


def _load(path: Path | None) -> Config:
    with _user_error(ConfigError, "configuration error:\n"):
        config = load_config(path)
        check_benchmarks(config, str(path or os.environ.get(CONFIG_ENV)))
        return config


def _reach_kafka(bootstrap: str, settings: Kafka) -> None:
    """A wrong address, CA certificate or password stops the command with one line, within
    ``kafka.connect_timeout_seconds``, instead of clients retrying for ever."""
    from smm_pulse.runtime.kafka_check import KafkaUnreachable, check_connection

    with _user_error(KafkaUnreachable, "kafka: "):
        check_connection(bootstrap, settings)


@app.command()
def up(
    config: ConfigOption = None,
    demo: Annotated[bool, typer.Option(help="Also feed realistic synthetic events.")] = False,
    port: Annotated[int, typer.Option(envvar="SMM_PULSE_PORT", help="Web port.")] = 6066,
    bind: Annotated[str, typer.Option(envvar="SMM_PULSE_BIND",
                                      help="Web address; 0.0.0.0 in containers.")] = "127.0.0.1",
    loglevel: Annotated[str, typer.Option(help="crit, error, warn, info or debug.")] = "warn",
    data_dir: Annotated[Path | None, typer.Option(
        envvar="SMM_PULSE_DATA_DIR",
        help="Worker's local files (default: ./<app_id>-data).")] = None,
) -> None:
    """Run the service: embedded broker (unless SMM_KAFKA_BOOTSTRAP is set), worker, /metrics."""
    from smm_pulse.demo.feeder import DemoFeeder, default_config_path
    from smm_pulse.runtime import memory
    from smm_pulse.wiring import create_pipeline

    settings = _load(config or (Path(default_config_path()) if demo else None))
    if data_dir is not None:
        with _user_error(OSError, "data directory: "):
            data_dir.mkdir(parents=True, exist_ok=True)
    # A bad $SMM_PULSE_SENTIMENT_MODEL or model file stops here, before the broker.
    _sentiment_scorer(None, settings.sentiment.scorer)
    bootstrap = os.environ.get(BOOTSTRAP_ENV)
    if bootstrap:
        _reach_kafka(bootstrap, settings.kafka)
    elif settings.kafka.security_protocol != "PLAINTEXT":
        typer.echo(f"kafka: security_protocol is {settings.kafka.security_protocol}, but the "
                   f"embedded broker speaks PLAINTEXT: set {BOOTSTRAP_ENV} to your cluster",
                   err=True)
        raise typer.Exit(2)
    broker = None if bootstrap else EmbeddedBroker().start()
    bootstrap = bootstrap or broker.bootstrap  # type: ignore[union-attr]
    feeder = DemoFeeder(settings, bootstrap) if demo else None
    typer.echo(f"SMM Pulse: live page on http://{bind}:{port}/", err=True)
    typer.echo(f"SMM Pulse: broker {bootstrap}, metrics on http://{bind}:{port}/metrics", err=True)
    memory.return_large_buffers_to_os()
    memory.GcSettings().install()
    try:
        pipeline = create_pipeline(settings, bootstrap, port, bind, data_dir)
        if feeder:
            feeder.start()
        _worker_class()(pipeline.app, loglevel=loglevel).execute_from_commandline()
    finally:
        if feeder:
            feeder.stop()
        if broker:
            broker.stop()


def _worker_class() -> type:
    import faust

    from smm_pulse.logs import quiet_repeats

    class Worker(faust.Worker):
        """Faust's worker; a failure repeated many times a second is logged once every few."""

        def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
            super().on_setup_root_logger(logger, level)
            quiet_repeats(logger)

    return Worker


@app.command("demo-feed")
def demo_feed(config: ConfigOption = None) -> None:
    """Feed realistic synthetic events until stopped (what `up --demo` adds, without a worker)."""
    from smm_pulse.demo.feeder import DemoFeeder, default_config_path

    settings = _load(config or Path(default_config_path()))
    bootstrap = os.environ.get(BOOTSTRAP_ENV, "127.0.0.1:9092")
    _reach_kafka(bootstrap, settings.kafka)
    typer.echo(f"SMM Pulse demo feed: broker {bootstrap}", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        DemoFeeder(settings, bootstrap).run()


@app.command()
def feed(
    file: Annotated[str, typer.Argument(help="JSON Lines file, or - for stdin.")],
    config: ConfigOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Send events from JSON Lines (one event or one batch per line) to the right topics."""
    from smm_pulse.sdk import CollectorClient

    settings = _load(config) if config or os.environ.get(CONFIG_ENV) else None
    topics = settings.topics if settings else Topics()
    if settings:
        security = settings.kafka
    else:  # no file: the SMM_KAFKA_* variables alone
        with _user_error(ConfigError, "configuration error:\n"):
            security = kafka_from_environment()
    bootstrap = os.environ.get(BOOTSTRAP_ENV, "127.0.0.1:9092")
    _reach_kafka(bootstrap, security)
    source: BinaryIO = sys.stdin.buffer if file == "-" else open(file, "rb")  # noqa: SIM115
    with source, CollectorClient(bootstrap, topics, security) as client:
        for line in tqdm(source, unit=" lines", disable=quiet, file=sys.stderr):
            if line.strip():
                client.send_line(line.rstrip(b"\r\n"))
    report = client.report
    per_topic = ", ".join(f"{topic} {n}" for topic, n in sorted(report.by_topic.items()))
    typer.echo(f"sent {report.events} events in {report.messages} messages"
               + (f": {per_topic}" if per_topic else ""))


@app.command()
def rules(config: ConfigOption = None) -> None:
    """Print the Prometheus rule file: recording rules, goal alerts, health alerts."""
    from smm_pulse.dashboards.rules import render

    typer.echo(render(_load(config)), nl=False)


dashboards_app = typer.Typer(help="Grafana dashboards generated from the KPI catalog.")
app.add_typer(dashboards_app, name="dashboards")


@dashboards_app.callback(invoke_without_command=True)
def dashboards(
    ctx: typer.Context,
    config: ConfigOption = None,
    out: Annotated[Path | None, typer.Option(help="Directory to write the JSON files to.")] = None,
) -> None:
    """Write the Grafana dashboards (JSON) for a configuration: --config F --out DIR."""
    if ctx.invoked_subcommand is not None:
        return
    if out is None:
        typer.echo("give --out DIR (or use: smm-pulse dashboards push)", err=True)
        raise typer.Exit(2)
    from smm_pulse.dashboards.boards import render_all

    out.mkdir(parents=True, exist_ok=True)
    for name, text in render_all(_load(config)).items():
        (out / name).write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out / name}")


@dashboards_app.command()
def push(
    url: Annotated[str, typer.Option(envvar="GRAFANA_URL", help="Grafana base URL.")],
    config: ConfigOption = None,
    token: Annotated[str | None, typer.Option(
        envvar="GRAFANA_TOKEN", help="Service account token (or user:password in the URL).")
    ] = None,
    folder: Annotated[str, typer.Option(help="Folder title.")] = "SMM Pulse",
) -> None:
    """Create or update the dashboards in a running Grafana."""
    from smm_pulse.dashboards.push import push as push_dashboards

    pushed = push_dashboards(_load(config), url, token, folder)
    for link in pushed.dashboards:
        typer.echo(f"pushed {link}")


SentimentModel = Annotated[str | None, typer.Option(
    "--model", envvar=MODEL_ENV,
    help="Directory of a local transformer sentiment model (the 'transformer' extra); "
         "default: the configured scorer.")]
ScorerOption = Annotated[str | None, typer.Option(
    "--scorer", help="model or rules: overrides the configuration's sentiment.scorer.")]
SENTIMENT_DATA_ENV = "SMM_PULSE_SENTIMENT_DATA"


def _configured_scorer(config: Path | None, override: str | None) -> ScorerKind:
    """``--scorer``, else the configuration's (``--config`` or $SMM_PULSE_CONFIG, if given),
    else the default configuration's."""
    from smm_pulse.config import SentimentSettings

    if override is not None:
        if override not in ("model", "rules"):
            typer.echo(f"--scorer: {override!r} is not model or rules", err=True)
            raise typer.Exit(2)
        return override  # type: ignore[return-value]
    if config or os.environ.get(CONFIG_ENV):
        return _load(config).sentiment.scorer
    return SentimentSettings().scorer


def _sentiment_scorer(model: str | None, kind: ScorerKind = "rules") -> Scorer:
    from smm_pulse.sentiment import scorer
    from smm_pulse.sentiment.model import ModelError as WeightsError
    from smm_pulse.sentiment.transformer import ModelError

    with _user_error(ModelError, "sentiment model: "), \
            _user_error(WeightsError, "sentiment model: "):
        return scorer(model, kind)


@app.command()
def sentiment(model: SentimentModel = None, config: ConfigOption = None,
              scorer: ScorerOption = None) -> None:
    """Score JSON Lines {"text", "lang"?} from stdin: one {"score", "label", "lang"} per line,
    with the configured scorer."""
    import orjson

    service_scorer = _sentiment_scorer(model, _configured_scorer(config, scorer))
    for number, line in enumerate(sys.stdin.buffer, start=1):
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
            text, lang = item["text"], item.get("lang")
            if not isinstance(text, str) or not (lang is None or isinstance(lang, str)):
                raise TypeError("text must be a string, lang a string")
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            typer.echo(f"line {number}: expected {{\"text\": ..., \"lang\": optional}}: {exc}",
                       err=True)
            raise typer.Exit(2) from None
        result = service_scorer.score(text, lang)
        sys.stdout.buffer.write(orjson.dumps(
            {"score": result.score, "label": result.label, "lang": result.lang}) + b"\n")
        sys.stdout.buffer.flush()


@app.command("sentiment-bench")
def sentiment_bench(
    data: Annotated[Path, typer.Option(
        envvar=SENTIMENT_DATA_ENV, help="Folder with rusentiment_test.jsonl and "
                                        "tweeteval_test.jsonl.")],
    runs: Annotated[int, typer.Option(help="Timed passes; speed is their median.")] = 3,
    model: SentimentModel = None,
    config: ConfigOption = None,
    scorer: ScorerOption = None,
) -> None:
    """Macro-F1, per-class precision and recall, confusion matrix and mentions/s of the
    configured sentiment scorer on labelled data, with its start-up time and memory
    (docs/sentiment.md)."""
    from smm_pulse.sentiment.evaluate import evaluate_all, loaded

    kind = _configured_scorer(config, scorer)
    measured, load = loaded(lambda: _sentiment_scorer(model, kind))
    if model:
        import torch

        torch.set_num_threads(1)  # the figure is per core, as for the rules
    results = evaluate_all(measured, data, runs)
    if not results:
        typer.echo(f"no labelled data in {data}", err=True)
        raise typer.Exit(2)
    typer.echo(f"scorer: {'transformer ' + model if model else kind}; loaded in "
               f"{load.seconds:.2f} s, {load.megabytes:,.0f} MB of memory added")
    for r in results:
        typer.echo(r.report())


def _listed(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


@app.command()
def bench(
    runs: Annotated[int, typer.Option(help="Runs; figures are medians.")] = 3,
    batched: Annotated[int, typer.Option(help="Events sent 100 to a message.")] = 500_000,
    single: Annotated[int, typer.Option(help="Events sent one to a message.")] = 100_000,
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    freshness_rate: Annotated[float | None, typer.Option(
        help="Events/s of the steady load while freshness is measured (default: half the "
             "batched rate measured in the same run; fix it to compare runs).")] = None,
    soak_minutes: Annotated[float | None, typer.Option(
        min=1, help="Instead: run a worker under a steady load this long and sample its memory "
             "(1-minute windows, ids kept a minute more, so state levels off in minutes).")
    ] = None,
    soak_rate: Annotated[float, typer.Option(help="Events/s of the soak's load.")] = 3_000,
    brands: Annotated[int, typer.Option(help="Brands the events are spread over.")] = 50,
    platforms: Annotated[int, typer.Option(
        help="Platforms the events are spread over; past the contract's five, declared in the "
             "configuration's platforms.")] = 5,
    competitors: Annotated[int, typer.Option(
        help="Competitors of each brand (share of voice).")] = 0,
    export_families: Annotated[str, typer.Option(
        help="The configuration's export.families, comma-separated (default: all).")] = "",
    export_windows: Annotated[str, typer.Option(
        help="The configuration's export.windows, comma-separated (default: all).")] = "",
    print_config: Annotated[bool, typer.Option(
        "--print-config", help="Print the configuration the bench's workers run with "
                               "(e.g. for `smm-pulse rules`) and stop.")] = False,
) -> None:
    """Throughput (one worker and two), freshness, start-up and memory on the embedded broker
    (docs/benchmarks.md)."""
    import orjson

    with _user_error(ModuleNotFoundError, "the bench needs its extra, pip install "
                     "'smm-pulse[bench]': "):
        from smm_pulse.bench import Mix, run, soak

    if soak_minutes is not None and (export_families or export_windows):
        typer.echo("bench: the soak's windows are its own (1m): it exports them all", err=True)
        raise typer.Exit(2)
    with _user_error(ValueError, "bench: "):
        mix = Mix(brands, platforms, competitors, _listed(export_families),
                  _listed(export_windows))
    if print_config:
        typer.echo(mix.config(), nl=False)
        return
    if soak_minutes is not None:
        soaked = soak(soak_minutes, soak_rate, mix)
        if json:
            typer.echo(orjson.dumps(soaked, option=orjson.OPT_INDENT_2).decode())
            return
        for name, value in soaked.items():
            if not name.startswith("samples") and name != "mix":
                typer.echo(f"{name:34} {value:>14,.3f}")
        return
    result = run(runs, batched, single, freshness_rate, mix)
    if json:
        typer.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        return
    for name, value in result["median"].items():
        typer.echo(f"{name:34} {value:>14,.3f}")


if __name__ == "__main__":
    app()
