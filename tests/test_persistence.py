"""Saving and loading: exact round trips, damaged files refused, atomic writes, determinism."""

import ast
import hashlib
import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import sympy
import pytest

import symcnn as sc
from symcnn import persistence
from symcnn.layers import LAYER_TYPES, layer_from_config

HEADER_START = len(persistence.MAGIC) + struct.calcsize("<IQ")


def every_option_network(naming="symcnn", seed=5):
    """Every layer type with non-default options, trained a little so history is not empty."""
    net = sc.Network((2, 7, 7), [
        sc.Conv2D(3, (3, 2), stride=(2, 1), padding=(1, 0), activation="tanh", init="he", bias_init="uniform"),
        sc.Conv2D(2, 2, activation="relu", shared_channels=True, bias=False, init="glorot_reference"),
        sc.MaxPool2D(2, stride=1),
        sc.AvgPool2D((1, 2)),
        sc.Flatten(),
        sc.Dense(4, activation="sigmoid", init="uniform"),
        sc.Dense(3, activation="softmax")], loss="cross_entropy", seed=seed, naming=naming)
    rng = np.random.default_rng(0)
    net.fit(rng.random((6, 2, 7, 7)), [0, 1, 2, 0, 1, 2], lr=0.5, epochs=2, batch_size=4, progress=False,
            validation=(rng.random((2, 2, 7, 7)), [1, 2]))
    return net


def assert_same_network(loaded, original):
    """Architecture, settings, parameters (bit for bit) and histories are identical."""
    assert loaded.input_shape == original.input_shape
    assert [(type(layer), layer.config()) for layer in loaded.layers] == \
        [(type(layer), layer.config()) for layer in original.layers]
    assert (loaded.loss_name, loaded.seed, loaded.naming) == (original.loss_name, original.seed, original.naming)
    assert list(loaded.params) == list(original.params)
    for key, value in original.params.items():
        assert loaded.params[key].dtype == np.float64
        assert loaded.params[key].tobytes() == value.tobytes(), key  # bit-exact, signed zeros included
    assert loaded.history == original.history
    assert getattr(loaded, "accuracy_history", None) == getattr(original, "accuracy_history", None)
    assert repr(loaded) == repr(original)


def rewrite(path, change_header=None, version=persistence.FORMAT_VERSION):
    """Re-encode a saved file with a changed header or version and a *valid* checksum."""
    raw = path.read_bytes()
    _, header_length = struct.unpack_from("<IQ", raw, len(persistence.MAGIC))
    header = json.loads(raw[HEADER_START:HEADER_START + header_length])
    if change_header:
        change_header(header)
    header_bytes = json.dumps(header).encode()
    body = (persistence.MAGIC + struct.pack("<IQ", version, len(header_bytes)) + header_bytes
            + raw[HEADER_START + header_length:-32])
    path.write_bytes(body + hashlib.sha256(body).digest())


# -- exact round trips ------------------------------------------------------------------

@pytest.mark.parametrize("naming", ["symcnn", "r"])
def test_every_layer_option_round_trips_exactly(tmp_path, naming):
    original = every_option_network(naming)
    original.save(tmp_path / "net.symcnn")
    loaded = sc.load(tmp_path / "net.symcnn")
    assert_same_network(loaded, original)
    x = np.random.default_rng(1).random((3, 2, 7, 7))
    assert loaded.loss(x, [2, 1, 0]) == original.loss(x, [2, 1, 0])  # same numbers, bit for bit


@pytest.mark.parametrize("preset", sorted(sc.presets.PRESETS))
def test_presets_round_trip_exactly(tmp_path, preset):
    original = sc.presets.get(preset, seed=11)
    sc.persistence.save(original, str(tmp_path / f"{preset}.symcnn"))  # str paths too
    assert_same_network(sc.load(str(tmp_path / f"{preset}.symcnn")), original)


def test_special_float_values_and_fresh_seed_round_trip(tmp_path):
    net = sc.Network((1, 3, 3), [sc.Flatten(), sc.Dense(2, activation="softmax")], loss="cross_entropy", seed=None)
    params = net.params
    params["dense1.weight"] = np.array([[-0.0, 5e-324, np.nextafter(1, 2), -1.7976931348623157e308, 1 / 3, 0, 0, 0, 0],
                                        [np.pi, -np.e, 1e-300, 2.0 ** -1074, 0, 0, 0, 0, -0.0]])
    net.set_params(params)
    net.history = [0.1, 1 / 3, 1e-17]
    net.save(tmp_path / "net.symcnn")
    assert_same_network(sc.load(tmp_path / "net.symcnn"), net)


