"""Import direction: the import-linter contracts in pyproject.toml ([tool.importlinter]).

`make test` runs `lint-imports` itself; this test runs the same contracts so that `pytest`
alone (the README's path without make) checks them too. On failure the captured output
names each broken contract and the import chain that breaks it.
"""

from __future__ import annotations

from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    exit_code = lint_imports(
        config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True
    )
    assert exit_code == 0, "import contracts broken: see the captured stdout above"
