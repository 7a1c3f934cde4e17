"""A catalogue of wrong inputs: each fails with a clear message raised by symcnn's own code.

Every row names what is wrong, the call that receives it, the exception type and a pattern
its message must match (the argument, the layer where there is one, what was expected).
No row may end in an exception from deep inside numpy or sympy: the frame that raises
must be a symcnn module.
"""

import gzip
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import sympy

import symcnn as sc
from symcnn.data import load_image, load_mnist, read_idx
from symcnn import evaluate
from symcnn.codegen import export
from symcnn.evaluate import UnrolledEvaluator
from symcnn.graph import LayerNode

SYMCNN_DIRECTORY = Path(sc.__file__).resolve().parent


def _idx_bytes(array, type_code=0x08):
    """An IDX file's bytes: zero, zero, type code, dimension count, big-endian sizes, data."""
    return bytes([0, 0, type_code, array.ndim]) + np.array(array.shape, ">u4").tobytes() + array.tobytes()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """Two small networks and a directory of damaged files."""
    folder = tmp_path_factory.mktemp("bad-files")
    images, labels = np.zeros((3, 4, 4), np.uint8), np.array([1, 2, 1], np.uint8)
    files = {
        "truncated idx": _idx_bytes(images)[:-5],
        "cut gzip": gzip.compress(_idx_bytes(images))[:-10],
        "not idx": b"\x01\x02" + _idx_bytes(images)[2:],
        "unknown idx type": _idx_bytes(images, type_code=0x07),
        "text.png": b"this is not a picture",
    }
    for name, content in files.items():
        (folder / name).write_bytes(content)
    from PIL import Image
    Image.new("RGB", (16, 16), (200, 10, 10)).save(folder / "whole.png")
    (folder / "cut.png").write_bytes((folder / "whole.png").read_bytes()[:60])
    for name, images_file in (("mnist", images), ("swapped", labels)):  # swapped: labels where images belong
        (folder / name).mkdir()
        (folder / name / "t10k-images-idx3-ubyte").write_bytes(_idx_bytes(images_file))
        (folder / name / "t10k-labels-idx1-ubyte").write_bytes(_idx_bytes(labels))
    (folder / "not-a-network.symcnn").write_bytes(_idx_bytes(images))
    classifier = sc.Network((2, 5, 5), [sc.Conv2D(2, 3, activation="relu"), sc.Flatten(),
                                        sc.Dense(3, activation="softmax")], loss="cross_entropy")
    detector = sc.Network((2, 5, 5), [sc.Conv2D(2, 3, activation="relu"), sc.Flatten(),
                                      sc.Dense(1, activation="sigmoid")], loss="bce")
    return SimpleNamespace(ce=classifier, bce=detector, folder=folder, x=np.zeros((2, 2, 5, 5)))


def _network(layers, input_shape=(1, 5, 5), loss="cross_entropy", **kwargs):
    return sc.Network(input_shape, layers, loss=loss, **kwargs)


def _softmax_head(units=2):
    return [sc.Flatten(), sc.Dense(units, activation="softmax")]


def _case(case_id, call, error, match):
    return pytest.param(call, error, match, id=case_id)


def _fit(env, **kwargs):
    arguments = {"X": env.x, "Y": [0, 1], "progress": False, **kwargs}
    return env.ce.fit(**arguments)


