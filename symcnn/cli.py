"""The ``symcnn`` command: thin wrappers over the public API.

>>> build_parser().parse_args(["demo", "--steps", "3"]).steps
3
"""

from __future__ import annotations

import argparse
import sys
import time

from . import display


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


def run_demo(args) -> int:
    """Train network A on a real photo and save its hidden representations before and after."""
    import numpy as np

    from .data import sample_image
    from .presets import network_a

    image = sample_image((27, 27))
    started = time.perf_counter()
    net = network_a(seed=args.seed)
    display.echo(f"{net}\nbuilt, derived and compiled in {time.perf_counter() - started:.2f} s")
    display.echo("input: Grace Hopper (matplotlib's sample photo), 27x27, first colour channel, /255; label 1")
    hidden = lambda: {name: m for name, m in net.feature_maps(image).items() if np.ndim(m) == 3}
    before = hidden()
    for step in range(1, args.steps + 1):
        started = time.perf_counter()
        loss = net.step(image, 1.0, lr=args.lr)
        display.echo(f"step {step:>3}/{args.steps}  loss {loss:.6f}  p {float(np.exp(-loss)):.4f}  "
                     f"({(time.perf_counter() - started) * 1e3:.2f} ms)")
    display.echo(f"final loss {net.loss(image, 1.0):.6f}")
    display.plot_representations(image, before, hidden(), args.out,
                                 title=f"network A, {args.steps} steps at lr {args.lr}")
    display.echo(f"wrote {args.out}")
    return 0


def run_bench(args) -> int:
    """Time symcnn against PyTorch and naive approaches in one run."""
    from .benchmark import run_benchmarks

    results = run_benchmarks(networks=args.networks, repeats=args.repeats, include_unrolled=not args.no_unrolled)
    display.echo(display.format_table(results["rows"], results["headers"]))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``symcnn`` command."""
    parser = argparse.ArgumentParser(prog="symcnn", description="CNNs as named sympy expressions, "
                                     "differentiated layer by layer and run fast.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser("demo", help="train network A on a photo; picture the hidden maps",
                               description="Train network A (three sigmoid convolutions) on one real photo and "
                                           "write a PNG of its hidden representations before and after.")
    demo.add_argument("--steps", type=_positive_int, default=20, help="gradient steps (default 20)")
    demo.add_argument("--lr", type=_positive_float, default=0.1, help="learning rate (default 0.1)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the initial weights (default 0)")
    demo.add_argument("--out", default="symcnn-demo.png", help="PNG to write (default symcnn-demo.png)")
    demo.set_defaults(run=run_demo)
    bench = commands.add_parser("bench", help="time symcnn against PyTorch and naive approaches",
                                description="Median seconds per gradient step of symcnn, PyTorch float64 "
                                            "and naive approaches, measured in the same run.")
    bench.add_argument("--networks", nargs="+", default=["a", "b"], choices=["a", "b", "c", "d"])
    bench.add_argument("--repeats", type=_positive_int, default=200, help="timed steps per measurement")
    bench.add_argument("--no-unrolled", action="store_true", help="skip the slow fully unrolled evaluator")
    bench.set_defaults(run=run_bench)
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError, ImportError, OSError) as error:
        print(f"symcnn {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
