"""Reproduce the results of networks B, C and D on real MNIST digits; ends with a markdown table.

    python scripts/results.py [--data DIR] [--out DIR] [--only b|c|d] [--quick]

(b) network B as coded: one epoch of per-sample SGD at lr 0.0003 on images [0, 1000),
    tested on [9000, 10000), seeds 0-4; then longer training with a decaying learning
    rate on the same images; for comparison a plain linear classifier on the same images
    (B applies no activation, so it computes a linear function of its input too); and B
    trained on more images [0, 9000) against the same test images;
(c) network C, mini-batch SGD on [0, 8000), tested on [8000, 10000);
(d) network D, full-batch gradient descent at lr 0.001 for 50 iterations on the first 50
    images of classes 3 and 6 (cropped to 27x27), the loss per iteration printed, asserted
    to fall and plotted to ``OUT/network_d_loss.png``.

``--quick`` runs a short version of each part (two seeds for B, no long runs, one epoch
for C); its numbers are not the reported results. The exit status is 1 if a target is
missed.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import symcnn as sc
from symcnn import presets
from symcnn.data import load_mnist, one_hot, split
from symcnn.display import echo, format_table

REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPOSITORY / ".." / "shared" / "data" / "mnist"

# the recipes (learning rates, batch sizes, data ranges) are presets.RECIPES, shared with `symcnn train`
B_RECIPE, C_RECIPE, D_RECIPE = presets.RECIPES["b"], presets.RECIPES["c"], presets.RECIPES["d"]
B_TRAIN, B_TEST, B_LR, B_SEEDS = B_RECIPE["train"], B_RECIPE["test"], B_RECIPE["lr"], range(5)
B_MEAN_TARGET, B_LONG_TARGET = 0.42, 0.85
#: (learning rate, epochs) stages of B's longer training: larger steps first, then smaller.
B_LONG_SCHEDULE = [(0.003, 10), (0.001, 10), (0.0003, 10)]
#: softmax regression from zero weights, per-sample SGD: what a linear classifier learns here
LINEAR_SCHEDULE = [(0.01, 30)]
B_MORE_TRAIN = (0, 9000)
B_MORE_SCHEDULE = [(0.001, 4), (0.0003, 4), (0.0001, 4)]
C_TRAIN, C_TEST, C_LR, C_BATCH, C_EPOCHS = (C_RECIPE[name] for name in ("train", "test", "lr", "batch_size", "epochs"))
C_TARGET = 0.90
D_CLASSES, D_CROP, D_LR, D_ITERATIONS = (D_RECIPE[name] for name in ("classes", "crop", "lr", "epochs"))
D_IMAGES = D_RECIPE["train"][1] - D_RECIPE["train"][0]


@dataclass
class Result:
    """One row of the final table."""

    part: str
    protocol: str
    measured: str
    target: str
    met: bool | None  # None: no target, reported for context
    seconds: float

    def row(self):
        verdict = {True: "yes", False: "**no**", None: "-"}[self.met]
        return [self.part, self.protocol, self.measured, self.target, verdict, f"{self.seconds:.1f}"]


def train_in_stages(net, images, labels, schedule, test, shuffle=True):
    """Per-sample SGD through (lr, epochs) stages; returns test accuracy after every epoch."""
    accuracies = []
    for lr, epochs in schedule:
        net.fit(images, labels, lr=lr, epochs=epochs, batch_size=1, shuffle=shuffle, progress=False,
                validation=test)
        accuracies += net.accuracy_history
        echo(f"    lr {lr:g} x {epochs} epochs: test accuracy per epoch "
             + " ".join(f"{a:.3f}" for a in net.accuracy_history))
    return accuracies


def schedule_text(schedule):
    return ", then ".join(f"{epochs} epochs at lr {lr:g}" for lr, epochs in schedule)


def part_b(data, quick):
    """Network B: the issue's one-epoch protocol over seeds, then longer training."""
    images, labels = load_mnist(data)
    (train_x, train_y), test = split(images, labels, train=B_TRAIN, test=B_TEST)
    seeds = B_SEEDS[:2] if quick else B_SEEDS
    echo(f"## network B: 1 epoch of per-sample SGD, lr {B_LR:g}, train {B_TRAIN}, test {B_TEST}, "
         "images in order")
    accuracies, milliseconds, all_finite, started = [], [], True, time.perf_counter()
    for seed in seeds:
        net = presets.network_b(seed=seed)
        seed_started = time.perf_counter()
        try:
            history = net.fit(train_x, train_y, lr=B_LR, epochs=1, batch_size=1, shuffle=False, progress=False)
            finite = bool(np.all(np.isfinite(history)))
        except FloatingPointError as error:  # fit stops on a non-finite loss
            echo(f"  seed {seed}: {error}")
            finite = False
        milliseconds.append(1000 * (time.perf_counter() - seed_started) / len(train_x))
        accuracies.append(net.accuracy(*test))
        all_finite &= finite
        echo(f"  seed {seed}: test accuracy {accuracies[-1]:.3f}, losses finite: {finite}, "
             f"{milliseconds[-1]:.2f} ms per training image (forward, backward, update)")
    mean = float(np.mean(accuracies))
    echo(f"  mean test accuracy {mean:.4f}")
    results = [Result(
        "B", f"1 epoch SGD lr {B_LR:g}, 1,000 images, seeds {seeds[0]}-{seeds[-1]}",
        f"mean {mean:.3f} ({', '.join(f'{a:.3f}' for a in accuracies)}); "
        f"{np.mean(milliseconds):.2f} ms/image",
        f"mean >= {B_MEAN_TARGET}, finite", all_finite and mean >= B_MEAN_TARGET,
        time.perf_counter() - started)]
    if quick:
        return results

    echo(f"## network B, longer training on the same 1,000 images (seed 0, shuffled): "
         f"{schedule_text(B_LONG_SCHEDULE)}")
    started = time.perf_counter()
    net = presets.network_b(seed=0)
    per_epoch = train_in_stages(net, train_x, train_y, B_LONG_SCHEDULE, test)
    results.append(Result(
        "B", f"{schedule_text(B_LONG_SCHEDULE)}, 1,000 images",
        f"final {per_epoch[-1]:.3f} (best epoch {max(per_epoch):.3f}); train accuracy "
        f"{net.accuracy(train_x, train_y):.3f}", f">= {B_LONG_TARGET}", per_epoch[-1] >= B_LONG_TARGET,
        time.perf_counter() - started))

    echo("## for comparison, a plain linear classifier (flatten -> dense 10, softmax) on the same "
         f"1,000 images: B applies no activation, so it is a linear classifier too; {schedule_text(LINEAR_SCHEDULE)}")
    started = time.perf_counter()
    linear = sc.Network((1, 28, 28), [sc.Flatten(), sc.Dense(10, activation="softmax", init="zeros")],
                        loss="cross_entropy")
    baseline = train_in_stages(linear, train_x, train_y, LINEAR_SCHEDULE, test)
    results.append(Result(
        "linear baseline", f"softmax regression, {schedule_text(LINEAR_SCHEDULE)}, 1,000 images",
        f"final {baseline[-1]:.3f} (best epoch {max(baseline):.3f})", "-", None, time.perf_counter() - started))

    echo(f"## network B on more training images {B_MORE_TRAIN}, same test images (seed 0, shuffled): "
         f"{schedule_text(B_MORE_SCHEDULE)}")
    (more_x, more_y), _ = split(images, labels, train=B_MORE_TRAIN, test=B_TEST)
    started = time.perf_counter()
    net = presets.network_b(seed=0)
    per_epoch = train_in_stages(net, more_x, more_y, B_MORE_SCHEDULE, test)
    results.append(Result(
        "B (more data)", f"{schedule_text(B_MORE_SCHEDULE)}, 9,000 images",
        f"final {per_epoch[-1]:.3f}", f">= {B_LONG_TARGET}", per_epoch[-1] >= B_LONG_TARGET,
        time.perf_counter() - started))
    return results