CATALOGUE = [
    # -- images x ------------------------------------------------------------------------
    _case("x complex", lambda e: e.ce.predict(np.zeros((2, 5, 5), complex)), TypeError,
          r"x must hold real numbers .*dtype complex128"),
    _case("x bool", lambda e: e.ce.predict(np.zeros((2, 5, 5), bool)), TypeError, r"x must hold real numbers .*dtype bool"),
    _case("x object with None", lambda e: e.ce.predict([[[0.0] * 5] * 5, [[None] * 5] * 5]), TypeError,
          r"x must hold real numbers only, found NoneType"),
    _case("x dict", lambda e: e.ce.predict({"pixels": 1}), TypeError, r"x must hold real numbers only, found dict"),
    _case("x string", lambda e: e.ce.predict("image.png"), TypeError, r"x must be numbers \(an array\), got str"),
    _case("x strings array", lambda e: e.ce.predict(np.full((2, 5, 5), "0")), TypeError, r"x must hold real numbers .*<U1"),
    _case("x None", lambda e: e.ce.predict(None), TypeError, r"x must be numbers \(an array\), got NoneType"),
    _case("x ragged", lambda e: e.ce.predict([[[0.0] * 5] * 5, [[0.0] * 4] * 5]), ValueError, r"x is ragged"),
    _case("x one channel for two", lambda e: e.ce.predict(np.zeros((1, 5, 5))), ValueError,
          r"x must have shape \(2, 5, 5\) for one sample or \(N, 2, 5, 5\) .*1 channel\(s\), the network's input 2"),
    _case("x wrong size", lambda e: e.ce.predict(np.zeros((2, 6, 5))), ValueError, r"x must have shape \(2, 5, 5\).*got \(2, 6, 5\)"),
    _case("x five dimensions", lambda e: e.ce.predict(np.zeros((1, 1, 2, 5, 5))), ValueError, r"x must have shape .*got \(1, 1, 2, 5, 5\)"),
    _case("x NaN", lambda e: e.ce.predict(np.where(np.eye(5) > 0, np.nan, 0.0)[None].repeat(2, 0)), ValueError,
          r"x contains 10 NaN or infinite value\(s\)"),
    _case("x inf", lambda e: e.ce.loss(np.full((2, 5, 5), np.inf), 0), ValueError, r"x contains 50 NaN or infinite"),
    _case("x empty batch", lambda e: e.ce.predict(np.zeros((0, 2, 5, 5))), ValueError, r"x is empty \(shape \(0, 2, 5, 5\)\)"),
    _case("x empty list", lambda e: e.ce.predict([]), ValueError, r"x is empty"),
    # -- targets y -----------------------------------------------------------------------
    _case("label too large", lambda e: e.ce.loss(e.x, [0, 3]), ValueError, r"y: class labels must be integers in \[0, 3\), got 3"),
    _case("label negative", lambda e: e.ce.loss(e.x, [-1, 0]), ValueError, r"y: class labels .*got -1"),
    _case("label fractional", lambda e: e.ce.loss(e.x, [0, 1.5]), ValueError, r"y: class labels .*got 1.5"),
    _case("label strings", lambda e: e.ce.loss(e.x, ["cat", "dog"]), TypeError, r"y must hold real numbers .*<U3"),
    _case("label bools", lambda e: e.ce.loss(e.x, [True, False]), TypeError, r"y must hold real numbers .*dtype bool"),
    _case("labels too many", lambda e: e.ce.loss(e.x, [0, 1, 2]), ValueError,
          r"y must match the 2 sample\(s\) of x: 2 class label\(s\) or shape \(2, 3\), got shape \(3,\)"),
    _case("one label for two images", lambda e: e.ce.loss(e.x, 1), ValueError, r"y must match the 2 sample\(s\) of x.*got shape \(\)"),
    _case("one-hot row sums 1.5", lambda e: e.ce.loss(e.x[:1], [[0.5, 0.5, 0.5]]), ValueError,
          r"each target row of the cross_entropy loss must sum to 1"),
    _case("bce target 2", lambda e: e.bce.loss(e.x, [0, 2]), ValueError, r"targets of the bce loss must lie in \[0, 1\]"),
    _case("bce target negative", lambda e: e.bce.loss(e.x, [-0.5, 1]), ValueError, r"bce loss must lie in \[0, 1\]"),
    _case("bce targets wrong shape", lambda e: e.bce.loss(e.x, np.zeros((2, 2))), ValueError,
          r"y must match the 2 sample\(s\) of x: shape \(2, 1\), got shape \(2, 2\)"),
    _case("y NaN", lambda e: e.bce.loss(e.x, [0, np.nan]), ValueError, r"y contains 1 NaN or infinite"),
    _case("y complex", lambda e: e.bce.loss(e.x, np.array([0, 1], complex)), TypeError, r"y must hold real numbers .*complex"),
    _case("y None", lambda e: e.bce.loss(e.x, None), TypeError, r"y must be numbers"),
    # -- layer arguments -----------------------------------------------------------------
    _case("stride 0", lambda e: sc.Conv2D(1, 3, stride=0), ValueError, r"Conv2D: stride must be >= 1, got 0"),
    _case("stride negative", lambda e: sc.Conv2D(1, 3, stride=-1), ValueError, r"Conv2D: stride must be >= 1, got -1"),
    _case("stride float", lambda e: sc.Conv2D(1, 3, stride=1.5), TypeError, r"Conv2D: stride must be an int or a pair of ints, got 1.5"),
    _case("stride whole float", lambda e: sc.Conv2D(1, 3, stride=2.0), TypeError, r"Conv2D: stride must be an int .*got 2.0"),
    _case("padding negative", lambda e: sc.Conv2D(1, 3, padding=-1), ValueError, r"Conv2D: padding must be >= 0, got -1"),
    _case("padding 'same'", lambda e: sc.Conv2D(1, 3, padding="same"), TypeError, r"Conv2D: padding must be an int or a pair"),
    _case("kernel 0", lambda e: sc.Conv2D(1, 0), ValueError, r"Conv2D: kernel_size must be >= 1, got 0"),
    _case("kernel triple", lambda e: sc.Conv2D(1, (3, 3, 3)), TypeError, r"Conv2D: kernel_size must be an int or a pair"),
    _case("filters string", lambda e: sc.Conv2D("8", 3), TypeError, r"Conv2D: filters must be an int, got '8'"),
    _case("filters 0", lambda e: sc.Conv2D(0, 3), ValueError, r"Conv2D: filters must be >= 1"),
    _case("activation unknown", lambda e: sc.Conv2D(1, 3, activation="swish"), ValueError,
          r"unknown activation 'swish'; expected one of None, 'identity', 'sigmoid', 'relu', 'tanh', 'softmax', "
          r"'leaky_relu', 'elu', 'softplus', 'silu', 'gelu', or a symcnn.Activation"),
    _case("activation list", lambda e: sc.Dense(2, activation=["relu"]), ValueError, r"unknown activation \['relu'\]"),
    _case("bias string", lambda e: sc.Conv2D(1, 3, bias="yes"), TypeError, r"Conv2D: bias must be True or False"),
    _case("shared_channels string", lambda e: sc.Conv2D(1, 3, shared_channels="no"), TypeError,
          r"Conv2D: shared_channels must be True or False, got 'no'"),
    _case("init unknown", lambda e: sc.Dense(2, init="xavier"), ValueError, r"Dense: init must be one of .*got 'xavier'"),
    _case("bias_init unknown", lambda e: sc.Conv2D(1, 3, bias_init="ones"), ValueError, r"Conv2D: bias_init must be one of"),
    _case("units 0", lambda e: sc.Dense(0), ValueError, r"Dense: units must be >= 1, got 0"),
    _case("units float", lambda e: sc.Dense(2.0), TypeError, r"Dense: units must be an int, got 2.0"),
    _case("pool size 0", lambda e: sc.MaxPool2D(0), ValueError, r"MaxPool2D: size must be >= 1, got 0"),
    _case("pool size float", lambda e: sc.AvgPool2D(2.5), TypeError, r"AvgPool2D: size must be an int or a pair"),
    _case("pool stride 0", lambda e: sc.AvgPool2D(2, stride=0), ValueError, r"AvgPool2D: stride must be >= 1, got 0"),
    # -- architectures -------------------------------------------------------------------
    _case("kernel larger than input", lambda e: _network([sc.Conv2D(1, 7), *_softmax_head()]), ValueError,
          r"Conv2D 1x7x7 .*: window 7 is larger than the height of its input \(5\)"),
    _case("kernel wider than padded input", lambda e: _network([sc.Conv2D(1, (1, 8), padding=1), *_softmax_head()]),
          ValueError, r"Conv2D 1x1x8 .*window 8 is larger than the width of its input \(5 \+ 2\*1 padding\)"),
    _case("pool larger than input", lambda e: _network([sc.MaxPool2D(6), *_softmax_head()]), ValueError,
          r"MaxPool2D 6x6 .*window 6 is larger than the height of its input \(5\)"),
    _case("pool larger than a conv's output", lambda e: _network([sc.Conv2D(1, 3), sc.AvgPool2D(4), *_softmax_head()]),
          ValueError, r"AvgPool2D 4x4 .*window 4 is larger than the height of its input \(3\)"),
    _case("softmax not last", lambda e: _network([sc.Flatten(), sc.Dense(3, activation="softmax"),
                                                  sc.Dense(2, activation="softmax")]), ValueError,
          r"layer 1 \(Dense 3 \(bias\), softmax\): softmax is only supported on the last layer"),
    _case("softmax on a conv", lambda e: _network([sc.Conv2D(2, 3, activation="softmax"), *_softmax_head()]),
          ValueError, r"layer 1 \(Conv2D 2x3x3 .*\): softmax is only available on a Dense layer"),
    _case("activation returning a float", lambda e: sc.Activation("half", lambda z: 0.5), TypeError,
          r"Activation 'half': f must return a sympy expression of z, got float 0.5"),
    _case("activation with a stray symbol", lambda e: sc.Activation("scaled", lambda z: z * sympy.Symbol("k")),
          ValueError, r"Activation 'scaled': the expression k\*z uses 'k'; it may use only z"),
    _case("activation factory not called", lambda e: sc.Dense(2, activation=sc.elu), ValueError,
          r"elu makes an activation: call it"),
    _case("activation name not a str", lambda e: sc.Activation(None, lambda z: z), TypeError,
          r"Activation: name must be a str, got NoneType None"),
    _case("loss of the target only", lambda e: sc.Loss("spread", lambda p, t: t ** 2), ValueError,
          r"Loss 'spread': the expression t\*\*2 does not depend on p"),
    _case("loss with numpy", lambda e: sc.Loss("np_loss", lambda p, t: np.log(p)), TypeError,
          r"Loss 'np_loss': f\(p, t\) failed on sympy symbols"),
    _case("huber delta", lambda e: sc.huber(-1), ValueError, r"huber: delta must be a positive finite number"),
    _case("user activation before cross_entropy", lambda e: _network(
        [sc.Flatten(), sc.Dense(2, activation=sc.silu)]), ValueError,
          r"loss 'cross_entropy' needs the last layer's activation to be one of \('softmax',\), got Activation\('silu'"),
    _case("loss unknown", lambda e: _network(_softmax_head(), loss="hinge"), ValueError,
          r"unknown loss 'hinge'; expected one of \('bce', 'cross_entropy', 'mse', 'huber'\), or a symcnn.Loss"),
    _case("loss and last activation", lambda e: _network([sc.Flatten(), sc.Dense(2, activation="sigmoid")]),
          ValueError, r"loss 'cross_entropy' needs the last layer's activation to be one of \('softmax',\), got 'sigmoid'"),
    _case("bce after a one-unit softmax", lambda e: _network(_softmax_head(1), loss="bce"), ValueError,
          r"bce after a softmax needs at least two outputs"),
    _case("cross_entropy on a one-unit softmax", lambda e: _network(_softmax_head(1)), ValueError,
          r"layer 1 \(Dense 1 \(bias\), softmax\): a softmax over one output is identically 1, so nothing can "
          r"be learned: cross_entropy after a softmax needs at least two outputs; for one output use "
          r"Dense\(1, activation='sigmoid'\) with loss='bce'"),
    _case("mse on a one-unit softmax", lambda e: _network(_softmax_head(1), loss="mse"), ValueError,
          r"a softmax over one output is identically 1"),
    _case("naming unknown", lambda e: _network(_softmax_head(), naming="latex"), ValueError,
          r"naming must be one of \('symcnn', 'r'\), got 'latex'"),
    _case("input_shape of two numbers", lambda e: _network(_softmax_head(), input_shape=(5, 5)), TypeError,
          r"input_shape must be a \(channels, height, width\) tuple of ints, got \(5, 5\)"),
    _case("input_shape of floats", lambda e: _network(_softmax_head(), input_shape=(1.0, 5, 5)), TypeError,
          r"input_shape must be a \(channels, height, width\) tuple of ints"),
    _case("input_shape zero", lambda e: _network(_softmax_head(), input_shape=(0, 5, 5)), ValueError,
          r"input_shape must be positive, got \(0, 5, 5\)"),
    _case("no layers", lambda e: _network([]), ValueError, r"layers must be a non-empty list of symcnn layers"),
    _case("layers not a list", lambda e: _network(sc.Flatten()), TypeError, r"layers must be a list of symcnn layers, got Flatten"),
    _case("layer a string", lambda e: _network(["conv", *_softmax_head()]), TypeError,
          r"layers\[0\] must be a symcnn layer \(Conv2D, Dense, ...\), got str"),
    _case("layer class not instance", lambda e: _network([sc.Flatten, sc.Dense(2, activation="softmax")]), TypeError,
          r"layers\[0\] is the class Flatten, not a layer: write Flatten\(...\)"),
    _case("dense on a map", lambda e: _network([sc.Dense(2, activation="softmax")]), ValueError,
          r"Dense 2 \(bias\), softmax: needs a flat input \(add Flatten\(\) before it\), got shape \(1, 5, 5\)"),
    _case("conv after flatten", lambda e: _network([sc.Flatten(), sc.Conv2D(1, 3), *_softmax_head()]), ValueError,
          r"Conv2D 1x3x3 .*needs a \(channels, height, width\) input, got shape \(25,\)"),
    _case("last layer a pool", lambda e: _network([sc.MaxPool2D(2)], loss="mse"), ValueError,
          r"the last layer must be a Conv2D or Dense layer"),
    _case("seed string", lambda e: _network(_softmax_head(), seed="42"), TypeError, r"seed must be an int, got '42'"),
    _case("seed negative", lambda e: _network(_softmax_head(), seed=-1), ValueError, r"seed must be >= 0, got -1"),
    _case("seed float", lambda e: _network(_softmax_head(), seed=1.5), TypeError, r"seed must be an int, got 1.5"),
    _case("preset unknown", lambda e: sc.presets.get("z"), ValueError, r"unknown preset 'z'; expected one of 'a', 'b', 'c', 'd'"),
    # -- sizes: building is refused before it starts beyond its budget ---------------------
    _case("a trillion filters", lambda e: _network([sc.Conv2D(10 ** 12, 3), *_softmax_head()]), ValueError,
          r"this network's 28,000,000,000,002 parameters alone would take 224\.0 TB of memory \(float64\), more "
          r"than the [\d.,]+ [kMGT]?B available, so nothing was built: use fewer filters or units"),
    _case("a 40,000-output head", lambda e: _network([sc.Flatten(), sc.Dense(40000, activation="sigmoid")], loss="bce"),
          ValueError,
          r"building this network would derive 1 layer\(s\), join 40,000 outputs with the loss and set up 1,040,000 "
          r"parameters and 25 patch entries: a cost of 4,005,467 \(2,000 x layers \+ 100 x outputs \+ \(parameters "
          r"\+ patch entries\) / 300\), more than max_build_cost=3,000,000, so "
          r"nothing was built\. Expect about 40 s of building; to build it anyway pass max_build_cost=4005467 or more "
          r"\(to Network or symcnn.load\)"),
    _case("max_build_cost string", lambda e: _network(_softmax_head(), max_build_cost="big"), TypeError,
          r"max_build_cost must be an int, got 'big'"),
    _case("max_build_cost too small", lambda e: _network(_softmax_head(), max_build_cost=100), ValueError,
          r"a cost of [\d,]+ .*more than max_build_cost=100, so nothing was built"),
    # -- training ------------------------------------------------------------------------
    _case("step lr 1e300", lambda e: e.ce.step(e.x, [0, 1], lr=1e300), FloatingPointError,
          r"step refused: it would set \S+ to values up to .*learning rate 1e\+300.*the parameters are unchanged"),
    _case("step on pixels of 1e300", lambda e: e.ce.step(np.full((2, 2, 5, 5), 1e300), [0, 1], lr=0.1),
          FloatingPointError, r"step refused: .*largest \|x\| 1e\+300\); the parameters are unchanged"),
    _case("fit lr 1e300", lambda e: _fit(e, lr=1e300), FloatingPointError,
          r"fit stopped at step 1: step refused: .*the 0 step\(s\) before it were applied"),
    _case("shuffle 'no'", lambda e: _fit(e, shuffle="no"), TypeError, r"shuffle must be True or False, got 'no'"),
    _case("shuffle 0", lambda e: _fit(e, shuffle=0), TypeError, r"shuffle must be True or False, got 0"),
    _case("progress 'off'", lambda e: _fit(e, progress="off"), TypeError, r"progress must be True or False, got 'off'"),
    _case("saliency times_input 'yes'", lambda e: sc.inspect.saliency(e.ce, e.x[0], y=0, times_input="yes"), TypeError,
          r"saliency: times_input must be True or False, got 'yes'"),
    _case("layer_costs gradients 'x'", lambda e: sc.inspect.layer_costs(e.ce, gradients="x"), TypeError,
          r"layer_costs: gradients must be True or False, got 'x'"),
    _case("growth_table max_ops 'x'", lambda e: sc.inspect.growth_table(e.ce, "x"), TypeError,
          r"growth_table: max_ops must be an int, got 'x'"),
    _case("Dense bias 1", lambda e: sc.Dense(2, bias=1), TypeError, r"Dense: bias must be True or False, got 1"),
    _case("load_mnist scale 'no'", lambda e: load_mnist(e.folder / "mnist", scale="no"), TypeError,
          r"scale must be True or False, got 'no'"),
    # -- strings are names, never code -----------------------------------------------------
    _case("evaluate Python code", lambda e: e.ce.evaluate("__import__('pathlib').Path('marker').touch() or 1", e.x),
          ValueError, r"expression \"__import__\('pathlib'\).*\" is not a symbol name: a string may only name one "
                      r"of the network's scalars.*symcnn never evaluates text as code"),
    _case("evaluate a malformed string", lambda e: e.ce.evaluate("w__1_0_0_0_0 +", e.x), ValueError,
          r"expression 'w__1_0_0_0_0 \+' is not a symbol name"),
    _case("evaluate a name not in the network", lambda e: e.ce.evaluate("w__9_0_0", e.x), ValueError,
          r"'w__9_0_0' is a symbol name but not a named scalar of this network"),
    _case("evaluate an object", lambda e: e.ce.evaluate(object(), e.x), TypeError,
          r"expression must be a sympy expression or a number, got object"),
    _case("export a string", lambda e: export("__import__('os').getcwd()"), TypeError,
          r"expression must be a sympy expression or a number, got the str .*never parses text as code"),
    _case("lr 0", lambda e: e.ce.step(e.x, [0, 1], lr=0), ValueError, r"lr must be a finite positive number, got 0"),
    _case("lr negative", lambda e: _fit(e, lr=-0.1), ValueError, r"lr must be a finite positive number, got -0.1"),
    _case("lr NaN", lambda e: _fit(e, lr=float("nan")), ValueError, r"lr must be a finite positive number, got nan"),
    _case("lr inf", lambda e: e.ce.step(e.x, [0, 1], lr=np.inf), ValueError, r"lr must be a finite positive number, got inf"),
    _case("lr string", lambda e: _fit(e, lr="0.1"), TypeError, r"lr must be a number, got str"),
    _case("epochs 0", lambda e: _fit(e, epochs=0), ValueError, r"epochs must be >= 1, got 0"),
    _case("epochs float", lambda e: _fit(e, epochs=1.0), TypeError, r"epochs must be an int, got 1.0"),
    _case("batch_size 0", lambda e: _fit(e, batch_size=0), ValueError, r"batch_size must be >= 1, got 0"),
    _case("batch_size string", lambda e: _fit(e, batch_size="8"), TypeError, r"batch_size must be an int, got '8'"),
    _case("fit labels of wrong length", lambda e: _fit(e, Y=[0, 1, 2]), ValueError, r"y must match the 2 sample\(s\) of x"),
    _case("fit on an empty set", lambda e: _fit(e, X=np.zeros((0, 2, 5, 5)), Y=[]), ValueError, r"x is empty"),
    _case("validation not a pair", lambda e: _fit(e, validation=(e.x,)), TypeError,
          r"validation must be a pair \(X_test, y_test\), got tuple of length 1"),
    _case("validation labels out of range", lambda e: _fit(e, validation=(e.x, [0, 7])), ValueError,
          r"validation: y: class labels must be integers in \[0, 3\), got 7"),
    _case("accuracy labels out of range", lambda e: e.ce.accuracy(e.x, [0, 5]), ValueError, r"y: class labels .*got 5"),
    # -- parameters ----------------------------------------------------------------------
    _case("params not a dict", lambda e: e.ce.set_params([1, 2]), TypeError, r"params must be a dict of arrays, got list"),
    _case("params missing keys", lambda e: e.ce.set_params({}), ValueError,
          r"params keys do not match the network: missing \['conv1.bias', 'conv1.weight', 'dense2.bias', 'dense2.weight'\]"),
    _case("params wrong shape", lambda e: e.ce.set_params({**e.ce.params, "conv1.weight": np.zeros((2, 2, 3))}),
          ValueError, r"params\['conv1.weight'\] has shape \(2, 2, 3\), expected \(2, 2, 3, 3\)"),
    _case("params NaN", lambda e: e.ce.set_params({**e.ce.params, "dense2.bias": np.array([0, np.nan, 0])}),
          ValueError, r"params\['dense2.bias'\] contains 1 NaN or infinite"),
    _case("params complex", lambda e: e.ce.set_params({**e.ce.params, "dense2.bias": np.zeros(3, complex)}),
          TypeError, r"params\['dense2.bias'\] must hold real numbers .*complex128"),
    # -- resource guard ------------------------------------------------------------------
    _case("max_terms 0", lambda e: e.ce.unrolled_gradients(e.x, [0, 1], max_terms=0), ValueError, r"max_terms must be >= 1, got 0"),
    _case("max_terms string", lambda e: e.ce.unrolled_gradients(e.x, [0, 1], max_terms="lots"), TypeError,
          r"max_terms must be an int, got 'lots'"),
    # -- data files (symcnn.data) --------------------------------------------------------
    _case("MNIST directory missing", lambda e: load_mnist(e.folder / "no-such-dir"), ValueError,
          r"MNIST directory .*no-such-dir does not exist or is not a directory \(looked for t10k-images-idx3-ubyte"),
    _case("MNIST directory a number", lambda e: load_mnist(28), TypeError, r"directory must be a str or path-like, got int"),
    _case("IDX truncated", lambda e: read_idx(e.folder / "truncated idx"), ValueError,
          r"truncated idx: truncated: header says shape \(3, 4, 4\) of uint8, i.e. 48 data bytes, but the file has 43"),
    _case("IDX gzip cut off", lambda e: read_idx(e.folder / "cut gzip"), ValueError, r"cut gzip: corrupted gzip data"),
    _case("IDX not an IDX file", lambda e: read_idx(e.folder / "not idx"), ValueError,
          r"not an IDX file \(the first two bytes must be zero, found 0x01 0x02\)"),
    _case("IDX unknown type code", lambda e: read_idx(e.folder / "unknown idx type"), ValueError,
          r"unsupported IDX type code 0x07"),
    _case("IDX missing", lambda e: read_idx(e.folder / "nothing-here"), ValueError, r"nothing-here: no such file"),
    _case("MNIST wrong magic", lambda e: load_mnist(e.folder / "swapped"), ValueError,
          r"t10k-images-idx3-ubyte: wrong magic number 2049 \(expected 2051 for MNIST images"),
    _case("MNIST unknown class", lambda e: load_mnist(e.folder / "mnist", classes=(7,)), ValueError,
          r"unknown class\(es\) \[7\]: .*holds labels \[1, 2\]"),
    _case("MNIST crop too large", lambda e: load_mnist(e.folder / "mnist", crop=(28, 28)), ValueError,
          r"crop \(28, 28\) is larger than the images \(4x4\)"),
    _case("image not an image", lambda e: load_image(e.folder / "text.png"), ValueError,
          r"text.png: not an image file Pillow can read"),
    _case("image truncated", lambda e: load_image(e.folder / "cut.png"), ValueError, r"cut.png: cannot read image"),
    _case("image missing", lambda e: load_image(e.folder / "nobody.png"), ValueError, r"nobody.png: no such image file"),
    # -- saved networks (symcnn.persistence; damaged files: tests/test_persistence.py) ---
    _case("load a missing file", lambda e: sc.load(e.folder / "never-saved.symcnn"), FileNotFoundError,
          r"no saved network at .*never-saved.symcnn"),
    _case("load an IDX file", lambda e: sc.load(e.folder / "not-a-network.symcnn"), ValueError,
          r"not-a-network.symcnn is not a saved symcnn network \(it does not start with the symcnn magic bytes"),
    _case("load a directory", lambda e: sc.load(e.folder), ValueError, r"is a directory, not a saved network file"),
    _case("load a number", lambda e: sc.load(7), TypeError, r"path must be a str or path-like, got int"),
    _case("save into a missing directory", lambda e: e.ce.save(e.folder / "nowhere" / "net.symcnn"), FileNotFoundError,
          r"cannot save to .*nowhere/net.symcnn: the directory .*nowhere does not exist"),
    _case("save onto a directory", lambda e: e.ce.save(e.folder), ValueError, r"it is a directory; give a file name"),
]


