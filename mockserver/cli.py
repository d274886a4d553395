"""`python -m hookwire.mockserver` / `hookwire mock serve`: the command line.

`python -m hookwire.mockserver report FILE...` (= `hookwire mock report`) prints the contract
coverage of journals (`hookwire.mockserver.coverage_report`).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from hookwire.mockserver.config import DIALECTS, SERVERS, ConfigError, MockConfig
from hookwire.mockserver.faults import FaultSyntaxError
from hookwire.mockserver.limits import LIMIT_NAMES, Limits
from hookwire.mockserver.scenario import load_rules


def _latency(text: str) -> tuple[float, float]:
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--latency wants TTFT[,INTER], not {text!r}") from None
    if len(parts) not in (1, 2) or any(p < 0 for p in parts):
        raise argparse.ArgumentTypeError(f"--latency wants TTFT[,INTER] >= 0, not {text!r}")
    return parts[0], parts[1] if len(parts) == 2 else 0.0


def _limit(text: str) -> tuple[str, int]:
    name, sep, value = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or name not in LIMIT_NAMES or not value.strip().isdigit():
        raise argparse.ArgumentTypeError(
            f"--limit wants NAME=INTEGER with NAME one of {', '.join(LIMIT_NAMES)}, not {text!r}"
        )
    return name, int(value)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m hookwire.mockserver",
        description="OpenAI/vLLM-compatible + httpbin-compatible mock HTTP server.",
    )
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any free)")
    p.add_argument("--dialect", choices=DIALECTS, default="openai")
    p.add_argument("--api-key", default=None, help="require 'Authorization: Bearer KEY' on /v1/*")
    p.add_argument("--workers", type=int, default=1, help="worker processes")
    p.add_argument(
        "--server",
        choices=SERVERS,
        default="uvicorn",
        help="the HTTP server (granian: pip install 'hookwire[granian]')",
    )
    p.add_argument("--ttft", type=float, default=None, help="seconds to the first token")
    p.add_argument("--inter-token", type=float, default=None, help="seconds between tokens")
    p.add_argument("--latency", type=_latency, default=None, metavar="TTFT[,INTER]")
    p.add_argument("--scenario", default=None, metavar="FILE", help="TOML file of scripted rules")
    p.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME",
        help="serve this model id too (repeatable)",
    )
    p.add_argument(
        "--only-models",
        action="store_true",
        help="serve only the --model names, not the dialect's own models",
    )
    p.add_argument("--max-body", type=int, default=10 * 1024 * 1024, help="bytes; larger -> 413")
    p.add_argument(
        "--limit",
        type=_limit,
        action="append",
        default=[],
        metavar="NAME=N",
        help="raise or lower one per-request cap (repeatable; see docs/mockserver.md, Limits)",
    )
    p.add_argument(
        "--cassette",
        default=None,
        metavar="FILE",
        help="replay this cassette instead of the endpoints (see docs/cassettes.md)",
    )
    p.add_argument(
        "--cassette-timing",
        action="store_true",
        help="replay streamed chunks with their recorded timing (needs --cassette)",
    )
    return p


def config_from_args(argv: Sequence[str] | None = None) -> MockConfig:
    """Parse arguments into a config; exits with status 2 and a message on bad input."""
    parser = build_parser()
    args = parser.parse_args(argv)
    ttft, inter = args.latency or (0.0, 0.0)
    if args.ttft is not None:
        ttft = args.ttft
    if args.inter_token is not None:
        inter = args.inter_token
    try:
        if args.scenario:
            load_rules(args.scenario)  # fail now, with the file's name, not in a worker
        if args.cassette:
            from hookwire.mockserver.cassette.app import load_for_serving

            load_for_serving(args.cassette)  # fail now, with the file's name, not in a worker
        try:
            limits = Limits(**dict(args.limit))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        return MockConfig(
            host=args.host,
            port=args.port,
            dialect=args.dialect,
            api_key=args.api_key,
            workers=args.workers,
            ttft=ttft,
            inter_token_delay=inter,
            scenario=args.scenario,
            models=tuple(args.model),
            only_models=args.only_models,
            max_body=args.max_body,
            limits=limits,
            cassette=args.cassette,
            cassette_timing=args.cassette_timing,
            server=args.server,
        )
    except (ConfigError, FaultSyntaxError) as exc:
        parser.error(str(exc))
        raise  # unreachable: parser.error exits


def report_main(argv: Sequence[str] | None = None) -> int:
    """`report FILE... [--json PATH]`: the contract coverage of journals or tallies (merged);
    prints the text report (or the JSON with `--json -`). Status 2 for an unreadable file."""
    import json

    from hookwire.mockserver import coverage_report

    p = argparse.ArgumentParser(
        prog="python -m hookwire.mockserver report",
        description="Which statuses, faults and stream features journaled traffic hit, "
        "per endpoint and model, and which it never did.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="journal (.json/.jsonl) or report")
    p.add_argument("--json", default=None, metavar="PATH", help="also write JSON ('-': stdout)")
    args = p.parse_args(argv)
    tally = coverage_report.Tally()
    try:
        for name in args.files:
            tally.merge(coverage_report.load(name))
    except coverage_report.ReportError as exc:
        p.error(str(exc))
    data = coverage_report.report(tally)
    if args.json == "-":
        print(json.dumps(data, indent=1))
        return 0
    print(coverage_report.render_text(data))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            out.write(json.dumps(data, indent=1) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server until SIGINT/SIGTERM; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["report"]:
        return report_main(args[1:])
    from hookwire.mockserver.server import serve

    config = config_from_args(argv)
    print(
        f"mockserver: {config.dialect} dialect on http://{config.host}:{config.port} "
        f"(workers={config.workers}, auth={'on' if config.api_key else 'off'}"
        + (f", replaying {config.cassette}" if config.cassette else "")
        + (f", server={config.server}" if config.server != "uvicorn" else "")
        + ")",
        file=sys.stderr,
        flush=True,
    )
    _quiet_after_shutdown()
    serve(config)
    return 0


def _quiet_after_shutdown() -> None:
    """Make SIGINT/SIGTERM end in exit status 0.

    uvicorn handles the signal, shuts down gracefully, restores the previous handler and
    re-raises the signal (so a default handler would end the process with -15 or a
    KeyboardInterrupt traceback). A graceful stop is a success here, so the previous handler
    is a no-op.
    """
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: None)