def test_loaded_network_trains_on_exactly_like_the_original(tmp_path):
    original = every_option_network()
    original.save(tmp_path / "net.symcnn")
    loaded = sc.load(tmp_path / "net.symcnn")
    x = np.random.default_rng(2).random((5, 2, 7, 7))
    assert original.fit(x, [0, 1, 2, 2, 1], lr=0.3, epochs=2, batch_size=2, progress=False) == \
        loaded.fit(x, [0, 1, 2, 2, 1], lr=0.3, epochs=2, batch_size=2, progress=False)
    assert_same_network(loaded, original)


def test_layer_configs_are_json_and_rebuild_the_layer():
    for layer in every_option_network().layers:
        config = layer.config()
        assert json.loads(json.dumps(config)) == config
        rebuilt = layer_from_config(type(layer).__name__, config)
        assert type(rebuilt) is type(layer) and rebuilt.config() == config
    assert set(LAYER_TYPES) == {"Conv2D", "Dense", "MaxPool2D", "AvgPool2D", "Flatten"}
    with pytest.raises(ValueError, match=r"unknown layer type 'Dropout'; expected one of Conv2D, Dense"):
        layer_from_config("Dropout", {})
    with pytest.raises(ValueError, match=r"Dense: config .* does not match its constructor .*'dropout'"):
        layer_from_config("Dense", {"units": 2, "dropout": 0.5})
    with pytest.raises(ValueError, match=r"Conv2D: stride must be >= 1"):  # rebuilt layers are validated again
        layer_from_config("Conv2D", {**sc.Conv2D(1, 3).config(), "stride": [0, 1]})


# -- damaged, foreign and newer files ------------------------------------------------------

@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "net.symcnn"
    sc.Network((1, 3, 3), [sc.Conv2D(2, 2, activation="relu"), sc.Flatten(),
                           sc.Dense(2, activation="softmax")], loss="cross_entropy").save(path)
    return path


def test_every_truncation_is_detected(saved):
    raw = saved.read_bytes()
    for length in range(len(raw)):
        saved.write_bytes(raw[:length])
        with pytest.raises(ValueError, match=r"net.symcnn is truncated or corrupted: its SHA-256 checksum "
                                             rf"does not match its contents \({length:,} bytes\)"):
            sc.load(saved)


def test_every_flipped_byte_is_detected(saved):
    raw = bytearray(saved.read_bytes())
    for position in range(len(raw)):
        damaged = raw.copy()
        damaged[position] ^= 0x10
        saved.write_bytes(bytes(damaged))
        expected = "is not a saved symcnn network" if position < len(persistence.MAGIC) else "truncated or corrupted"
        with pytest.raises(ValueError, match=expected):
            sc.load(saved)


def test_a_newer_format_version_is_refused_with_its_number(saved):
    rewrite(saved, version=persistence.FORMAT_VERSION + 1)
    with pytest.raises(ValueError, match=rf"written in symcnn file format version {persistence.FORMAT_VERSION + 1}; "
                                         rf"this symcnn \({sc.__version__}\) reads versions up to "
                                         rf"{persistence.FORMAT_VERSION}: upgrade symcnn to load it"):
        sc.load(saved)


@pytest.mark.parametrize("change, match", [
    (lambda header: header["layers"][0].update(type="Dropout"), r"cannot be rebuilt .*unknown layer type 'Dropout'"),
    (lambda header: header.update(loss="hinge"), r"cannot be rebuilt .*unknown loss 'hinge'"),
    (lambda header: header.pop("naming"), r"the header has no field 'naming' \(a str expected\)"),
    (lambda header: header["arrays"][0].update(shape=[3, 1, 2, 2]), r"payload is shorter than its header announces"),
    (lambda header: header["arrays"][0].update(shape=[1, 1, 2, 2]), r"bytes after the last array"),
    (lambda header: header.update(format="something.else"), r"the header does not describe a symcnn.Network"),
])
def test_a_consistent_file_describing_a_broken_network_is_refused(saved, change, match):
    rewrite(saved, change)
    with pytest.raises(ValueError, match=match):
        sc.load(saved)