def part_c(data, quick):
    """Network C: mini-batch SGD to a test accuracy."""
    images, labels = load_mnist(data)
    train_range = (0, 2000) if quick else C_TRAIN
    epochs = 1 if quick else C_EPOCHS
    (train_x, train_y), test = split(images, labels, train=train_range, test=C_TEST)
    echo(f"## network C: {epochs} epochs of mini-batch SGD, batch {C_BATCH}, lr {C_LR:g}, "
         f"train {train_range}, test {C_TEST}")
    net = presets.network_c(seed=0)
    started = time.perf_counter()
    net.fit(train_x, train_y, lr=C_LR, epochs=epochs, batch_size=C_BATCH, progress=False)
    seconds = time.perf_counter() - started
    accuracy = net.accuracy(*test)
    echo(f"  test accuracy {accuracy:.4f} after {seconds:.1f} s of training")
    return [Result("C", f"{epochs} epochs SGD batch {C_BATCH} lr {C_LR:g}, {len(train_x):,} images",
                   f"{accuracy:.4f}; {1000 * seconds / (epochs * len(train_x)):.3f} ms/image (training)",
                   f">= {C_TARGET}", None if quick else accuracy >= C_TARGET, seconds)]


def plot_loss_curve(losses, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot(range(len(losses)), losses, marker=".")
    axis.set_xlabel("iteration (full-batch gradient step)")
    axis.set_ylabel("loss (bce summed over outputs, mean over images)")
    axis.set_title(f"network D, digits 3 vs 6, {D_IMAGES} images, lr {D_LR:g}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def part_d(data, out):
    """Network D: full-batch gradient descent on 3s and 6s; the loss must fall."""
    images, labels = load_mnist(data, classes=D_CLASSES, crop=D_CROP)
    images, targets = images[:D_IMAGES], one_hot(labels[:D_IMAGES], D_CLASSES)
    echo(f"## network D: full-batch gradient descent, lr {D_LR:g}, {D_ITERATIONS} iterations, "
         f"first {D_IMAGES} images of classes {D_CLASSES} ({int(targets[:, 0].sum())} threes), crop {D_CROP}")
    started = time.perf_counter()
    net = presets.network_d(seed=0)
    history = net.fit(images, targets, lr=D_LR, epochs=D_ITERATIONS, batch_size=None, shuffle=False,
                      progress=False)
    seconds = time.perf_counter() - started
    losses = history + [net.loss(images, targets)]  # the loss before each step, and after the last
    echo("  iteration | loss (mean over images) | loss summed over images")
    for iteration, loss in enumerate(losses):
        echo(f"  {iteration:9d} | {loss:.6f} | {loss * len(images):.4f}")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "network_d_loss.png"
    plot_loss_curve(losses, path)
    echo(f"  loss curve saved to {path}")
    falls = losses[-1] < losses[0]
    steps_down = sum(later < earlier for earlier, later in zip(losses, losses[1:]))
    assert falls, f"network D's loss did not fall: {losses[0]} -> {losses[-1]}"
    return [Result("D", f"{D_ITERATIONS} full-batch steps lr {D_LR:g}, {D_IMAGES} images 3 vs 6",
                   f"loss {losses[0]:.4f} -> {losses[-1]:.4f} ({steps_down}/{D_ITERATIONS} steps down); "
                   f"train accuracy {net.accuracy(images, targets):.2f}; "
                   f"{1000 * seconds / (D_ITERATIONS * D_IMAGES):.3f} ms/image",
                   "loss falls", falls, seconds)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="directory holding t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]")
    parser.add_argument("--out", type=Path, default=REPOSITORY / "out", help="where the loss-curve PNG goes")
    parser.add_argument("--only", choices=["b", "c", "d"], help="run one part only")
    parser.add_argument("--quick", action="store_true", help="a short version of every part")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = []
    if args.only in (None, "b"):
        results += part_b(args.data, args.quick)
    if args.only in (None, "c"):
        results += part_c(args.data, args.quick)
    if args.only in (None, "d"):
        results += part_d(args.data, args.out)
    echo()
    echo(format_table([result.row() for result in results],
                      ["network", "protocol", "measured (test accuracy unless stated)", "target", "met",
                       "seconds"]))
    echo(f"\ntotal {time.perf_counter() - started:.0f} s{' (--quick: not the reported results)' if args.quick else ''}")
    return 0 if all(result.met is not False for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