@pytest.mark.parametrize("call, error, match", CATALOGUE)
def test_wrong_input_gets_a_clear_error_from_symcnn(env, call, error, match):
    with pytest.raises(error, match=match) as raised:
        call(env)
    assert type(raised.value) is error  # not a subclass that would hide what went wrong
    raising_file = Path(raised.traceback[-1].path).resolve()
    assert SYMCNN_DIRECTORY in raising_file.parents, f"raised in {raising_file}, not by symcnn"


ACCEPTED = [
    pytest.param(lambda e: _network([sc.Conv2D(2, 3, shared_channels=True), *_softmax_head()]), id="shared channels, 1 channel"),
    pytest.param(lambda e: e.ce.predict(np.zeros((2, 5, 5), np.uint8)), id="uint8 image"),
    pytest.param(lambda e: e.ce.predict(np.zeros((2, 5, 5), np.float32)), id="float32 image"),
    pytest.param(lambda e: e.ce.predict([[[0] * 5] * 5] * 2), id="nested lists of ints"),
    pytest.param(lambda e: e.ce.loss(e.x, np.array([0, 2], np.uint8)), id="uint8 labels"),
    pytest.param(lambda e: e.ce.loss(e.x, np.eye(3)[[0, 2]]), id="one-hot rows"),
    pytest.param(lambda e: e.ce.loss(e.x[:1], 2), id="one label for one image"),
    pytest.param(lambda e: e.ce.loss(e.x[:1], [0.2, 0.3, 0.5]), id="class probabilities"),
    pytest.param(lambda e: e.bce.loss(e.x, [0.25, 1]), id="soft bce targets"),
    pytest.param(lambda e: e.ce.step(e.x, [0, 1], lr=np.float32(0.1)), id="numpy float lr"),
    pytest.param(lambda e: _network(_softmax_head(), seed=np.int64(3)), id="numpy int seed"),
]


