"""``hookwire mock serve`` and ``hookwire vllm serve``: the two server launchers as typer commands.

Both take typed, documented options like every other command (one help style, one
``error: ...`` line for a bad value) and then call the launchers underneath:
``hookwire.mockserver.cli.main`` (which ``python -m hookwire.mockserver`` keeps running) and
``hookwire.plugins.providers.vllm_launcher.serve``. The mock settings are checked here first,
with the mock server's own rules, so a bad one is a usage error of this command rather than
an argparse message from the launcher.
"""

from __future__ import annotations

import importlib
import socket
import sys
from pathlib import Path
from typing import Any, Literal

import typer

from hookwire.cli._errors import CLIError
from hookwire.cli._help import add_command, new_app
from hookwire.mockserver.config import MAX_BODY_DEFAULT  # plain stdlib: no mock extra needed

mock_app = new_app("The bundled OpenAI/vLLM + httpbin mock server.")
vllm_app = new_app("Launch a local vLLM server.")

#: The mock server's DIALECTS, spelled out for typer (a test keeps the two equal).
Dialect = Literal["openai", "vllm", "siliconflow"]
MockHTTPServer = Literal["uvicorn", "granian"]


def _latency(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2) or any(p < 0 for p in parts):
        raise typer.BadParameter(
            f"want TTFT[,INTER], seconds >= 0, not {text!r}", param_hint="'--latency'"
        )
    return parts[0], parts[1] if len(parts) == 2 else 0.0


def _check_mock(fields: dict[str, Any]) -> None:
    """The mock server's own checks (config and scenario file), as a usage error."""
    from hookwire.mockserver.config import ConfigError, MockConfig
    from hookwire.mockserver.faults import FaultSyntaxError
    from hookwire.mockserver.scenario import load_rules

    try:
        if fields["scenario"] is not None:
            load_rules(fields["scenario"])
        if fields.get("cassette") is not None:
            from hookwire.mockserver.cassette.app import load_for_serving

            load_for_serving(fields["cassette"])
        MockConfig(**fields)
    except (ConfigError, FaultSyntaxError) as exc:
        raise typer.BadParameter(str(exc)) from None


def _check_port(host: str, port: int) -> None:
    """Fail in one line when the port is taken (uvicorn would log an ERROR and exit 3)."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            sock.bind((host, port))
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise CLIError(
                f"cannot listen on {host}:{port} ({reason}): stop what listens there, or "
                "pick another --port (0 picks a free one)"
            ) from None


def _limit(text: str) -> tuple[str, str]:
    """``NAME=N`` for one of the mock's caps, checked here so a typo is our usage error."""
    from hookwire.mockserver.limits import LIMIT_NAMES

    name, _, value = text.partition("=")
    if name not in LIMIT_NAMES or not value.isdigit():
        raise typer.BadParameter(
            f"want NAME=N with NAME one of {', '.join(LIMIT_NAMES)}, not {text!r}",
            param_hint="'--limit'",
        )
    return "--limit", f"{name}={int(value)}"


def _mock_argv(fields: dict[str, Any]) -> list[str]:
    """The launcher's command line for checked settings."""
    argv = ["--host", fields["host"], "--port", str(fields["port"])]
    argv += ["--dialect", fields["dialect"], "--workers", str(fields["workers"])]
    argv += ["--ttft", repr(fields["ttft"]), "--inter-token", repr(fields["inter_token_delay"])]
    argv += ["--max-body", str(fields["max_body"]), "--server", fields.get("server", "uvicorn")]
    if fields["api_key"] is not None:
        argv += ["--api-key", fields["api_key"]]
    if fields["scenario"] is not None:
        argv += ["--scenario", str(fields["scenario"])]
    for name in fields["models"]:
        argv += ["--model", name]
    if fields.get("cassette") is not None:
        argv += ["--cassette", str(fields["cassette"])]
    if fields.get("cassette_timing"):
        argv += ["--cassette-timing"]
    return argv + (["--only-models"] if fields["only_models"] else [])


