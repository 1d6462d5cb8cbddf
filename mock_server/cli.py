"""The `plangrep-mock` command: serve, diagram, simulate, check, check-receiver."""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from statemachine import render_diagram, simulate
from statemachine.errors import StateMachineError
from statemachine.simulation import SHARD_JOBS

from .config import CHECK_DEFAULT_EXAMPLES as DEFAULT_EXAMPLES
from .config import CHECK_DEFAULT_JITTER as DEFAULT_JITTER
from .config import CHECK_DEFAULT_TIME_SCALE as DEFAULT_TIME_SCALE
from .config import MockConfig, parse_key_spec

__all__ = ["build_parser", "config_from_args", "main", "serve"]

ENV_PREFIX = "PLANGREP_MOCK_"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def _env(name: str) -> str | None:
    return os.environ.get(ENV_PREFIX + name)


def _env_bool(name: str) -> bool:
    raw = _env(name)
    if raw is None:
        return False
    if raw.strip().lower() in _TRUE:
        return True
    if raw.strip().lower() in _FALSE:
        return False
    raise SystemExit(
        f"plangrep-mock serve: {ENV_PREFIX}{name}={raw!r} is not a boolean; use 1/0, true/false"
    )


def _add_serve_parser(sub: Any) -> None:
    serve = sub.add_parser(
        "serve",
        help="run the mock server",
        description="Run the mock Plangrep API. Every flag can also be set through an "
        f"environment variable {ENV_PREFIX}<FLAG> (e.g. {ENV_PREFIX}PORT=0; "
        f"{ENV_PREFIX}API_KEY takes space-separated keys); a flag on the command line wins.",
    )

    def opt(flag: str, env: str, default: str | None, help_: str, **kw: Any) -> None:
        serve.add_argument(
            flag, default=_env(env) if _env(env) is not None else default, help=help_, **kw
        )

    opt("--host", "HOST", "127.0.0.1", "interface to bind (default 127.0.0.1)")
    opt("--port", "PORT", "8080", "port (default 8080; 0 picks a free one and prints it)")
    opt("--clock", "CLOCK", "realtime", "manual | realtime (default realtime)",
        choices=["manual", "realtime"])  # fmt: skip
    opt("--speed", "SPEED", "1.0", "virtual seconds per wall second (default 1.0)")
    opt("--scenario", "SCENARIO", "happy", "default scenario of new jobs (default happy)")
    opt("--seed", "SEED", None, "random seed for ids and the random scenario")
    serve.add_argument(
        "--api-key",
        action="append",
        default=None,
        metavar="KEY[:SCOPES][@ORG]",
        help="accept only this key (repeatable); SCOPES is a comma list of jobs:read, "
        "jobs:write, artifacts:read (default: all); @ORG puts keys in one organisation. "
        "Without --api-key any non-empty bearer token is accepted and is its own organisation",
    )
    opt("--credits", "CREDITS", "10000", "starting balance of each organisation (default 10000)")
    opt("--polling", "POLLING", "enforce", "polling rule: enforce | record | off (default "
        "enforce)", choices=["enforce", "record", "off"])  # fmt: skip
    opt("--max-upload-mb", "MAX_UPLOAD_MB", "64", "largest request body in MB (default 64)")
    serve.add_argument(
        "--strict-webhook-urls",
        action="store_true",
        default=_env_bool("STRICT_WEBHOOK_URLS"),
        help="require public HTTPS webhook URLs, as Plangrep does (default: any http(s) URL)",
    )
    opt("--loop", "LOOP", "auto", "event loop: auto (uvloop when installed, as it is on Linux), "
        "uvloop or asyncio (default auto)", choices=["auto", "uvloop", "asyncio"])  # fmt: skip
    opt("--webhook-timeout", "WEBHOOK_TIMEOUT", "10", "webhook delivery timeout in s (default 10)")
    opt("--webhook-retries", "WEBHOOK_RETRIES", "0", "webhook retries (default 0)")
    serve.add_argument(
        "--content-pack",
        action="append",
        default=None,
        metavar="PATH",
        help="a JSON content pack fixing the content of files by name (repeatable; a later pack "
        f"wins); {ENV_PREFIX}CONTENT_PACK takes paths separated by {os.pathsep!r}",
    )


def _number(name: str, raw: str, kind: Callable[[str], Any]) -> Any:
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a {kind.__name__}, got {raw!r}") from None