@pytest.mark.parametrize("call", ACCEPTED)
def test_unusual_but_valid_input_is_accepted(env, call):
    call(env)


def test_evaluate_never_runs_a_string_and_reads_names_of_the_network_s_own_symbols(env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError):
        env.ce.evaluate("__import__('pathlib').Path('marker').touch() or 1", env.x)
    with pytest.raises(ValueError):
        env.ce.evaluate(np.array(["1", "__import__('pathlib').Path('marker').touch()"], dtype=object), env.x)
    assert not (tmp_path / "marker").exists()  # sympify ran eval and created it
    weight = env.ce.weight_symbols("dense2.weight")[1, 3]
    activation = env.ce.graph.layer_nodes[0].outputs[1, 2, 0]
    np.testing.assert_array_equal(env.ce.evaluate(weight.name, env.x), env.ce.evaluate(weight, env.x))
    np.testing.assert_array_equal(env.ce.evaluate([activation.name, 2 * activation], env.x)[:, 0],
                                  env.ce.feature_maps(env.x)["conv1"][:, 1, 2, 0])


def test_no_module_parses_text_as_code():
    """sympify/parse_expr/eval/exec/pickle: only checks.as_expression calls sympify, with strict=True."""
    forbidden = re.compile(r"\b(sympify|parse_expr|eval|exec|literal_eval|pickle|allow_pickle)\s*\(")
    found = []
    for module in sorted(SYMCNN_DIRECTORY.rglob("*.py")):
        for line in module.read_text().splitlines():
            code = line.split("#")[0]
            if forbidden.search(code) and not code.lstrip().startswith((">>>", "def eval(")):
                found.append(f"{module.relative_to(SYMCNN_DIRECTORY)}: {line.strip()}")
    assert found == ["checks.py: return sympy.sympify(value, strict=True)"], found


