"""Bandit, in process and warm.

Bandit's command line builds a config, a test set (every plugin and blacklist, loaded through the
``bandit.plugins`` entry points, which is where Roost's own plugins come in) and a manager for every run. We
build the config and test set once per workspace configuration and reuse them; one scan then only costs
bandit's AST walk over the text it is given (well under a millisecond for a function-sized unit).

Thread safety: the config and test set are only read during a scan; every scan builds its own node visitor,
tester and metrics, so concurrent scans from several threads are safe.
"""

from __future__ import annotations

import ast
import configparser
import fnmatch
import io
import logging
import threading
import tokenize
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from bandit.core import config as bandit_config
from bandit.core import extension_loader, meta_ast, metrics, node_visitor, test_set
from bandit.core import manager as bandit_manager
from bandit.core import utils as bandit_utils

from roost.engine.gate.model import Level

LOG = logging.getLogger(__name__)

# Bandit warns when a file name has no importable module path; ours is synthetic, so give it one.
_SYNTHETIC_FILENAME = "roost_gate/suggestion.py"


class WorkspaceConfigError(ValueError):
    """The workspace's bandit configuration could not be read."""


@dataclass(frozen=True)
class BanditSettings:
    """The parts of a workspace's bandit configuration the gate honours."""

    tests: frozenset[str] = frozenset()
    skips: frozenset[str] = frozenset()
    min_severity: Level = Level.UNDEFINED
    min_confidence: Level = Level.UNDEFINED
    # Paths bandit leaves out (``exclude_dirs`` / ``exclude``), matched the way bandit matches them: a glob,
    # or a substring of the path.
    exclude: tuple[str, ...] = ()
    # The pyproject.toml holding [tool.bandit], handed to bandit itself for plugin options.
    config_file: Path | None = None
    sources: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class RawIssue:
    """A bandit issue with the line numbers of the scanned text."""

    test_id: str
    severity: Level
    confidence: Level
    cwe: int | None
    lineno: int
    linerange: tuple[int, ...]
    message: str


def _split_ids(value: object) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        items = value.replace(" ", ",").split(",")
    elif isinstance(value, list | tuple | set):
        items = [str(v) for v in value]
    else:
        raise WorkspaceConfigError(f"expected a list of bandit test ids, got {value!r}")
    return frozenset(item.strip() for item in items if item.strip())


def _level(value: object, what: str) -> Level:
    if value is None:
        return Level.UNDEFINED
    text = str(value).strip().lower()
    if text in ("", "all", "undefined"):
        return Level.UNDEFINED
    try:
        return Level.parse(text)
    except ValueError as error:
        raise WorkspaceConfigError(f"{what}: {error}") from None


def load_workspace_settings(root: Path | None) -> BanditSettings:
    """Read ``[tool.bandit]`` from ``root/pyproject.toml`` and ``[bandit]`` from ``root/.bandit``.

    ``.bandit`` (bandit's INI file) wins where both set the same key, as it does for bandit's own CLI, which
    prefers an explicit INI file.
    """
    if root is None:
        return BanditSettings()
    tests: frozenset[str] = frozenset()
    skips: frozenset[str] = frozenset()
    severity = confidence = None
    config_file: Path | None = None
    exclude: tuple[str, ...] = ()
    sources: list[str] = []

    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            with pyproject.open("rb") as handle:
                section = tomllib.load(handle).get("tool", {}).get("bandit")
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise WorkspaceConfigError(f"{pyproject}: {error}") from None
        if isinstance(section, dict):
            config_file = pyproject
            sources.append(str(pyproject))
            tests = _split_ids(section.get("tests"))
            skips = _split_ids(section.get("skips"))
            severity = section.get("severity", section.get("level"))
            confidence = section.get("confidence")
            exclude = tuple(sorted(_split_ids(section.get("exclude_dirs"))))

    ini = root / ".bandit"
    if ini.is_file():
        parser = configparser.ConfigParser()
        try:
            parser.read(ini, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError) as error:
            raise WorkspaceConfigError(f"{ini}: {error}") from None
        if parser.has_section("bandit"):
            sources.append(str(ini))
            options = dict(parser.items("bandit"))
            tests = _split_ids(options["tests"]) if "tests" in options else tests
            skips = _split_ids(options["skips"]) if "skips" in options else skips
            severity = options.get("level", options.get("severity", severity))
            confidence = options.get("confidence", confidence)
            if "exclude" in options:
                exclude = tuple(sorted(_split_ids(options["exclude"])))

    return BanditSettings(
        tests=tests,
        skips=skips,
        min_severity=_level(severity, "bandit severity level"),
        min_confidence=_level(confidence, "bandit confidence level"),
        exclude=exclude,
        config_file=config_file,
        sources=tuple(sources),
    )


def is_excluded(settings: BanditSettings, relative_path: str) -> bool:
    """Whether bandit, run on the workspace, would leave out ``relative_path`` (bandit's own matching)."""
    path = relative_path.replace("\\", "/")
    for entry in settings.exclude:
        entry = entry.removeprefix("./").rstrip("/")
        if entry and (fnmatch.fnmatch(path, entry) or entry in path):
            return True
    return False


