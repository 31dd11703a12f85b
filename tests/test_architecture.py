"""Structural rules of the architecture (../shared/DESIGN.md, beside the checkout in CI) that no single unit test
would catch.

- ``playground/`` never imports Streamlit (the engine must run without a UI).
- Importing ``playground``, ``playground.theory`` and ``playground.plots`` does not load TensorFlow, so the
  Home page paints before TF's multi-second import.
- Nothing in the app calls ``clear_session`` or a global seeder: those reset Keras state for every session.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "playground"
FORBIDDEN_CALLS = {"clear_session", "set_random_seed"}
LIGHT_MODULES = ["playground", "playground.theory", "playground.plots", "playground.lessons", "playground.live_routes"]


def _python_files(*roots: Path) -> list[Path]:
    files: list[Path] = []
    for root in roots:
        if root.is_file():
            files.append(root)
        elif root.is_dir():
            files.extend(sorted(root.rglob("*.py")))
    return files


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _run(code: str) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _streamlit_imports(tree: ast.Module) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__":
            names = [arg.value for arg in node.args[:1] if isinstance(arg, ast.Constant)]
        else:
            continue
        if any(str(name).split(".")[0] == "streamlit" for name in names):
            lines.append(node.lineno)
    return lines


def test_the_streamlit_import_detector_works():
    source = "import os\ndef f():\n    from streamlit.runtime import x\n    import streamlit as st\n"
    assert _streamlit_imports(ast.parse(source)) == [3, 4]
    assert _streamlit_imports(ast.parse("import streamlit_extras_not\nfrom .streamlit import y\n")) == []


def test_engine_source_never_imports_streamlit():
    files = _python_files(ENGINE)
    assert ENGINE / "__init__.py" in files and len(files) > 3
    offenders = {str(path.relative_to(ROOT)): lines for path in files if (lines := _streamlit_imports(_parse(path)))}
    assert offenders == {}, f"playground/ must not import streamlit: {offenders}"


def test_importing_every_engine_module_does_not_load_streamlit():
    result = _run(
        """
        import importlib, json, pkgutil, sys
        import playground
        names = sorted(
            m.name for m in pkgutil.walk_packages(playground.__path__, "playground.")
            if not m.name.endswith("__main__")
        )
        for name in names:
            importlib.import_module(name)
        loaded = {m.split(".")[0] for m in sys.modules}
        result = {"modules": names, "streamlit": "streamlit" in loaded, "tf": "tensorflow" in loaded}
        print(json.dumps(result))
        """
    )
    assert "playground.training" in result["modules"]
    assert result["tf"] is True  # the probe sees heavy imports, so the next test's "no TF" means something
    assert result["streamlit"] is False


def test_light_modules_do_not_import_tensorflow():
    present = [name for name in LIGHT_MODULES if importlib.util.find_spec(name) is not None]
    result = _run(
        f"""
        import importlib, json, sys
        for name in {present!r}:
            importlib.import_module(name)
        heavy = sorted({{m.split(".")[0] for m in sys.modules}} & {{"tensorflow", "keras", "streamlit"}})
        print(json.dumps({{"heavy": heavy, "loaded": [n for n in {present!r} if n in sys.modules]}}))
        """
    )
    assert "playground" in present and "playground.theory" in present
    assert result["loaded"] == present
    assert result["heavy"] == [], "the Home page must paint before TensorFlow loads"


def _forbidden_calls(tree: ast.Module) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in FORBIDDEN_CALLS:
                found.append((node.lineno, name))
        elif isinstance(node, ast.ImportFrom):
            found.extend((node.lineno, a.name) for a in node.names if a.name in FORBIDDEN_CALLS)
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_CALLS:
            found.append((node.lineno, node.attr))
    return sorted(set(found))


def test_the_forbidden_call_detector_works():
    source = (
        "import keras\nkeras.backend.clear_session()\n"
        "from keras.utils import set_random_seed\nf = keras.utils.set_random_seed\n"
    )
    assert [name for _, name in _forbidden_calls(ast.parse(source))] == [
        "clear_session",
        "set_random_seed",
        "set_random_seed",
    ]


@pytest.mark.parametrize("where", ["playground", "pages", "app.py"])
def test_no_clear_session_or_global_seeding(where):
    files = _python_files(ROOT / where)
    offenders = {str(path.relative_to(ROOT)): calls for path in files if (calls := _forbidden_calls(_parse(path)))}
    assert offenders == {}, f"never call {sorted(FORBIDDEN_CALLS)} in the app: {offenders}"


def _module_imports(root: Path) -> dict[str, set[str]]:
    """Each engine module's imports of other engine modules, lazy ones inside functions included."""
    modules = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: up from this module's package
                    parents = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parents, base] if base else parents)
                for alias in node.names:
                    targets.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def test_the_engine_has_no_import_cycles():
    graph = _module_imports(ROOT / "playground")
    assert "playground.assets" in graph and "playground.build_assets" in graph
    visiting, done, cycles = [], set(), []

    def visit(module: str) -> None:
        if module in visiting:
            cycles.append([*visiting[visiting.index(module) :], module])
            return
        if module in done:
            return
        visiting.append(module)
        for target in sorted(graph[module]):
            visit(target)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)
    assert not cycles, "import cycles: " + "; ".join(" → ".join(c) for c in cycles)