def config_from_args(args: argparse.Namespace) -> MockConfig:
    """The MockConfig for parsed `serve` arguments; ValueError names the bad option."""
    keys = args.api_key
    if keys is None:
        keys = (_env("API_KEY") or "").split()
    packs = args.content_pack
    if packs is None:
        packs = [p for p in (_env("CONTENT_PACK") or "").split(os.pathsep) if p]
    return MockConfig(
        host=args.host,
        port=_number("--port", args.port, int),
        clock=args.clock,
        speed=_number("--speed", args.speed, float),
        scenario=args.scenario,
        seed=None if args.seed in (None, "") else _number("--seed", args.seed, int),
        api_keys=tuple(parse_key_spec(k) for k in keys),
        credits=_number("--credits", args.credits, int),
        polling=args.polling,
        max_upload_mb=_number("--max-upload-mb", args.max_upload_mb, float),
        strict_webhook_urls=bool(args.strict_webhook_urls),
        webhook_timeout=_number("--webhook-timeout", args.webhook_timeout, float),
        webhook_retries=_number("--webhook-retries", args.webhook_retries, int),
        content_packs=tuple(Path(p) for p in packs),
    )


def _banner(config: MockConfig, port: int, loop: str = "asyncio") -> str:
    host = config.host
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "127.0.0.1"
    root = f"http://{shown}:{port}"
    writers = [k.key for k in config.api_keys if "jobs:write" in k.scopes]
    key = (writers or [k.key for k in config.api_keys] or ["pgk_live_demo"])[0]
    keys = (
        f"{len(config.api_keys)} configured API key(s)"
        if config.api_keys
        else "any non-empty bearer token is accepted"
    )
    curl = (
        f"curl -s -X POST {root}/api/open/v1/projects "
        f"-H {shlex.quote('Authorization: Bearer ' + key)} "
        f"-H 'Content-Type: application/json' -d '{{\"name\": \"demo\"}}'"
    )
    return (
        f"plangrep-mock: Plangrep API at {root}/api/open/v1\n"
        f"plangrep-mock: control API at {root}/_mock (OpenAPI: {root}/openapi.json)\n"
        f"plangrep-mock: dashboard at {root}/_mock/ui/\n"
        f"plangrep-mock: clock {config.clock} x{config.speed:g}, scenario {config.scenario}, "
        f"polling {config.polling}, {keys}, event loop {loop}\n"
        f"plangrep-mock: try: {curl}\n"
        f"plangrep-mock: Ctrl-C stops the server"
    )


# how long SIGTERM waits for requests being handled (their bodies may still be arriving)
_SHUTDOWN_GRACE = 0.5


