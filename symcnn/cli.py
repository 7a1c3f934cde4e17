"""The ``symcnn`` command: thin wrappers over the public API.

Subcommands: ``demo``, ``train``, ``inspect`` and ``bench``; ``symcnn COMMAND --help`` for each.

>>> build_parser().parse_args(["demo", "--steps", "3"]).steps
3
>>> args = build_parser().parse_args(["train", "--preset", "B", "--train", "0:100"])
>>> args.preset, args.train, args.data
('b', (0, 100), None)
>>> build_parser().parse_args(["inspect", "--weight", "conv1.weight[0,0,1,1]"]).what
'gradient'
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import textwrap
import time
from pathlib import Path

from . import display
from .display.printers import DEFAULT_TERMS


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _term_count(text: str) -> int:
    value = _positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected a number >= 2 (the first N-1 terms, dots, the last), got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


def _check_writable_directory(directory: Path, text: str) -> None:
    """Raise ArgumentTypeError unless ``directory`` (where ``text`` would be written) is a writable directory."""
    shown = repr(str(directory))
    if not directory.is_dir():
        problem = f"{shown} is not a directory" if directory.exists() else f"the directory {shown} does not exist"
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: {problem}")
    if not os.access(directory, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: the directory {shown} is not writable")


def _output_file(text: str) -> Path:
    """A file path whose directory exists and is writable, checked before any work starts."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a directory; give a file name such as {str(path / 'demo.png')!r}")
    _check_writable_directory(path.parent, text)
    return path


def _output_directory(text: str) -> Path:
    """A directory that exists or can be created: its nearest existing ancestor is a writable directory."""
    path = existing = Path(text)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    _check_writable_directory(existing, text)
    return path


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
    args.saved.append(args.out)
    display.echo(f"wrote {args.out}")
    return 0


def _index_range(text: str) -> tuple[int, int]:
    """Parse ``START:STOP`` into a pair of ints with 0 <= START < STOP.

    >>> _index_range("9000:10000")
    (9000, 10000)
    """
    start, colon, stop = text.partition(":")
    try:
        if not colon:
            raise ValueError
        pair = int(start), int(stop)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START:STOP such as 0:1000, got {text!r}") from None
    if not 0 <= pair[0] < pair[1]:
        raise argparse.ArgumentTypeError(f"expected 0 <= START < STOP, got {text!r}")
    return pair


def _existing_directory(text: str) -> Path:
    """A path that must name an existing directory."""
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is not an existing directory")
    return path


def _preset_data(preset: str, data, train=None, test=None):
    """``((train_x, train_y), (test_x, test_y))`` of a preset's recipe (targets the network takes).

    Preset a: the sample photo with label 1 as both sets (``data`` ignored). b and c: the
    MNIST images in ``data`` with integer labels; d: classes 3 and 6 cropped to 27x27,
    one-hot targets. ``train``/``test`` default to the preset's ranges. Raises ValueError
    when ``data`` is missing for b, c, d.
    """
    import numpy as np

    from . import presets
    from .data import load_mnist, one_hot, sample_image, split

    if preset == "a":
        images, labels = sample_image((27, 27))[None], np.ones(1)
        return (images, labels), (images, labels)
    if data is None:
        raise ValueError(f"preset {preset} uses MNIST images: pass --data DIR, the directory holding "
                         "t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]")
    recipe = presets.RECIPES[preset]
    images, labels = load_mnist(data, classes=recipe["classes"], crop=recipe["crop"])
    train, test = train or recipe["train"], test or recipe["test"]
    for name, (start, stop) in (("train", train), ("test", test)):
        if stop > len(images):
            raise ValueError(f"--{name} {start}:{stop} runs past the {len(images)} images available "
                             f"for preset {preset}")
    targets = one_hot(labels, recipe["classes"]) if recipe["classes"] else labels
    return split(images, targets, train=train, test=test)