# -- hostile files: a valid SHA-256 is easy to recompute, so the header is checked too ------

def _set_array(header, index, field, value):
    header["arrays"][index][field] = value


@pytest.mark.parametrize("change, match", [
    # the name checked with str.startswith: an int escaped as AttributeError
    (lambda header: _set_array(header, 0, "name", 5), r"header field 'arrays'\[0\] must be \{\"name\": str"),
    # np.prod of 2**70 escaped as OverflowError
    (lambda header: _set_array(header, 0, "shape", [2 ** 70, 1]), r"payload is shorter than its header announces "
                                                                 r"\(the arrays declare 9,444,732,965,739,290,4\d\d,\d\d\d bytes"),
    (lambda header: _set_array(header, 0, "shape", [-4, -2]), r"header field 'arrays'\[0\] must be .*list of ints >= 0"),
    (lambda header: _set_array(header, 0, "shape", "8"), r"header field 'arrays'\[0\] must be"),
    (lambda header: _set_array(header, 0, "name", "../../etc/passwd"), r"'arrays'\[0\] has the unknown name '../../etc/passwd'"),
    (lambda header: _set_array(header, 1, "name", header["arrays"][0]["name"]), r"'arrays'\[1\] has the repeated name"),
    (lambda header: header.update(arrays=[a for a in header["arrays"] if a["name"] != "history"]),
     r"header field 'arrays' has no 'history' entry"),
    (lambda header: header.update(arrays={"history": [0]}), r"header field 'arrays' must be a list of arrays, got dict"),
    (lambda header: header.update(input_shape="1x3x3"), r"header field 'input_shape' must be a list of 3 positive "
                                                        r"ints, got str '1x3x3'"),
    (lambda header: header.update(input_shape=[1, 2 ** 70, 3]), r"'input_shape' and 'layers': the saved network "
                                                                r"cannot be rebuilt .*parameters alone would take .* TB of memory"),
    (lambda header: header.update(input_shape=[1, True, 3]), r"header field 'input_shape' must be a list of 3"),
    (lambda header: header.update(layers=[]), r"header field 'layers' must be a non-empty list of layers, got list"),
    (lambda header: header.update(layers=["Conv2D"]), r"header field 'layers'\[0\] must be \{\"type\": str"),
    (lambda header: header["layers"][0].update(config=[2, 2]), r"header field 'layers'\[0\] must be"),
    (lambda header: header["layers"][0]["config"].update(filters="2"), r"cannot be rebuilt .*filters must be an int"),
    (lambda header: header.update(loss=["bce"]), r"header field 'loss' must be a str or a user-defined loss, got list"),
    (lambda header: header.update(seed="0"), r"header field 'seed' must be an int >= 0 or null, got str '0'"),
    (lambda header: header.update(naming=1), r"header field 'naming' must be a str, got int 1"),
], ids=["name int", "shape 2**70", "shape negative", "shape string", "name a path", "name repeated",
        "no history", "arrays a dict", "input_shape string", "input_shape 2**70", "input_shape bool",
        "layers empty", "layer a string", "config a list", "config value string", "loss list",
        "seed string", "naming int"])
def test_a_header_field_of_the_wrong_type_or_size_is_refused_naming_the_field(saved, change, match):
    rewrite(saved, change)
    with pytest.raises(ValueError, match=match) as raised:
        sc.load(saved)
    assert Path(raised.traceback[-1].path).parent == Path(persistence.__file__).parent


def test_an_absurdly_nested_header_is_refused(saved):
    body = b"[" * 100_000 + b"]" * 100_000
    raw = persistence.MAGIC + struct.pack("<IQ", persistence.FORMAT_VERSION, len(body)) + body
    saved.write_bytes(raw + hashlib.sha256(raw).digest())
    with pytest.raises(ValueError, match=r"unreadable header \(RecursionError"):
        sc.load(saved)


def _never_built(*args, **kwargs):
    raise AssertionError("load started building the network before checking its cost")