def _must_not_build(*args, **kwargs):
    raise AssertionError("an unrolled expression was built before the budget check")


def test_network_b_is_refused_unrolled_before_anything_is_built(monkeypatch):
    """conv 8x8x16 on 28x28, conv 4x4x8 stride 2, dense 10 softmax: about 632k unrolled terms."""
    net = sc.Network((1, 28, 28), [sc.Conv2D(16, 8), sc.Conv2D(8, 4, stride=2), sc.Flatten(),
                                   sc.Dense(10, activation="softmax")], loss="cross_entropy")
    estimate = net.graph.estimated_unrolled_terms()
    assert estimate == 16 * 21 * 21 * (64 + 1) + 8 * 9 * 9 * (16 * 16 + 1) + 10 * (648 + 1)
    for builder in (LayerNode.weighted_sum_at, LayerNode.output_at):
        monkeypatch.setattr(LayerNode, builder.__name__, _must_not_build)
    for builder in ("local_partials", "compile_expressions"):
        monkeypatch.setattr(evaluate, builder, _must_not_build)
    for refused in (lambda: net.unrolled_gradients(np.zeros((1, 28, 28)), 3),
                    lambda: UnrolledEvaluator(net.graph),
                    lambda: net.graph.unrolled_expressions()):
        with pytest.raises(ValueError, match=rf"about {estimate:,} expression terms, more than "
                                             rf"max_terms=100,000, so nothing was built.*net.gradients.*"
                                             rf"pass max_terms={estimate} or more and expect about 3 minute"):
            refused()


def test_budget_is_the_caller_s_to_raise():
    net = sc.presets.network_a()
    assert net.graph.check_unrolled_budget() == 29_192  # fits the default budget
    with pytest.raises(ValueError, match=r"about 29,192 expression terms, more than max_terms=1,000"):
        net.unrolled_gradients(np.zeros((1, 27, 27)), 1.0, max_terms=1_000)