def run_train(args) -> int:
    """Train a preset network, report loss and test accuracy, save the model and a loss curve."""
    from . import presets

    preset = args.preset
    recipe = presets.RECIPES[preset]
    if preset == "a":
        ignored = [flag for flag, value in (("--data", args.data), ("--batch-size", args.batch_size),
                                            ("--train", args.train), ("--test", args.test)) if value is not None]
        if ignored:
            display.echo(f"note: preset a trains on one photo; ignoring {', '.join(ignored)}", sys.stderr)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    (train_x, train_y), (test_x, test_y) = _preset_data(preset, args.data, args.train, args.test)
    lr = recipe["lr"] if args.lr is None else args.lr
    epochs = recipe["epochs"] if args.epochs is None else args.epochs
    batch_size = recipe["batch_size"] if preset == "a" or args.batch_size is None else args.batch_size
    net = presets.get(preset, seed=args.seed)
    described = "the sample photo, label 1" if preset == "a" else (
        f"train {args.train or recipe['train']}, test {args.test or recipe['test']} of {args.data}")
    display.echo(f"network {preset.upper()}: {len(train_x)} training image(s) ({described}), "
                 f"{epochs} epoch(s), lr {lr:g}, batch {batch_size or 'full'}, seed {args.seed}")
    started = time.perf_counter()
    history = net.fit(train_x, train_y, lr=lr, epochs=epochs, batch_size=batch_size, progress=True)
    seconds = time.perf_counter() - started
    which = "training image" if preset == "a" else "test set"
    display.echo(f"final loss {net.loss(train_x, train_y):.6f} (last step {history[-1]:.6f}); "
                 f"accuracy on the {which} {net.accuracy(test_x, test_y):.4f}; {seconds:.1f} s")
    model, curve = out / f"{preset}.symcnn", out / f"{preset}-loss.png"
    net.save(model)
    args.saved.append(model)
    display.plot_loss_curve(history, curve, title=f"network {preset.upper()}, lr {lr:g}")
    args.saved.append(curve)
    display.echo(f"saved model {model}")
    display.echo(f"saved loss curve {curve}")
    return 0


def _parse_weight(text: str) -> tuple[str, tuple[int, ...] | None]:
    """Split ``KEY[I,J,...]`` into the key and the index tuple (None without brackets).

    >>> _parse_weight("conv1.weight[0,0,1,1]")
    ('conv1.weight', (0, 0, 1, 1))
    """
    text = text.strip()
    if "[" not in text:
        return text, None
    key, _, rest = text.partition("[")
    try:
        if not rest.endswith("]"):
            raise ValueError
        index = tuple(int(part) for part in rest[:-1].split(","))
    except ValueError:
        raise ValueError(f"--weight {text!r}: expected KEY[I,J,...] such as conv1.weight[0,0,1,1]") from None
    return key.strip(), index


def _weight_symbol(net, text: str):
    """The sympy symbol that ``--weight`` names, with errors listing the keys and shapes."""
    key, index = _parse_weight(text)
    symbols = net.weight_symbols(key)  # an unknown key is refused there, listing keys and shapes
    shape = symbols.shape
    if index is None or len(index) != len(shape) or any(not 0 <= i < n for i, n in zip(index, shape)):
        given = "no index" if index is None else f"index {list(index)}"
        raise ValueError(f"--weight: {given} does not fit {key} of shape {tuple(shape)}; "
                         f"give {len(shape)} indices with 0 <= i < size, e.g. {key}[{','.join('0' * len(shape))}]")
    return symbols[index]


def run_inspect(args) -> int:
    """Print dLoss/dw for one weight: its formula (expanded or rolled), its ledger or its derivation."""
    from . import presets
    from .inspect import rolled_form
    from .network import load

    net = load(args.model) if args.model else presets.get(args.preset)
    expected = presets.get(args.preset) if args.model else net
    if args.model and (net.input_shape, net.output_size) != (expected.input_shape, expected.output_size):
        raise ValueError(f"the model {args.model} takes {net.input_shape} inputs with {net.output_size} "
                         f"output(s), not those of preset {args.preset}; pass the --preset it was built as")
    if args.form == "rolled" and args.what != "gradient":
        raise ValueError(f"--form rolled applies to --what gradient, not --what {args.what} (the derivation "
                         "states each of its steps in rolled form already)")
    weight = args.weight or ("conv3.weight[0,0,3,3]" if "conv3.weight" in net.params
                             else f"{next(iter(net.params))}[{','.join('0' * next(iter(net.params.values())).ndim)}]")
    symbol = _weight_symbol(net, weight)
    latex = args.format == "latex"
    terms = None if args.all_terms else args.terms
    columns = shutil.get_terminal_size().columns
    if args.what == "gradient" and args.form == "rolled":
        forms = [rolled_form(net, net.graph.loss_symbol, symbol)]
        forms += _layer_forms(net, forms[0], symbol)
        display.echo(display.rolled_latex(*forms) if latex else display.rolled_text(*forms))
        return 0
    if args.what == "gradient":
        expression, left = net.gradient_expression(symbol), (net.graph.loss_symbol, symbol)
        display.echo(display.formula_latex(expression, left=left, terms=terms) if latex
                     else display.formula_text(expression, left=left, terms=terms, width=columns))
        count = len(expression.args) if expression.is_Add else 1
        if not latex and terms is not None and count > terms:
            display.echo(textwrap.fill(f"(--all-terms prints all {count} terms, --form rolled the Σ form, --what "
                                       "derivation the chain rule with numbers at an input)", columns))
        return 0
    _, (test_x, test_y) = _preset_data(args.preset, args.data)
    if args.what == "ledger":
        ledger = net.ledger(test_x[0], test_y[0], symbol)
        rows = len(ledger.terms) if args.all_terms else 10
        display.echo(display.ledger_latex(ledger, rows) if latex else display.ledger_text(ledger, rows))
        return 0
    derivation = net.derivation(test_x[0], test_y[0], symbol)
    display.echo(display.derivation_latex(derivation, terms) if latex
                 else display.derivation_text(derivation, terms, width=columns))
    return 0