def test_a_valid_file_of_a_huge_network_is_refused_before_building(saved, monkeypatch):
    """A consistent header (checksum recomputed) declaring a 5000-output head, with every byte its
    arrays need: its loss and partials would take about 40 s to build."""
    units = 40_000
    header = {"format": "symcnn.Network", "symcnn_version": sc.__version__, "input_shape": [1, 1, 1],
              "layers": [{"type": "Flatten", "config": {}}, {"type": "Dense", "config": sc.Dense(units, activation="sigmoid").config()}],
              "loss": "bce", "seed": 0, "naming": "symcnn",
              "arrays": [{"name": "params/dense1.weight", "shape": [units, 1]},
                         {"name": "params/dense1.bias", "shape": [units]}, {"name": "history", "shape": [0]}]}
    header_bytes = json.dumps(header).encode()
    body = (persistence.MAGIC + struct.pack("<IQ", persistence.FORMAT_VERSION, len(header_bytes)) + header_bytes
            + bytes(8 * (2 * units)))
    saved.write_bytes(body + hashlib.sha256(body).digest())
    monkeypatch.setattr("symcnn.network.SymbolicGraph", _never_built)
    with pytest.raises(ValueError, match=r"'input_shape' and 'layers': the saved network cannot be rebuilt "
                                         r"\(ValueError: building this network would derive 1 layer\(s\), join 40,000 "
                                         r"outputs .*more than max_build_cost=3,000,000, so nothing was built.*"
                                         r"pass max_build_cost=4002267 or more"):
        sc.load(saved)


def test_the_build_budget_of_load_is_the_caller_s(saved):
    cost = 2_000 * 2 + 100 * 2  # two layers to derive, two outputs joined with the loss
    cost += 1  # (28 parameters + 16 conv and 8 dense patch entries) / 300, rounded up
    with pytest.raises(ValueError, match=rf"cost of {cost:,} \(.*\), more than max_build_cost={cost - 1:,}"):
        sc.load(saved, max_build_cost=cost - 1)
    assert sc.load(saved, max_build_cost=cost).input_shape == (1, 3, 3)


def test_diverged_parameters_are_not_saved(tmp_path):
    net = sc.Network((1, 3, 3), [sc.Flatten(), sc.Dense(1, activation="sigmoid")])
    net._params["dense1.bias"] = np.array([np.nan])  # what a diverged training run leaves behind
    with pytest.raises(ValueError, match=r"cannot save: parameter 'dense1.bias' contains NaN or infinite"):
        net.save(tmp_path / "net.symcnn")
    assert not list(tmp_path.iterdir())


# -- atomic writing -------------------------------------------------------------------------

