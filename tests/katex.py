r"""Every LaTeX string symcnn produces is checked by a real TeX-math renderer: KaTeX run by node.

KaTeX (a pinned version) is installed with npm, the first time it is needed, into
``tests/.katex/`` (git-ignored), under a file lock so parallel test processes install it
once. A batch of strings is rendered in ONE node process with ``throwOnError: true`` and
``strict: "error"`` (unknown commands, unbalanced braces and non-LaTeX input all fail).

Use it from any test::

    from tests.katex import assert_renders, math_in_html, unwrap_display_math
    assert_renders([display.formula_latex(expression), unwrap_display_math(formula._repr_latex_())])

or through the session fixture ``katex`` of ``tests/conftest.py`` (``katex.assert_renders(...)``),
which installs KaTeX before the first test that needs it. If node or npm is missing or the
install fails, the test fails (set ``SYMCNN_SKIP_KATEX=1`` outside CI to skip instead).
"""

from __future__ import annotations

import fcntl
import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

KATEX_VERSION = "0.16.22"
KATEX_DIRECTORY = Path(__file__).resolve().parent / ".katex"
_PACKAGE = KATEX_DIRECTORY / "node_modules" / "katex"

# reads [latex, ...] as JSON on stdin, writes [null or "error message", ...]
_RENDER_SCRIPT = r"""
const katex = require(process.argv[2]);
let input = "";
process.stdin.on("data", chunk => { input += chunk; });
process.stdin.on("end", () => {
  const results = JSON.parse(input).map(latex => {
    try {
      katex.renderToString(latex, {displayMode: true, throwOnError: true, strict: "error", trust: false});
      return null;
    } catch (error) {
      return String(error.message || error);
    }
  });
  process.stdout.write(JSON.stringify(results));
});
"""


def _unavailable(reason: str):
    message = f"KaTeX {KATEX_VERSION} is needed to check LaTeX output and {reason}"
    if os.environ.get("SYMCNN_SKIP_KATEX") == "1" and not os.environ.get("CI"):
        pytest.skip(message + " (skipped: SYMCNN_SKIP_KATEX=1)")
    pytest.fail(message + ". Install node and npm (https://nodejs.org); the tests install KaTeX themselves.",
                pytrace=False)


def _installed() -> bool:
    manifest = _PACKAGE / "package.json"
    return manifest.exists() and json.loads(manifest.read_text()).get("version") == KATEX_VERSION


def install() -> Path:
    """Install the pinned KaTeX into ``tests/.katex`` unless it is there; return the package directory."""
    if _installed():
        return _PACKAGE
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        _unavailable("node or npm is not on PATH")
    KATEX_DIRECTORY.mkdir(exist_ok=True)
    with open(KATEX_DIRECTORY / "install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test process may be installing it right now
        if not _installed():
            command = [npm, "install", "--prefix", str(KATEX_DIRECTORY), "--no-audit", "--no-fund",
                       "--loglevel=error", f"katex@{KATEX_VERSION}"]
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0 or not _installed():
                _unavailable(f"`{' '.join(command[1:])}` failed:\n{result.stderr.strip()}")
    return _PACKAGE


def render_errors(latex_strings) -> dict:
    """{latex: KaTeX's error message} for each string that does not render (empty if all do)."""
    strings = list(latex_strings)
    if not strings:
        return {}
    package = install()
    script = KATEX_DIRECTORY / "render.js"
    if not script.exists() or script.read_text() != _RENDER_SCRIPT:
        script.write_text(_RENDER_SCRIPT)
    result = subprocess.run(["node", str(script), str(package)], input=json.dumps(strings),
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"node could not run KaTeX: {result.stderr.strip()}", pytrace=False)
    return {latex: error for latex, error in zip(strings, json.loads(result.stdout)) if error is not None}


def assert_renders(latex_strings) -> None:
    """Fail, naming each string and KaTeX's reason, unless every string renders as display math."""
    strings = list(latex_strings)
    assert all(isinstance(s, str) and s.strip() for s in strings), "every LaTeX string must be a non-empty str"
    errors = render_errors(strings)
    if errors:
        report = "\n".join(f"- {error}\n  in: {latex[:300]}{'…' if len(latex) > 300 else ''}"
                           for latex, error in errors.items())
        pytest.fail(f"{len(errors)} of {len(strings)} LaTeX strings do not render in KaTeX:\n{report}",
                    pytrace=False)


def unwrap_display_math(repr_latex: str) -> str:
    r"""The math inside a ``_repr_latex_`` string, which must be ``$\displaystyle ...$``."""
    assert repr_latex.startswith("$\\displaystyle ") and repr_latex.endswith("$"), repr_latex[:80]
    inner = repr_latex[len("$\\displaystyle "):-1]
    assert "$" not in inner, "a stray $ inside display math"
    return inner


def math_in_html(text: str) -> list:
    r"""The LaTeX of every ``\( ... \)`` math cell of an HTML string, unescaped."""
    cells = re.findall(r"\\\((.*?)\\\)", text, flags=re.DOTALL)
    assert cells, "no \\( ... \\) math in the HTML"
    return [html.unescape(cell) for cell in cells]