def _layer_forms(net, gradient, symbol) -> list:
    """The rolled forms a rolled gradient reads: its layer's z and a, and dz/dw, at one position."""
    from .inspect import role_of, rolled_form

    role = role_of(net.graph, symbol)
    node = net.graph.nodes[role.node]
    position = next(p for p in node.positions() if p[0] == role.index[0])  # a filter's (unit's) own outputs
    z, a = node.pre_activations[position], node.outputs[position]
    return [rolled_form(net, z), rolled_form(net, a), rolled_form(net, z, symbol)]


def run_bench(args) -> int:
    """Time symcnn's step against PyTorch eager and a hand-written NumPy step; print the tables.

    Re-runs itself with the one-thread variables set when they are missing (BLAS reads them once,
    when numpy is imported, which has already happened here).
    """
    import subprocess

    from . import benchmark

    missing = benchmark.missing_one_thread_settings()
    if missing:
        display.echo(f"symcnn bench: re-running with {', '.join(f'{k}=1' for k in missing)}", sys.stderr)
        return subprocess.call([sys.executable, "-m", "symcnn", *args.argv], env={**os.environ, **missing})
    settings = dict(benchmark.QUICK if args.quick else benchmark.FULL)
    for key in settings:
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    results = benchmark.run_benchmarks(networks=args.networks, batch_size=args.batch_size,
                                       allow_slow_builds=args.allow_slow_builds, progress=True, **settings)
    for line in results["machine"]:
        display.echo(line)
    for title, headers, rows in results["tables"]:
        display.echo()
        display.echo(f"{title}:")
        display.echo()
        display.echo(display.format_table(rows, headers))
    if results["notes"]:
        display.echo()
    for note in results["notes"]:
        display.echo(note)
    return 0


