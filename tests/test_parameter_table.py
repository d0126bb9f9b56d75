"""Each public parameter is written once, in its docstring: the README's table is a rendering of them."""

from __future__ import annotations

import inspect
from collections.abc import Callable

from constructs_personalize import DatasetImport, TrainingDataset
from scripts.parameter_table import README, documented, in_readme, render

REFRESH = "refresh with: .venv/bin/python scripts/parameter_table.py --write"


def test_the_readme_parameter_table_is_the_docstrings() -> None:
    assert in_readme(README.read_text()) == render(), REFRESH


def _keyword(function: Callable[..., object]) -> dict[str, inspect.Parameter]:
    parameters = inspect.signature(function).parameters
    return {name: p for name, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}


def test_every_parameter_is_documented_once_with_its_default() -> None:
    shared = documented(DatasetImport.__init__)
    for function in (DatasetImport.__init__, TrainingDataset.__init__, DatasetImport.configure):
        own, keyword = documented(function), _keyword(function)
        # TrainingDataset documents only its own parameters: the import's are DatasetImport's entries.
        inherited = set(shared) - {"dataset_arn", "schema"} if function is TrainingDataset.__init__ else set()
        assert set(own) | inherited == set(keyword), function
        assert not set(own) & inherited, f"{function}: documented twice: {set(own) & inherited}"
        for name, (_, default) in own.items():
            optional = keyword[name].default is not inspect.Parameter.empty
            assert (default != "required") == optional, (function, name, default)
