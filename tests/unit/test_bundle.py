"""The rubric bundle Dask workers get: deterministic bytes, and a copy that loads and finds its solution."""

from __future__ import annotations

import hashlib

from grader import api, rubric as rubric_mod
from grader.bundle import pack_rubric, unpack_rubric


def test_the_bundle_is_deterministic_and_unpacks_to_a_rubric_with_its_solution() -> None:
    rb = api.load_rubric(assignment="week3_nn_basic")
    data = pack_rubric(rb)
    assert data == pack_rubric(rb), "the same rubric gives the same bytes (its digest names it)"
    digest = hashlib.sha256(data).hexdigest()
    root = unpack_rubric(data, digest)
    assert root.name.startswith("grader-rubric-") and digest[:16] in root.name
    copy = rubric_mod.load(root / "rubric" / rb.path.name)
    assert copy.digest == rb.digest and copy.assignment == rb.assignment
    assert copy.solution_path().read_bytes() == rb.solution_path().read_bytes()
    assert not list(root.rglob("__pycache__"))