async def _serve_async(
    config: MockConfig, ready: Callable[[int], None] | None = None, loop_name: str = "asyncio"
) -> int:
    from aiohttp import web

    from .app import create_app
    from .state import STATE_KEY

    app = create_app(config)
    state = app[STATE_KEY]
    runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        print(
            f"plangrep-mock serve: cannot listen on {config.host}:{config.port}: {exc}; "
            "pick another --port (0 picks a free one)",
            file=sys.stderr,
        )
        return 1
    port = int(runner.addresses[0][1]) if runner.addresses else config.port
    print(_banner(config, port, loop_name), flush=True)
    if ready is not None:
        ready(port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        print("plangrep-mock: stopping", file=sys.stderr, flush=True)
        await site.stop()  # no new connections
        # aiohttp's graceful shutdown drops the bytes that arrive after it starts, so a request
        # whose body is still on its way would never be answered: wait for those first
        deadline = loop.time() + _SHUTDOWN_GRACE
        while state.in_flight and loop.time() < deadline:
            await asyncio.sleep(0.01)
        await runner.cleanup()
    return 0


def _uvloop(loop: str) -> Any:
    """The uvloop module when `loop` asks for it (`auto`: when it is installed, as it is on
    Linux), else None; ValueError for `uvloop` without it."""
    if loop == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if loop == "uvloop":
            raise ValueError(
                "--loop uvloop: uvloop is not installed (pip install uvloop)"
            ) from None
        return None
    return uvloop


def serve(config: MockConfig, loop: str = "auto") -> int:
    """Run the server until SIGINT or SIGTERM; 0 after a clean shutdown. `loop`: uvloop's event
    loop (`auto`: when it is installed) or asyncio's (`asyncio`)."""
    uvloop = _uvloop(loop)
    if uvloop is not None:
        result: int = uvloop.run(_serve_async(config, loop_name="uvloop"))
        return result
    return asyncio.run(_serve_async(config))


def _run_serve(args: argparse.Namespace) -> int:
    from statemachine import UnknownScenario

    try:
        config = config_from_args(args)
        from .state import MockState

        MockState(config)  # fails early on an unknown scenario or a bad content pack
        _uvloop(args.loop)  # and on --loop uvloop without uvloop
    except (ValueError, UnknownScenario) as exc:
        print(f"plangrep-mock serve: {exc}", file=sys.stderr)
        return 2
    return serve(config, args.loop)


def _add_check_receiver_parser(sub: Any) -> None:
    check = sub.add_parser(
        "check-receiver",
        help="grade a webhook receiver with valid and adversarial deliveries",
        description="Send a campaign of signed job events (valid deliveries and forged, stale, "
        "future, duplicate and late ones) to a running webhook receiver and judge its answers. "
        "Exit status: 0 when it conforms, 1 when it breaks a rule, 2 on a usage error or when "
        "nothing listens at URL.",
    )
    check.add_argument("url", metavar="URL", help="the receiver, e.g. http://127.0.0.1:8000/hooks")
    check.add_argument(
        "--secret",
        default=_env("RECEIVER_SECRET"),
        help="the secret the receiver verifies with (wss_... or whsec_...); default "
        f"${ENV_PREFIX}RECEIVER_SECRET",
    )
    check.add_argument("--examples", type=int, default=100,
                       help="jobs drawn after the fixed campaign (default 100)")  # fmt: skip
    check.add_argument("--seed", type=int, default=None, help="replay a run (printed at the end)")
    check.add_argument("--timeout", type=float, default=10.0,
                       help="seconds to wait for each answer (default 10)")  # fmt: skip
    check.add_argument("--slow-ack", type=float, default=5.0,
                       help="a 2xx later than this breaks slow_ack (default 5)")  # fmt: skip
    check.add_argument(
        "--state-url",
        default=None,
        metavar="TEMPLATE",
        help="a URL with {job_id} that answers the status the receiver recorded "
        '({"status": ...}); enables the state_regressed rule',
    )
    check.add_argument("--wait", type=float, default=0.0, metavar="S",
                       help="wait up to S s for the receiver to listen (default 0)")  # fmt: skip
    check.add_argument("--json", metavar="FILE", help="write the JSON report (schema version 1)")
    check.add_argument(
        "--junit", metavar="FILE", help="write a JUnit XML report (a case per rule)"
    )
    _add_github_option(check)


def _add_github_option(parser: Any) -> None:
    parser.add_argument(
        "--github",
        action=argparse.BooleanOptionalAction,
        default=os.environ.get("GITHUB_ACTIONS") == "true",
        help="print GitHub Actions ::error annotations and append a step summary to "
        "$GITHUB_STEP_SUMMARY (default: on when GITHUB_ACTIONS=true)",
    )


def _write_reports(name: str, result: Any, args: argparse.Namespace) -> None:
    from .contract.reports import write_report

    for kind in ("json", "junit"):
        destination = getattr(args, kind)
        if destination:
            write_report(kind, result, destination)
            print(f"{name}: {kind} report written to {destination}", file=sys.stderr)
    if args.github:
        sys.stdout.flush()
        write_report("github", result, sys.stdout)


def _run_check_receiver(args: argparse.Namespace) -> int:
    from .contract.receiver_checker import ReceiverUnreachable, run_receiver_check
    from .contract.reports import text_report

    name = "plangrep-mock check-receiver"
    if not args.secret:
        print(
            f"{name}: --secret is required (or set {ENV_PREFIX}RECEIVER_SECRET)", file=sys.stderr
        )
        return 2
    try:
        result = run_receiver_check(
            args.url,
            secret=args.secret,
            max_examples=args.examples,
            seed=args.seed,
            timeout=args.timeout,
            slow_ack=args.slow_ack,
            state_probe=args.state_url,
            wait=args.wait,
        )
    except ReceiverUnreachable as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # a bad secret, URL or number
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    print(text_report(result))
    _write_reports(name, result, args)
    return 0 if result.passed else 1


def _add_check_parser(sub: Any) -> None:

    check = sub.add_parser(
        "check",
        help="judge a Plangrep client in any language: plangrep-mock check -- CMD [ARGS...]",
        usage="plangrep-mock check [options] -- CMD [ARGS...]",
        description="Run CMD once per generated example against a mock server on a scaled "
        "realtime clock and judge it with the contract rules (polling interval and "
        "Retry-After, stopping at a terminal status, resume and cancel only when allowed, "
        "giving up within a bound; in workflow mode also one job per submission, every file "
        "uploaded once, one complete, Retry-After and back-off on every call, polling as the "
        "webhooks' fallback, no trust in forged deliveries, the result only when there is "
        "one). CMD gets PLANGREP_BASE_URL, PLANGREP_API_KEY, "
        "PLANGREP_PROJECT_ID and PLANGREP_TIME_SCALE (virtual seconds per wall second: divide "
        "every sleep by it); in poll mode PLANGREP_JOB_ID, in workflow mode PLANGREP_FILES_DIR, "
        "PLANGREP_FILES_MANIFEST and PLANGREP_WEBHOOK_URL. It prints the terminal job (or the "
        "result) as JSON. Exit status: 0 when every example passes, 1 on a violation, 2 when "
        "CMD cannot be run or an option is wrong.",
    )
    check.add_argument("--mode", choices=["poll", "workflow"], default="poll",
                       help="poll: the kit creates the job and CMD waits for it (default); "
                       "workflow: CMD submits the files, waits and prints the result")  # fmt: skip
    check.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES,
                       help="examples drawn after the canonical ones, one per path "
                       f"(default {DEFAULT_EXAMPLES})")  # fmt: skip
    check.add_argument("--seed", type=int, default=None, help="replay a run (printed at the end)")
    check.add_argument("--faults", action="store_true",
                       help="add transient 429/500/503 answers and slow answers (workflow "
                       "mode: lost answers, Retry-After, bursts and an outage, dropped, "
                       "duplicated, delayed and reordered webhooks, forged "
                       "deliveries)")  # fmt: skip
    check.add_argument("--time-scale", type=float, default=DEFAULT_TIME_SCALE, metavar="X",
                       help=f"virtual seconds per wall second (default {DEFAULT_TIME_SCALE:g}: "
                       f"a 15 s sleep takes {15000 / DEFAULT_TIME_SCALE:g} ms)")  # fmt: skip
    check.add_argument("--timeout", type=float, default=None, metavar="S",
                       help="wall seconds per example before CMD is stopped (default: "
                       "max-wait / time-scale + 10)")  # fmt: skip
    check.add_argument("--patience", type=float, default=600.0, metavar="S",
                       help="CMD may give up (exit non-zero) only after waiting this many "
                       "virtual seconds (default 600)")  # fmt: skip
    check.add_argument("--max-wait", type=float, default=3600.0, metavar="S",
                       help="CMD must have given up after this many virtual seconds "
                       "(default 3600)")  # fmt: skip
    check.add_argument("--jitter", type=float, default=DEFAULT_JITTER * 1000, metavar="MS",
                       help="wall milliseconds a poll may come early (timer jitter; "
                       f"default {DEFAULT_JITTER * 1000:g}: "
                       f"{DEFAULT_JITTER * DEFAULT_TIME_SCALE:g} virtual s at the default "
                       "scale)")  # fmt: skip
    check.add_argument("--faketime", action="store_true",
                       help="run CMD under libfaketime at the time scale (for programs that "
                       "cannot divide their sleeps; PLANGREP_TIME_SCALE is then 1)")  # fmt: skip
    check.add_argument("--paths", default=None, metavar="LIST",
                       help="comma list of the job machine's paths to draw from (default: "
                       "all)")  # fmt: skip
    check.add_argument("--only-example", type=int, default=None, metavar="K",
                       help="run only example K of the run (with the same --seed and "
                       "--examples)")  # fmt: skip
    check.add_argument("--json", metavar="FILE", help="write the JSON report (schema version 1)")
    check.add_argument("--junit", metavar="FILE",
                       help="write a JUnit XML report (a test case per example)")  # fmt: skip
    check.add_argument("-q", "--quiet", action="store_true",
                       help="no line per example on standard error")  # fmt: skip
    _add_github_option(check)


