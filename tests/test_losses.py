import numpy as np
import pytest
import sympy

from symcnn.evaluate import compile_expressions
from symcnn.losses import check_loss, loss_of_logits, loss_of_probabilities, output_probabilities


@pytest.mark.parametrize("loss, activation", [
    ("bce", "sigmoid"), ("bce", "softmax"), ("cross_entropy", "softmax"), ("mse", "tanh"), ("mse", None)])
def test_logit_form_equals_readable_form(loss, activation, rng):
    logits, targets = sympy.symbols("z0:3"), sympy.symbols("y0:3")
    stable = compile_expressions([logits, targets], loss_of_logits(loss, activation, logits, targets))
    readable = loss_of_probabilities(loss, output_probabilities(activation, logits), targets)
    readable = compile_expressions([logits, targets], readable)
    for _ in range(5):
        z, y = rng.normal(0, 3, 3), rng.random(3)
        assert stable(z, y) == pytest.approx(readable(z, y), rel=1e-12)


def test_logit_form_is_finite_where_the_readable_form_overflows():
    logits, targets = sympy.symbols("z0:2"), sympy.symbols("y0:2")
    stable = compile_expressions([logits, targets], loss_of_logits("bce", "softmax", logits, targets))
    value = np.atleast_1d(stable([np.array([1e3]), np.array([-1e3])], [np.array([0.0]), np.array([1.0])]))
    assert np.isfinite(value).all() and value[0] == pytest.approx(4e3)


def test_loss_and_activation_must_fit():
    with pytest.raises(ValueError, match="needs the last layer's activation"):
        check_loss("cross_entropy", "sigmoid")
    with pytest.raises(ValueError, match="unknown loss"):
        check_loss("hinge", None)
