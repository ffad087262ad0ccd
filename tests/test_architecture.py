"""Import direction: the import-linter contracts in pyproject.toml ([tool.importlinter]).

`make test` runs `lint-imports` itself; this test runs the same contracts so that `pytest`
alone (the README's path without make) checks them too. On failure the captured output
names each broken contract and the import chain that breaks it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def _loggers() -> list[logging.Logger]:
    return [x for x in logging.Logger.manager.loggerDict.values() if isinstance(x, logging.Logger)]


def test_import_contracts_are_kept():
    # lint_imports configures its logging with dictConfig, which disables every logger that
    # already exists (kucun.node.sync, say) for the rest of this test process: undo that
    already_disabled = {id(x) for x in _loggers() if x.disabled}
    try:
        exit_code = lint_imports(
            config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True
        )
    finally:
        for logger in _loggers():
            if logger.disabled and id(logger) not in already_disabled:
                logger.disabled = False
    assert exit_code == 0, "import contracts broken: see the captured stdout above"