def _run_check(args: argparse.Namespace, command: list[str]) -> int:
    from .contract.program import ProgramSettings, ProgramUnrunnable, run_program_check
    from .contract.reports import CaseResult, text_report
    from .contract.strategies import PATHS

    name = "plangrep-mock check"
    if not command:
        print(
            f"{name}: no program to run; put it after `--`: {name} [options] -- CMD [ARGS...]",
            file=sys.stderr,
        )
        return 2
    try:
        paths = PATHS
        if args.paths is not None:
            paths = tuple(p.strip() for p in args.paths.split(",") if p.strip())
        settings = ProgramSettings(
            command=tuple(command),
            mode=args.mode,
            examples=args.examples,
            seed=args.seed,
            faults=args.faults,
            time_scale=args.time_scale,
            timeout=args.timeout,
            patience=args.patience,
            max_wait=args.max_wait,
            jitter=args.jitter / 1000,
            faketime=args.faketime,
            paths=paths,
            only=args.only_example,
        )
    except ValueError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2

    def progress(case: CaseResult, total: int) -> None:
        if args.quiet:
            return
        verdict = "passed" if case.passed else f"FAILED ({case.rule})"
        print(f"  {case.name} [{case.index}/{total}]: {verdict}, {case.seconds:.2f} s",
              file=sys.stderr, flush=True)  # fmt: skip

    try:
        result = run_program_check(settings, progress=progress)
    except (ProgramUnrunnable, ValueError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    print(text_report(result))
    _write_reports(name, result, args)
    return 0 if result.passed else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plangrep-mock",
        description="A local test double for Plangrep's asynchronous job API.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_serve_parser(sub)

    diagram = sub.add_parser("diagram", help="print the job state machine")
    diagram.add_argument("--format", choices=["mermaid", "dot"], default="mermaid")

    sim = sub.add_parser(
        "simulate",
        help="run N jobs end to end in virtual time",
        description="Run N jobs end to end in virtual time through the engine, driven by a "
        f"simulated integrator. Runs of more than {SHARD_JOBS:,} jobs are cut into independent "
        "shards; --workers runs them in that many processes and gives the same report.",
    )
    sim.add_argument("--jobs", type=int, default=1000, help="number of jobs (default 1000)")
    sim.add_argument("--scenario", default="happy", help="scenario name (default happy)")
    sim.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sim.add_argument("--json", action="store_true", help="print one JSON object")
    sim.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes to run the shards in, 1 to the number of CPUs (default 1); the report "
        "does not depend on it",
    )
    sim.add_argument(
        "--quiet", action="store_true", help="no progress bar (it is off anyway when stderr is "
        "not a terminal)"
    )  # fmt: skip

    _add_check_parser(sub)
    _add_check_receiver_parser(sub)
    return parser


