"""Files and situations that must never raise out of the indexer: binary, huge, symlink loops, unreadable,
non-UTF-8, deleted mid-index, secrets, excludes."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from index_support import make_index

from roost.context.index import IndexProgress
from roost.context.languages import _python_imports
from roost.context.scanning import is_secret_path, read_file


def write(root: Path, rel: str, content: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    write(workspace, "good.py", "def good():\n    return 1\n")
    return workspace


def test_binary_file_is_skipped_with_one_log_line(root, tmp_path, caplog):
    write(root, "blob.py", b"\x00\x01\x02binary" * 10)
    with caplog.at_level(logging.INFO, logger="roost.context"):
        index = make_index(root, tmp_path / "c")
        report = index.index()
    assert index.files() == ["good.py"]
    assert report.skipped == 1
    assert [r.getMessage() for r in caplog.records if "blob.py" in r.getMessage()] == [
        "skipped blob.py: binary content"
    ]
    index.close()


def test_huge_file_is_skipped(root, tmp_path, caplog):
    write(root, "huge.py", "x = 1\n" * 200_000)  # 1.2 MB
    with caplog.at_level(logging.INFO, logger="roost.context"):
        index = make_index(root, tmp_path / "c")
        index.index()
    assert "huge.py" not in index.files()
    assert sum("huge.py" in r.getMessage() for r in caplog.records) == 1
    index.close()


def test_symlink_loop_and_dangling_link(root, tmp_path):
    (root / "pkg").mkdir()
    write(root, "pkg/mod.py", "VALUE = 1\n")
    os.symlink("..", root / "pkg" / "loop")  # pkg/loop -> ws: a cycle
    os.symlink("nowhere.py", root / "dangling.py")
    index = make_index(root, tmp_path / "c")
    index.index()
    assert index.files() == ["good.py", "pkg/mod.py"]
    index.close()


def test_unreadable_file_is_skipped(root, tmp_path, monkeypatch, caplog):
    secret = write(root, "locked.py", "x = 1\n")
    if os.geteuid() != 0:
        secret.chmod(0)
    else:
        # root reads anything; simulate the EACCES the indexer gets as a normal user (it reads files
        # with os.open).
        real_open = os.open

        def guarded_open(file, *args, **kwargs):
            if str(file).endswith("locked.py"):
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(os, "open", guarded_open)
    with caplog.at_level(logging.INFO, logger="roost.context"):
        index = make_index(root, tmp_path / "c")
        report = index.index()
    assert index.files() == ["good.py"]
    assert report.skipped == 1
    assert any(
        "locked.py" in r.getMessage() and "Permission denied" in r.getMessage() for r in caplog.records
    )
    index.close()


def test_non_utf8_is_decoded_with_replacement(root, tmp_path, caplog):
    write(root, "latin.py", "def caf\xe9():\n    pass\n\ndef ok():\n    pass\n".encode("latin-1"))
    with caplog.at_level(logging.INFO, logger="roost.context"):
        index = make_index(root, tmp_path / "c")
        index.index()
    # tree-sitter ends the identifier at the invalid byte; what follows is still indexed.
    assert [d.name for d in index.symbols("latin.py")] == ["caf", "ok"]
    assert sum("latin.py is not valid UTF-8" in r.getMessage() for r in caplog.records) == 1
    index.close()


def test_file_deleted_mid_index(root, tmp_path):
    for number in range(10):
        write(root, f"m{number}.py", f"def f{number}():\n    pass\n")
    index = make_index(root, tmp_path / "c", batch_size=2)
    deleted = []

    def progress(update: IndexProgress) -> None:
        if update.phase == "parsing" and not deleted:
            (root / "m9.py").unlink()
            deleted.append(True)

    report = index.index(progress)
    assert "m9.py" not in index.files()
    assert "m8.py" in index.files()
    assert report.files == 11
    index.close()


def test_secrets_are_never_indexed_or_read(root, tmp_path):
    write(root, ".env.py", "TOKEN = 'x'\n")  # a .py that is still a secret by name
    write(root, "credentials.py", "PASSWORD = 'x'\n")
    write(root, ".ssh/config.py", "x = 1\n")
    index = make_index(root, tmp_path / "c")
    index.index()
    assert index.files() == ["good.py"]
    assert index.source("credentials.py") is None
    index.set_buffer("credentials.py", "PASSWORD = 'typed'\n")
    assert "credentials.py" not in index.files()
    index.close()


@pytest.mark.parametrize(
    ("path", "secret"),
    [
        (".env", True),
        (".env.production", True),
        ("config/prod.env", True),
        ("certs/server.pem", True),
        ("deploy/key.KEY", True),
        ("home/.ssh/id_rsa", True),
        ("home/.ssh/id_rsa.pub", True),
        ("credentials.json", True),
        ("aws/credentials", True),
        ("store.p12", True),
        ("secrets/db.yaml", True),
        (".pgpass", True),
        ("home/_netrc", True),
        ("keys/server.ppk", True),
        ("www/.htpasswd", True),
        (".vault-token", True),
        (".s3cfg", True),
        (".boto", True),
        (".dockercfg", True),
        ("home/.docker/config.json", True),
        ("home/.kube/config", True),
        ("client_secret_1234.apps.googleusercontent.com.json", True),
        ("infra/terraform.tfstate", True),
        ("infra/terraform.tfstate.backup", True),
        ("infra/main.tf", False),
        ("docker/compose.py", False),
        ("src/environment.py", False),
        ("src/keys.py", False),
        ("README.md", False),
    ],
)
def test_is_secret_path(path, secret):
    assert is_secret_path(path) is secret


def test_excludes_and_default_excludes(root, tmp_path):
    write(root, "node_modules/lib/index.py", "x = 1\n")
    write(root, "generated/out.py", "x = 1\n")
    write(root, ".venv/lib/site.py", "x = 1\n")
    write(root, "sub/.gitignore", "local_*.py\n")
    write(root, "sub/local_conf.py", "x = 1\n")
    write(root, "sub/kept.py", "x = 1\n")
    index = make_index(root, tmp_path / "c", excludes=("generated/",))
    index.index()
    assert index.files() == ["good.py", "sub/kept.py"]
    index.close()


def test_syntax_errors_still_index(root, tmp_path):
    write(root, "broken.py", "def ok():\n    pass\n\ndef broken(:\n")
    index = make_index(root, tmp_path / "c")
    index.index()
    assert "ok" in [d.name for d in index.symbols("broken.py")]
    index.close()


def test_root_must_be_a_directory(tmp_path):
    with pytest.raises(NotADirectoryError):
        make_index(tmp_path / "missing", tmp_path / "c")


def test_a_failing_import_resolver_costs_that_import_only(tmp_path, monkeypatch, caplog):
    workspace = tmp_path / "ws"
    write(workspace, "lib.py", "def helper():\n    return 1\n")
    write(workspace, "broken.py", "X = 1\n")
    write(workspace, "app.py", "import lib\nimport broken\nfrom lib import helper\n")
    real_resolve = _python_imports.resolve

    def resolve(imp, importer, layout, roots):
        if imp.module == "broken":
            raise RuntimeError("resolver bug")
        return real_resolve(imp, importer, layout, roots)

    monkeypatch.setattr(_python_imports, "resolve", resolve)
    with caplog.at_level(logging.INFO, logger="roost.context"):
        index = make_index(workspace, tmp_path / "c")
        index.index()
    resolved = [(edge.imp.module, edge.resolved.paths) for edge in index.imports("app.py")]
    assert resolved == [("lib", ("lib.py",)), ("broken", ()), ("lib", ("lib.py",))]
    assert sum("resolving 'broken' in app.py failed" in r.getMessage() for r in caplog.records) == 1
    index.close()


def test_reading_a_fifo_never_blocks(tmp_path, caplog):
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    with caplog.at_level(logging.INFO, logger="roost.context"):
        read = read_file(fifo, 1_000_000, "pipe.py")  # no writer: a blocking open would hang here
    assert read is not None and read[0] is None
    assert any("skipped pipe.py: not a regular file" in r.getMessage() for r in caplog.records)


def test_read_file_reports_the_stat_it_read_at(tmp_path):
    path = write(tmp_path, "m.py", "x = 1\n")
    read = read_file(path, 1_000_000)
    assert read is not None
    data, stat = read
    assert data == b"x = 1\n" and stat.size == 6 and stat.mtime_ns == path.stat().st_mtime_ns
    assert read_file(tmp_path / "gone.py", 1_000_000) is None
    assert read_file(path, 3) == (None, stat)  # over the limit: skipped, with its stat