def parse_nosec_comments(source: str, honoured_lines: set[int] | None = None) -> dict[int, set[str]]:
    """Bandit's ``nosec_lines`` for ``source``, keeping only comments on ``honoured_lines`` (1-based).

    We tokenize ourselves, rather than letting bandit do it, so that a ``# nosec`` the model wrote on an
    inserted line is simply not there for bandit to see.
    """
    found: dict[int, set[str]] = {}
    if "nosec" not in source:
        return found
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type != tokenize.COMMENT or "nosec" not in token.string:
                continue
            lineno = token.start[0]
            if honoured_lines is not None and lineno not in honoured_lines:
                continue
            tests = bandit_manager._parse_nosec_comment(token.string)
            if tests is not None:
                found[lineno] = tests
    except (tokenize.TokenError, SyntaxError):
        pass
    return found


class WarmBandit:
    """A bandit config and test set, built once and reused for every scan."""

    def __init__(self, settings: BanditSettings | None = None) -> None:
        self.settings = settings or BanditSettings()
        # Bandit logs a warning for every unparsable nosec comment and internal hiccup; in a language server
        # that is noise on every keystroke. Errors still get through; a level set explicitly is kept.
        bandit_logger = logging.getLogger("bandit")
        if bandit_logger.level == logging.NOTSET:
            bandit_logger.setLevel(logging.ERROR)
        try:
            config_path = str(self.settings.config_file) if self.settings.config_file else None
            self._config = bandit_config.BanditConfig(config_path)
        except bandit_utils.ConfigError as error:
            raise WorkspaceConfigError(str(error)) from None
        profile = {"include": set(self.settings.tests), "exclude": set(self.settings.skips)}
        unknown = {
            t for t in profile["include"] | profile["exclude"] if not extension_loader.MANAGER.check_id(t)
        }
        if unknown:
            LOG.warning("unknown bandit test ids in workspace config: %s", ", ".join(sorted(unknown)))
        self._test_set = test_set.BanditTestSet(self._config, profile)
        self._per_thread = threading.local()
        # Bandit's only whole-file test, B613 (trojan source), looks for bidirectional control characters;
        # on ASCII text it cannot find any, and it costs a millisecond, so skip it there. Any other File
        # plugin (a workspace's own) keeps the file tests always on.
        file_tests = {getattr(t, "_test_id", "") for t in self._test_set.get_tests("File")}
        self._file_tests_need_non_ascii = file_tests <= {"B613"}

    @property
    def test_ids(self) -> frozenset[str]:
        ids: set[str] = set()
        for checks in self._test_set.tests.values():
            for test in checks:
                ids.add(getattr(test, "_test_id", ""))
        return frozenset(ids)

    def scan_tree(self, tree: ast.Module, source: str, nosec_lines: dict[int, set[str]]) -> list[RawIssue]:
        """Run every bandit test over an already parsed ``tree`` of ``source``."""
        data = source.encode("utf-8", errors="surrogatepass")
        # The tester counts nosec skips into the current file's metrics, which begin() (re)creates. Building
        # a Metrics costs about a millisecond, so each thread keeps one.
        scan_metrics = getattr(self._per_thread, "metrics", None)
        if scan_metrics is None:
            scan_metrics = self._per_thread.metrics = metrics.Metrics()
        scan_metrics.begin(_SYNTHETIC_FILENAME)
        visitor = node_visitor.BanditNodeVisitor(
            _SYNTHETIC_FILENAME,
            io.BytesIO(data),
            meta_ast.BanditMetaAst(),
            self._test_set,
            False,
            nosec_lines,
            scan_metrics,
        )
        # BanditNodeVisitor.process() would parse again; drive the same steps on our tree.
        visitor.generic_visit(tree)
        visitor.context = {
            "file_data": visitor.fdata,
            "filename": visitor.fname,
            "lineno": 0,
            "linerange": [0, 1],
            "col_offset": 0,
        }
        if self._file_tests_need_non_ascii is False or not source.isascii():
            visitor.update_scores(visitor.tester.run_tests(visitor.context, "File"))
        issues: list[RawIssue] = []
        for result in visitor.tester.results:
            severity = Level.parse(result.severity)
            confidence = Level.parse(result.confidence)
            if severity.rank < self.settings.min_severity.rank:
                continue
            if confidence.rank < self.settings.min_confidence.rank:
                continue
            cwe = getattr(result, "cwe", None)
            cwe_id = getattr(cwe, "id", None) or None
            issues.append(
                RawIssue(
                    test_id=result.test_id,
                    severity=severity,
                    confidence=confidence,
                    cwe=cwe_id,
                    lineno=int(result.lineno or 0),
                    linerange=tuple(result.linerange or (result.lineno,)),
                    message=result.text,
                )
            )
        return issues

    def scan_source(self, source: str, nosec_lines: dict[int, set[str]] | None = None) -> list[RawIssue]:
        """Parse and scan ``source``; raises SyntaxError when it does not parse."""
        tree = ast.parse(source)
        if nosec_lines is None:
            nosec_lines = parse_nosec_comments(source)
        return self.scan_tree(tree, source, nosec_lines)
