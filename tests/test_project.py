"""The project's promises about itself: the README's commands and CI stay in step."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands():
    return re.findall(r"^    (python3 -m venv .*)$", (ROOT / "README.md").read_text(), flags=re.M)


def test_readme_has_exactly_two_setup_commands():
    commands = _readme_commands()
    assert len(commands) == 2, commands
    assert any("symcnn demo" in c for c in commands) and any("pytest" in c for c in commands)


def test_ci_runs_the_readme_test_command():
    test_command = next(c for c in _readme_commands() if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_readme_tour_runs_and_shows_what_it_says():
    tour = re.search(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S).group(1)
    namespace = {}
    exec(compile(tour, "README.md", "exec"), namespace)
    node = namespace["node"]
    assert str(namespace["local_partials"](node, (0, 3, 4))["output"]) == "{z__2_0_3_4: a__2_0_3_4*(1 - a__2_0_3_4)}"
    assert len(node.weighted_sum_at((0, 3, 4)).args) == 25


def test_readme_tour_builds_exactly_the_preset():
    import numpy as np

    import symcnn as sc
    tour = re.search(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S).group(1)
    namespace = {}
    exec(compile(tour.split("node =")[0], "README.md", "exec"), namespace)
    built, preset = namespace["net"], sc.presets.network_a()
    assert repr(built) == repr(preset)
    assert list(built.params) == list(preset.params)
    for key in preset.params:
        np.testing.assert_array_equal(built.params[key], preset.params[key])


def _tour_namespace():
    tour = re.search(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S).group(1)
    namespace = {}
    exec(compile(tour, "README.md", "exec"), namespace)
    return tour, namespace


def test_readme_renders_what_the_tour_shows(katex):
    """Each $$...$$ formula of the README is the _repr_latex_ (what Jupyter shows) of the tour line
    marked 'rendered below', in order, and renders in KaTeX."""
    from tests.katex import unwrap_display_math
    tour, namespace = _tour_namespace()
    shown = [line.split("#")[0].strip() for line in tour.splitlines() if "# rendered below" in line]
    expected = [unwrap_display_math(eval(code, namespace)._repr_latex_()) for code in shown]
    rendered = re.findall(r"^\$\$(.*)\$\$$", (ROOT / "README.md").read_text(), flags=re.M)
    assert len(shown) == 2 and rendered == expected
    katex.assert_renders(rendered)


def test_readme_shows_what_symcnn_inspect_prints():
    import os
    import subprocess
    import sys
    block = re.search(r"`symcnn inspect` prints, in a terminal 80 columns wide:\n\n```text\n(.*?)```",
                      (ROOT / "README.md").read_text(), flags=re.S).group(1)
    printed = subprocess.run([sys.executable, "-m", "symcnn", "inspect"], capture_output=True, text=True,
                             timeout=300, env={**os.environ, "COLUMNS": "80"}, check=True).stdout
    assert block == printed