def mock_serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port; 0 picks a free one."),
    dialect: Dialect = typer.Option(
        "openai", "--dialect", help="Which API to speak: error shapes, models, reasoning field."
    ),
    api_key: str | None = typer.Option(
        None, "--api-key", metavar="<key>", help="Require `Authorization: Bearer KEY` on /v1/*."
    ),
    workers: int = typer.Option(1, "--workers", min=1, help="uvicorn worker processes."),
    ttft: float | None = typer.Option(None, "--ttft", min=0, help="Seconds to the first token."),
    inter_token: float | None = typer.Option(
        None, "--inter-token", min=0, help="Seconds between streamed tokens."
    ),
    latency: str | None = typer.Option(
        None, "--latency", metavar="<ttft[,inter]>", help="Both delays at once, e.g. 0.2,0.01."
    ),
    scenario: Path | None = typer.Option(
        None, "--scenario", metavar="<file>", exists=True, dir_okay=False,
        help="TOML file of scripted rules (faults, canned replies).",
    ),
    model: list[str] = typer.Option(
        [], "--model", metavar="<name>", help="Serve this model id too (repeatable)."
    ),
    only_models: bool = typer.Option(
        False, "--only-models", help="Serve only the --model names, not the dialect's own."
    ),
    max_body: int = typer.Option(
        MAX_BODY_DEFAULT, "--max-body", min=0, metavar="<bytes>",
        help="Larger request bodies get 413.",
    ),
    limit: list[str] = typer.Option(
        [], "--limit", metavar="<name=n>",
        help="Raise or lower one per-request cap, e.g. n=256 (repeatable; docs: mock Limits).",
    ),
    cassette: Path | None = typer.Option(
        None, "--cassette", metavar="<file>", exists=True, dir_okay=False,
        help="Replay this cassette instead of the endpoints (docs: cassettes).",
    ),
    cassette_timing: bool = typer.Option(
        False, "--cassette-timing", help="Replay streamed chunks with their recorded timing."
    ),
    server: MockHTTPServer = typer.Option(
        "uvicorn", "--server", help="The HTTP server (granian needs the granian extra)."
    ),
) -> None:
    """Run the mock server until Ctrl-C (the same server as `python -m hookwire.mockserver`)."""
    first, inter = _latency(latency) or (0.0, 0.0)
    fields: dict[str, Any] = {
        "host": host, "port": port, "dialect": dialect, "api_key": api_key, "workers": workers,
        "ttft": first if ttft is None else ttft,
        "inter_token_delay": inter if inter_token is None else inter_token,
        "scenario": scenario, "models": tuple(model), "only_models": only_models,
        "max_body": max_body, "cassette": cassette, "cassette_timing": cassette_timing,
        "server": server,
    }  # fmt: skip
    _check_mock(fields)
    _check_port(host, port)
    from hookwire.mockserver.cli import main as mock_main

    code = mock_main(_mock_argv(fields) + [a for item in map(_limit, limit) for a in item])
    if code:
        raise typer.Exit(code)


def mock_report(
    files: list[Path] = typer.Argument(
        ..., metavar="JOURNAL...", help="Journals (GET /__mock__/journal saved, or JSON lines) "
        "or reports; merged.",
    ),
    json_out: str | None = typer.Option(
        None, "--json", metavar="<path>", help="Also write the report as JSON ('-': print it)."
    ),
) -> None:
    """Contract coverage of journals: the statuses, faults, stream features hit and never hit."""
    import json

    from hookwire.mockserver import coverage_report

    tally = coverage_report.Tally()
    try:
        for name in files:
            tally.merge(coverage_report.load(name))
    except coverage_report.ReportError as exc:
        raise CLIError(str(exc)) from None
    data = coverage_report.report(tally)
    if json_out == "-":
        typer.echo(json.dumps(data, indent=1))
        return
    typer.echo(coverage_report.render_text(data))
    if json_out:
        Path(json_out).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def _launcher() -> Any:
    launcher = "hookwire.plugins.providers.vllm_launcher"
    try:
        return importlib.import_module(launcher)
    except ModuleNotFoundError as exc:
        if exc.name not in (launcher, "hookwire.plugins", "hookwire.plugins.providers"):
            raise
        raise CLIError(f"the vLLM launcher is not installed ({launcher} is missing)") from None


def vllm_serve(
    ctx: typer.Context,
    model: str = typer.Argument(..., metavar="MODEL", help="A hub id or a local directory."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port; 0 picks a free one."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind."),
    tensor_parallel_size: int | None = typer.Option(
        None, "--tensor-parallel-size", "-tp", min=1, metavar="<n>", help="GPUs to shard over."
    ),
    max_model_len: int | None = typer.Option(
        None, "--max-model-len", min=1, metavar="<n>", help="Context length, in tokens."
    ),
    served_model_name: str | None = typer.Option(
        None, "--served-model-name", metavar="<name>", help="The model id clients ask for."
    ),
    startup_timeout: float = typer.Option(
        600.0, "--startup-timeout", min=0, metavar="<seconds>",
        help="Give up if not healthy by then.",
    ),
    executable: str = typer.Option("vllm", "--executable", help="The vllm program to run."),
) -> None:
    """Start `vllm serve MODEL`, wait until it answers; other options go to vLLM."""
    launcher = _launcher()

    def ready(server: Any) -> None:
        print(f"vLLM is ready: {server.base_url} (Ctrl-C stops it)", file=sys.stderr, flush=True)

    code = launcher.serve(
        model, ready=ready, port=port, host=host, tensor_parallel_size=tensor_parallel_size,
        max_model_len=max_model_len, served_model_name=served_model_name,
        startup_timeout=startup_timeout, executable=executable, extra_args=list(ctx.args),
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )  # fmt: skip
    if code:
        raise typer.Exit(int(code))


VLLM_HELP = (
    "Start `vllm serve MODEL` and wait until it answers; Ctrl-C stops it.\n\n"
    "Any other option goes to `vllm serve` unchanged (after `--` if it clashes with one of "
    "these). vLLM reads its API key from VLLM_API_KEY."
)
PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}
add_command(mock_app, "serve", mock_serve)
add_command(mock_app, "report", mock_report)
add_command(vllm_app, "serve", vllm_serve, help=VLLM_HELP, context_settings=PASS_THROUGH)


def register(app: typer.Typer) -> None:
    app.add_typer(mock_app, name="mock")
    app.add_typer(vllm_app, name="vllm")
