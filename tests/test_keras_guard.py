"""app_pages/ui/keras_guard.py patches a private Streamlit hook; these tests fail if Streamlit moves it.

Anything that could clear Keras state runs in a subprocess, so this test process keeps its own.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from streamlit.runtime.scriptrunner import script_runner

ROOT = Path(__file__).resolve().parents[1]


def test_streamlit_still_has_the_module_level_hook():
    module_tree = ast.parse(inspect.getsource(script_runner))
    hooks = [
        node for node in module_tree.body if isinstance(node, ast.FunctionDef) and node.name == "_clean_problem_modules"
    ]
    assert len(hooks) == 1, "Streamlit moved _clean_problem_modules: re-check app_pages/ui/keras_guard.py"
    assert "clear_session" in ast.unparse(hooks[0]), "the hook no longer clears Keras: is the guard needed?"
    assert callable(script_runner._clean_problem_modules)


def test_script_runner_still_calls_the_hook_through_the_module_global():
    source = inspect.getsource(script_runner.ScriptRunner)
    assert "_clean_problem_modules" in source
    # A bare-name call is looked up in script_runner's globals at run time, which is what install() patches.
    names = [
        node
        for node in ast.walk(ast.parse(textwrap.dedent(source)))
        if isinstance(node, ast.Name) and node.id == "_clean_problem_modules"
    ]
    assert names, "ScriptRunner no longer reaches the hook as a module global: re-check the guard"


_PROBE = """
import json
import keras
import tensorflow as tf
from streamlit.runtime.scriptrunner import script_runner

@tf.function
def double(x):
    return 2 * x

double(tf.constant(1.0))

def uids():
    return [keras.backend.get_uid("guard_probe") for _ in range(2)]

result = {"before": uids()}
script_runner._clean_problem_modules()
result["after_original_hook"] = uids()

from app_pages.ui import keras_guard

original = script_runner._clean_problem_modules
keras_guard.install()
keras_guard.install()
result["replaced"] = script_runner._clean_problem_modules is not original
script_runner._clean_problem_modules()
result["after_guarded_hook"] = uids()
result["double"] = float(double(tf.constant(2.0)))
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def probe() -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_original_hook_clears_keras_state(probe):
    assert probe["before"] == [1, 2]
    assert probe["after_original_hook"] == [1, 2], "clear_session() resets Keras' uid counters"


def test_after_install_the_hook_leaves_keras_state_alone(probe):
    assert probe["replaced"] is True
    assert probe["after_guarded_hook"] == [3, 4]
    assert probe["double"] == 4.0