PRESET_NAMES = ["a", "b", "c", "d"]


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
    demo.add_argument("--out", type=_output_file, default="symcnn-demo.png",
                      help="PNG to write (default symcnn-demo.png); its directory must exist")
    demo.set_defaults(run=run_demo)
    train = commands.add_parser(
        "train", help="train a preset network; save the model and a loss curve",
        description="Train preset A (on one photo, label 1) or B, C, D (on MNIST images from --data) with "
                    "the recipes of scripts/results.py; print the final loss and test accuracy, save the "
                    "model to OUT/<preset>.symcnn and the loss curve to OUT/<preset>-loss.png.")
    train.add_argument("--preset", required=True, type=str.lower, choices=PRESET_NAMES,
                       help="network to train (a-d)")
    train.add_argument("--data", type=_existing_directory, metavar="DIR",
                       help="MNIST directory holding t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]; "
                            "required for b, c, d, ignored for a")
    train.add_argument("--epochs", type=_positive_int,
                       help="passes over the training images (default: a 20, b 1, c 5, d 50)")
    train.add_argument("--lr", type=_positive_float,
                       help="learning rate (default: a 0.1, b 0.0003, c 0.1, d 0.001)")
    train.add_argument("--batch-size", type=_positive_int,
                       help="images per step (default: b 1, c 32, d the full batch; a has one image)")
    train.add_argument("--train", type=_index_range, metavar="START:STOP",
                       help="training image indices (default: b 0:1000, c 0:8000, d 0:50 of digits 3 and 6)")
    train.add_argument("--test", type=_index_range, metavar="START:STOP",
                       help="test image indices (default: b 9000:10000, c 8000:10000, d 50:250 of digits 3 and 6)")
    train.add_argument("--seed", type=int, default=0, help="seed of the initial weights and shuffling (default 0)")
    train.add_argument("--out", type=_output_directory, default="symcnn-out", metavar="DIR",
                       help="directory for the model and the loss curve (default ./symcnn-out)")
    train.set_defaults(run=run_train)
    inspect = commands.add_parser(
        "inspect", help="show dLoss/dw of one weight: formula, chain-rule ledger or derivation",
        description="Print the derivative of the loss with respect to one weight: the symbolic sum over "
                    "positions (--what gradient, expanded or --form rolled as a Σ form), the chain-rule "
                    "ledger of its value at one image (--what ledger), or its derivation step by step from "
                    "the loss down with the numbers at one image (--what derivation). The image: the sample "
                    "photo with label 1 for A; for B, C, D the first image of the default test range of "
                    "symcnn train, from --data. Long sums show their first terms and their last.")
    inspect.add_argument("--preset", default="a", type=str.lower, choices=PRESET_NAMES,
                         help="network (default a); with --model, the preset the model was built as")
    inspect.add_argument("--weight", metavar="KEY[INDEX]",
                         help="the weight, e.g. conv1.weight[0,0,1,1] (default conv3.weight[0,0,3,3] where "
                              "there is one, else the first parameter at index 0)")
    inspect.add_argument("--what", choices=["gradient", "ledger", "derivation"], default="gradient",
                         help="the symbolic gradient (default), the chain-rule ledger at one image, or the "
                              "derivation step by step (BP1-BP4) at one image")
    inspect.add_argument("--form", choices=["expanded", "rolled"], default="expanded",
                         help="for --what gradient: every term in named scalars (default) or the Σ form with "
                              "index ranges, with the layer's own formulas")
    inspect.add_argument("--terms", type=_term_count, default=DEFAULT_TERMS, metavar="N",
                         help="terms of a long sum (gradient, derivation) to show: the first N-1, dots, the last "
                              f"(default {DEFAULT_TERMS})")
    inspect.add_argument("--all-terms", action="store_true", help="show every term of every sum (and ledger row)")
    inspect.add_argument("--format", choices=["text", "latex"], default="text", help="output format (default text)")
    inspect.add_argument("--data", type=_existing_directory, metavar="DIR",
                         help="MNIST directory for --what ledger or derivation with presets b, c, d")
    inspect.add_argument("--model", metavar="PATH", help="a saved model (symcnn train) instead of a fresh preset")
    inspect.set_defaults(run=run_inspect)
    bench = commands.add_parser(
        "bench", help="time symcnn's step against PyTorch eager and hand-written NumPy",
        description="Training-step times (ms) of symcnn net.step, PyTorch eager and a hand-written NumPy step "
                    "(im2col + matmul), one thread each, float64, interleaved round by round; medians and "
                    "interquartile ranges for one image and a batch, the build time of each preset, and an "
                    "image-size sweep of an A-like network. Prints the machine, then markdown tables.")
    bench.add_argument("--networks", nargs="+", default=PRESET_NAMES, type=str.lower, choices=PRESET_NAMES,
                       help="presets to time (default a b c d)")
    bench.add_argument("--quick", action="store_true",
                       help="a smoke run: few rounds, sizes 27 and 54 (numbers mean little)")
    bench.add_argument("--rounds", type=_positive_int, help="rounds for one image (default 1000, quick 20)")
    bench.add_argument("--batch-rounds", type=_positive_int, help="rounds for a batch (default 150, quick 5)")
    bench.add_argument("--batch-size", type=_positive_int, default=32, help="samples in a batch (default 32)")
    bench.add_argument("--build-repeats", type=_positive_int, help="builds per preset (default 5, quick 1)")
    bench.add_argument("--sizes", nargs="*", type=_positive_int,
                       help="image sizes of the sweep (default 27 54 108 216, quick 27 54; none to skip)")
    bench.add_argument("--sweep-rounds", type=_positive_int, help="rounds per sweep size (default 200, quick 5)")
    bench.add_argument("--larger", nargs="*", metavar="NAME",
                       help="larger networks to build and time: conv256, conv512, rgb224, head1000 "
                            "(default all, quick head1000; none to skip)")
    bench.add_argument("--allow-slow-builds", action="store_true",
                       help="build sweep sizes beyond graph.DEFAULT_MAX_BUILD_COST instead of skipping them")
    bench.set_defaults(run=run_bench)
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv  # to re-run the same command (symcnn bench with one-thread settings)
    args.saved = []  # files written so far, for the line after a Ctrl-C
    try:
        return args.run(args)
    except KeyboardInterrupt:
        saved = f"saved {', '.join(map(str, args.saved))}" if args.saved else "nothing was saved"
        display.echo(f"symcnn {args.command}: interrupted; {saved}", sys.stderr)
        return 130  # 128 + SIGINT, as shells report it
    except BrokenPipeError:  # e.g. piped into head: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (ValueError, TypeError, ImportError, OSError, ArithmeticError) as error:
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"symcnn {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