def _fail_midway(file, pieces):
    file.write(pieces[0])
    file.write(pieces[1][:len(pieces[1]) // 2])
    raise OSError(28, "No space left on device")


def _fail(*args, **kwargs):
    raise OSError(5, "Input/output error")


@pytest.mark.parametrize("module, step, replacement", [(persistence, "_write_pieces", _fail_midway),
                                                       (os, "fsync", _fail), (os, "replace", _fail)])
def test_a_save_failing_midway_keeps_the_earlier_file(tmp_path, monkeypatch, module, step, replacement):
    path = tmp_path / "net.symcnn"
    earlier = every_option_network(seed=1)
    earlier.save(path)
    later = every_option_network(seed=2)
    monkeypatch.setattr(module, step, replacement)
    with pytest.raises(OSError):
        later.save(path)
    monkeypatch.undo()
    assert_same_network(sc.load(path), earlier)
    assert [entry.name for entry in tmp_path.iterdir()] == ["net.symcnn"]  # no temporary file left


def test_a_first_save_failing_midway_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(persistence, "_write_pieces", _fail_midway)
    with pytest.raises(OSError, match="No space left on device"):
        sc.presets.network_a().save(tmp_path / "a.symcnn")
    assert not list(tmp_path.iterdir())


KILLED_WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    import symcnn as sc

    path, history_length = sys.argv[1], int(sys.argv[2])
    net = sc.Network((1, 8, 8), [sc.Conv2D(4, 3, activation="relu"), sc.Flatten(),
                                 sc.Dense(2, activation="softmax")], loss="cross_entropy")
    trained = [0.5] * history_length  # a long training run makes a large file
    for generation in range(1_000_000):
        net.set_params({key: np.full(value.shape, float(generation)) for key, value in net.params.items()})
        net.history = trained + [float(generation)]
        net.save(path)
        print(generation, flush=True)
""")


def _writing(directory) -> bool:
    """Whether a save has started writing its temporary file in ``directory``."""
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.name.endswith(".partial"):
                try:
                    return entry.stat().st_size > 0
                except FileNotFoundError:  # renamed into place meanwhile
                    return False
    return False


def test_a_save_killed_midway_leaves_the_last_good_model(tmp_path):
    """SIGKILL a process that saves a ~32 MB model over and over (printing each generation it
    completes) while it writes a temporary file: the path then holds the last completed
    generation, whole."""
    path, history_length = tmp_path / "big.symcnn", 4_000_000
    for _ in range(3):  # a kill can land between two saves instead; then try again
        writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path), str(history_length)],
                                  stdout=subprocess.PIPE, text=True)
        try:
            completed = [writer.stdout.readline() for _ in range(2)]
            assert completed == ["0\n", "1\n"]
            deadline = time.monotonic() + 60
            while not _writing(tmp_path) and time.monotonic() < deadline:
                pass
            writer.send_signal(signal.SIGKILL)
            writer.wait()
            completed += writer.stdout.read().split()
        finally:
            writer.kill()
            writer.wait()
            writer.stdout.close()
        loaded = sc.load(path)
        assert len(loaded.history) == history_length + 1 and loaded.history[0] == 0.5
        generation = loaded.history[-1]
        assert all(np.all(value == generation) for value in loaded.params.values())
        if any(entry.name.endswith(".partial") for entry in tmp_path.iterdir()):  # killed mid-write
            assert generation == float(completed[-1])
            return
    pytest.fail("no attempt was killed in the middle of a write")


# -- determinism ------------------------------------------------------------------------------

def test_the_same_seed_gives_bit_identical_parameters_and_loss_curves():
    rng = np.random.default_rng(3)
    x, y = rng.random((6, 2, 7, 7)), [0, 1, 2, 2, 1, 0]
    runs = []
    for _ in range(2):
        net = every_option_network(seed=8)
        history = net.fit(x, y, lr=0.2, epochs=3, batch_size=4, shuffle=True, progress=False)
        runs.append((net.params, history, net.history))
    (params, history, full_history), (other_params, other_history, other_full_history) = runs
    assert all(np.array_equal(params[key], other_params[key]) for key in params)
    assert history == other_history and full_history == other_full_history
    different = every_option_network(seed=9)
    assert not np.array_equal(different.params["conv1.weight"], params["conv1.weight"])


# -- user-defined mathematics ------------------------------------------------------------

def user_math_network(seed=3):
    """A user activation in a conv layer, a parameterised built-in, a user loss; trained a little."""
    swish = sc.Activation("swish", lambda z: z * sc.sigmoid(z), latex=r"\operatorname{swish}")
    loss = sc.Loss("log_cosh", lambda p, t: sympy.log(sympy.cosh(p - t)))
    net = sc.Network((1, 6, 6), [sc.Conv2D(2, 3, activation=swish), sc.Conv2D(2, 2, activation=sc.leaky_relu(0.2)),
                                 sc.Flatten(), sc.Dense(2, activation=sc.elu(0.5))], loss=loss, seed=seed)
    rng = np.random.default_rng(0)
    net.fit(rng.random((4, 1, 6, 6)), rng.normal(size=(4, 2)), lr=0.1, epochs=3, batch_size=2, progress=False)
    return net


def _version(path):
    return struct.unpack_from("<IQ", path.read_bytes(), len(persistence.MAGIC))[0]


def test_user_defined_math_round_trips_bit_identically(tmp_path):
    original = user_math_network()
    original.save(tmp_path / "net.symcnn")
    loaded = sc.load(tmp_path / "net.symcnn")
    assert_same_network(loaded, original)
    assert loaded.layers[0].activation.latex == r"\operatorname{swish}"
    x = np.random.default_rng(1).random((3, 1, 6, 6))
    assert loaded.predict(x).tobytes() == original.predict(x).tobytes()
    y = np.random.default_rng(2).normal(size=(3, 2))
    gradients = loaded.gradients(x, y)
    assert all(gradients[key].tobytes() == value.tobytes() for key, value in original.gradients(x, y).items())
    assert _version(tmp_path / "net.symcnn") == persistence.FORMAT_VERSION == 2


def test_a_network_without_user_math_is_written_in_the_older_version(tmp_path):
    sc.Network((1, 4, 4), [sc.Conv2D(1, 3, activation="gelu"), sc.Flatten(), sc.Dense(1)], loss="huber").save(
        tmp_path / "plain.symcnn")
    assert _version(tmp_path / "plain.symcnn") == persistence.PLAIN_FORMAT_VERSION == 1


@pytest.fixture
def saved_user_math(tmp_path):
    path = tmp_path / "user.symcnn"
    user_math_network().save(path)
    return path


def _set_activation_expression(structure):
    def change(header):
        header["layers"][0]["config"]["activation"]["expression"] = structure
    return change


@pytest.mark.parametrize("change, match", [
    (_set_activation_expression(["__import__", ["Symbol", "os"]]),
     r"header field 'layers'\[0\]: activation 'swish': unknown node type '__import__'"),
    (_set_activation_expression(["Mul", ["Symbol", "z"], ["Symbol", "__builtins__"]]),
     r"activation 'swish': unknown symbol \['__builtins__'\] \(allowed: z\)"),
    (_set_activation_expression(["Mul", ["Symbol", "p"], ["Symbol", "z"]]), r"unknown symbol \['p'\] \(allowed: z\)"),
    (_set_activation_expression(["exp"] * 1 + [["exp"] * 1 + [["Symbol", "z"]]]), None),  # a fine expression loads
    (_set_activation_expression("lambda z: __import__('os').system('echo hacked')"), r"each node must be a list"),
    (lambda header: header["layers"][0]["config"]["activation"].update(defined="loss"),
     r"a user-defined activation must be"),
    (lambda header: header["layers"][0]["config"]["activation"].update(code="print(1)"), r"got the fields"),
    (lambda header: header["loss"].update(expression=["Symbol", "t"]), r"Loss 'log_cosh'.* does not depend on p"),
    (lambda header: header["loss"].update(name="os.system"), r"Loss: name must be an identifier"),
    (lambda header: header["loss"].update(expression=["Pow", ["Integer", "10"], ["Integer", "99999999"]]),
     r"a number raised to the power 99999999"),
])
def test_a_file_with_math_off_the_allow_list_is_refused(saved_user_math, change, match, monkeypatch):
    import sympy.parsing.sympy_parser as parser

    def never(*args, **kwargs):
        raise AssertionError("text from a file reached a parser or unpickler")
    monkeypatch.setattr(parser, "parse_expr", never)  # sympify(str) parses through it
    monkeypatch.setattr("pickle.loads", never)
    monkeypatch.setattr("pickle.load", never)
    rewrite(saved_user_math, change)
    if match is None:
        assert str(sc.load(saved_user_math).layers[0].activation.expression) == "exp(exp(z))"
        return
    with pytest.raises(ValueError, match=match) as raised:
        sc.load(saved_user_math)
    assert str(saved_user_math) in str(raised.value)


def test_an_absurdly_deep_expression_is_refused(saved_user_math):
    def deep(header):
        node = ["Symbol", "z"]
        for _ in range(500):
            node = ["tanh", node]
        header["layers"][0]["config"]["activation"]["expression"] = node
    rewrite(saved_user_math, deep)
    with pytest.raises(ValueError, match=r"nested deeper than 64 levels"):
        sc.load(saved_user_math)


def test_loading_never_evaluates_or_parses_file_text():
    """No call of eval/exec/sympify/parse_expr/__import__ and no pickle in the modules that read files."""
    forbidden = {"eval", "exec", "sympify", "parse_expr", "__import__", "loads", "load"}
    for name in ("persistence.py", "expressions.py"):
        tree = ast.parse((Path(sc.__file__).parent / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
                assert not any("pickle" in module or "parsing" in module for module in modules), (name, modules)
            if isinstance(node, ast.Call):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                owner = getattr(node.func.value, "id", "") if isinstance(node.func, ast.Attribute) else ""
                if called in ("loads", "load"):
                    assert owner == "json", (name, owner, called)  # json.loads reads data, nothing else loads
                else:
                    assert called not in forbidden, (name, called)