def _usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _run_simulate(args: argparse.Namespace) -> int:
    def fail(message: str) -> int:
        print(f"plangrep-mock simulate: {message}", file=sys.stderr)
        return 2

    if args.jobs < 0:
        return fail(f"--jobs must be >= 0, got {args.jobs}")
    cpus = _usable_cpus()
    if not 1 <= args.workers <= cpus:
        return fail(
            f"--workers must be between 1 and {cpus} (the CPUs this process may use), "
            f"got {args.workers}"
        )
    from tqdm import tqdm

    # a bar only for a person watching: never into a pipe or a log file
    bar = tqdm(
        total=args.jobs,
        unit=" jobs",
        unit_scale=True,
        file=sys.stderr,
        disable=args.quiet or not sys.stderr.isatty(),
        dynamic_ncols=True,
    )

    def progress(done: int) -> None:
        bar.update(done - bar.n)

    try:
        with bar:
            report = simulate(
                args.jobs,
                scenario=args.scenario,
                seed=args.seed,
                progress=progress,
                workers=args.workers,
            )
            progress(args.jobs)
    except StateMachineError as exc:
        return fail(str(exc))
    print(report.to_json() if args.json else report.to_table())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if argv and argv[0] == "check" and "--" in argv:
        # everything after the first `--` is the program and its arguments, untouched
        split = argv.index("--")
        argv, command = argv[:split], argv[split + 1 :]
    args = build_parser().parse_args(argv)
    if args.command == "diagram":
        sys.stdout.write(render_diagram(args.format))
        return 0
    if args.command == "simulate":
        return _run_simulate(args)
    if args.command == "serve":
        return _run_serve(args)
    if args.command == "check":
        return _run_check(args, command)
    if args.command == "check-receiver":
        return _run_check_receiver(args)
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    raise SystemExit(main())
