"""The `plangrep-mock` command: serve, diagram, simulate."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from statemachine import render_diagram, simulate
from statemachine.errors import StateMachineError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plangrep-mock",
        description="A local test double for Plangrep's asynchronous job API.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    diagram = sub.add_parser("diagram", help="print the job state machine")
    diagram.add_argument("--format", choices=["mermaid", "dot"], default="mermaid")

    sim = sub.add_parser("simulate", help="run N jobs end to end in virtual time")
    sim.add_argument("--jobs", type=int, default=1000, help="number of jobs (default 1000)")
    sim.add_argument("--scenario", default="happy", help="scenario name (default happy)")
    sim.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sim.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _run_simulate(args: argparse.Namespace) -> int:
    if args.jobs < 0:
        print(f"plangrep-mock simulate: --jobs must be >= 0, got {args.jobs}", file=sys.stderr)
        return 2
    show_bar = sys.stderr.isatty() and args.jobs >= 5000

    def bar(done: int) -> None:
        width = 40
        filled = width * done // args.jobs
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{args.jobs} jobs")
        sys.stderr.flush()

    try:
        report = simulate(
            args.jobs, scenario=args.scenario, seed=args.seed, progress=bar if show_bar else None
        )
    except StateMachineError as exc:
        print(f"plangrep-mock simulate: {exc}", file=sys.stderr)
        return 2
    if show_bar:
        sys.stderr.write("\n")
    print(report.to_json() if args.json else report.to_table())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "diagram":
        sys.stdout.write(render_diagram(args.format))
        return 0
    if args.command == "simulate":
        return _run_simulate(args)
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    raise SystemExit(main())
