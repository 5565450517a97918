"""The package's public surface: everything in __all__ exists, and nothing public is missing."""

from types import ModuleType

import grader


def test_all_names_exist():
    for name in grader.__all__:
        assert hasattr(grader, name), name


def test_all_is_complete_and_sorted():
    # submodules (grader.api, grader.result, ...) become attributes as they are imported: not names
    public = {n for n, v in vars(grader).items() if not n.startswith("_") and not isinstance(v, ModuleType)}
    assert public <= set(grader.__all__), public - set(grader.__all__)
    assert list(grader.__all__) == sorted(grader.__all__)


def test_results_are_typed_and_the_library_call_gives_their_dict() -> None:
    import inspect

    assert inspect.signature(grader.grade_file).return_annotation in (grader.Result, "Result")
    assert inspect.signature(grader.grade_notebook).return_annotation in (dict, "dict[str, Any]")
