"""The package's public surface: everything in __all__ exists, and nothing public is missing."""

import grader


def test_all_names_exist():
    for name in grader.__all__:
        assert hasattr(grader, name), name


def test_all_is_complete_and_sorted():
    public = {n for n in vars(grader) if not n.startswith("_") and n not in {"api", "batch", "config", "errors", "rubric",
              "scoring", "runner", "namespaces", "notebook", "testing", "checks", "sandbox", "report", "gradebook", "cli",
              "authoring", "executors", "cleanup"}}
    assert public <= set(grader.__all__), public - set(grader.__all__)
    assert list(grader.__all__) == sorted(grader.__all__)
