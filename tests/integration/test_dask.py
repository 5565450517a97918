"""Dask mode grades exactly like local grading (results, gradebook, resume), on a LocalCluster."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

pytest.importorskip("dask.distributed")

from grader import api, batch
from grader.worker import WorkerConfig

WEEK3 = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks" / "week3"
NAMES = ["passes_all", "backprop_first_revision", "syntax_error_one_cell"]


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import LocalCluster

    c = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="module")
def rubric():
    return api.load_rubric(assignment="week3_nn_basic")


@pytest.fixture()
def subs(tmp_path: Path) -> Path:
    d = tmp_path / "submissions"
    d.mkdir()
    for n in NAMES:
        shutil.copy(WEEK3 / f"{n}.ipynb", d / f"{n}.ipynb")
    return d


def _results(out: Path) -> dict[str, dict]:
    found = {}
    for p in sorted((out / "submissions").rglob("result.json")):
        found[p.parent.name] = api.without_timings(json.loads(p.read_text(encoding="utf-8")))
    return found


def _scratch_mounts(owners: set[int]) -> set[str]:
    """The kernels' scratch tmpfs mounts whose owner file names one of ``owners`` (other grading
    processes on this machine may have their own)."""
    found = set()
    try:
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines() if "/grader-" in line]
    except OSError:
        return found
    for mount in mounts:
        try:
            owner = int((Path(mount) / ".grader-owner").read_text(encoding="ascii").split(".")[0])
        except (OSError, ValueError):
            continue
        if owner in owners:
            found.add(mount)
    return found


def _worker_pids(cluster) -> set[int]:
    import os

    from dask.distributed import Client

    with Client(cluster) as client:
        return set(client.run(os.getpid).values())


@pytest.mark.kernel
def test_dask_matches_local_and_resumes(cluster, rubric, subs: Path, tmp_path: Path) -> None:
    out_dask, out_local = tmp_path / "out_dask", tmp_path / "out_local"
    s = batch.grade([subs], out_dask, rubric=rubric, dask=cluster.scheduler_address)
    assert s.total == 3 and s.skipped == 0 and s.graded_now == 3, s
    # the workers stay up after the run: their spare kernels (and scratch tmpfs) do not
    assert not _scratch_mounts(_worker_pids(cluster))
    batch.grade([subs], out_local, rubric=rubric, jobs=1)

    dask_res, local_res = _results(out_dask), _results(out_local)
    assert sorted(dask_res) == sorted(NAMES)
    assert dask_res == local_res
    # the worker result really was graded, not a crashed stand-in
    assert dask_res["passes_all"]["status"] == "graded"
    assert dask_res["passes_all"]["score"] == dask_res["passes_all"]["max_score"] > 0
    assert dask_res["syntax_error_one_cell"]["status"] == "partial"
    for n in NAMES:
        assert (out_dask / "submissions" / n / "report.html").is_file()
        assert not (out_dask / "submissions" / n / "executed.ipynb").exists()  # not kept in Dask mode

    with sqlite3.connect(f"file:{out_dask / 'gradebook.sqlite'}?mode=ro", uri=True) as db:
        assert db.execute("SELECT count(*), count(DISTINCT submission) FROM results").fetchone() == (3, 3)

    again = batch.grade([subs], out_dask, rubric=rubric, dask=cluster.scheduler_address)
    assert again.total == 3 and again.skipped == 3 and again.graded_now == 0


@pytest.mark.kernel
def test_dask_invalid_notebook_matches_local(cluster, rubric, tmp_path: Path) -> None:
    """Messages naming the file read the same as locally, though the worker used a temp copy."""
    subs = tmp_path / "subs"
    (subs / "홍길동").mkdir(parents=True)
    (subs / "홍길동" / "과제 3.ipynb").write_text('{"cells": [', encoding="utf-8")
    batch.grade([subs], tmp_path / "out_dask", rubric=rubric, dask=cluster.scheduler_address)
    batch.grade([subs], tmp_path / "out_local", rubric=rubric, jobs=1)
    d, loc = _results(tmp_path / "out_dask"), _results(tmp_path / "out_local")
    assert d == loc and len(d) == 1
    assert d["과제 3"]["status"] == "invalid"


@pytest.mark.kernel
def test_dask_task_failure_becomes_crashed_result(cluster, rubric, tmp_path: Path, monkeypatch) -> None:
    """A task that raises on the worker still yields a result (status 'crashed')."""
    from grader import executors

    job = batch.Job(str(WEEK3 / "passes_all.ipynb"), "passes_all.ipynb", "passes_all", "x")
    config = WorkerConfig(str(rubric.path), rubric.public_only, out=str(tmp_path / "out"))

    def boom(*_a, **_k):
        raise RuntimeError("worker exploded")

    monkeypatch.setattr(executors, "grade_task", boom)  # pickled by value: the workers run boom
    results = list(executors.run_dask(cluster.scheduler_address, [job], config))
    assert len(results) == 1 and results[0].status == "crashed"
    assert "worker exploded" in results[0].reason
    assert (tmp_path / "out" / "submissions" / "passes_all" / "result.json").is_file()


@pytest.mark.kernel
def test_dask_workers_do_not_read_the_rubric_folder(cluster, rubric, tmp_path: Path, monkeypatch) -> None:
    """The rubric reaches workers only in the broadcast bundle: delete it once packed, still graded."""
    from grader import executors

    root = tmp_path / "course"
    shutil.copytree(rubric.path, root / "rubrics" / "week3_nn_basic")
    shutil.copytree(rubric.solution_path().parent, root / "solutions" / "week3_nn_basic")
    toml = root / "rubrics" / "week3_nn_basic" / "rubric.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n# copy for the dask test\n", encoding="utf-8")  # new digest
    rb = api.load_rubric(rubric=root / "rubrics" / "week3_nn_basic")
    real_pack = executors.pack_rubric

    def pack_then_delete(r):
        data = real_pack(r)
        shutil.rmtree(root)
        return data

    monkeypatch.setattr(executors, "pack_rubric", pack_then_delete)
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(WEEK3 / "passes_all.ipynb", subs / "passes_all.ipynb")
    s = batch.grade([subs], tmp_path / "out", rubric=rb, dask=cluster.scheduler_address)
    assert not root.exists()
    assert s.by_status == {"graded": 1}, s
    res = json.loads((tmp_path / "out" / "submissions" / "passes_all" / "result.json").read_text(encoding="utf-8"))
    assert res["score"] == res["max_score"] > 0


@pytest.mark.kernel
def test_dask_workers_that_cannot_grade_fail_before_recording(cluster, rubric, tmp_path: Path, monkeypatch) -> None:
    """A cluster that cannot grade at all (no grader there, a rubric that fails) stops the batch
    with one clear error instead of filling the gradebook with 'crashed' rows."""
    from grader import executors
    from grader.errors import GraderError

    def broken(*_a, **_k):
        raise ModuleNotFoundError("No module named 'grader'")

    monkeypatch.setattr(executors, "probe_task", broken)
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(WEEK3 / "passes_all.ipynb", subs / "passes_all.ipynb")
    with pytest.raises(GraderError, match="cannot grade"):
        batch.grade([subs], tmp_path / "out", rubric=rubric, dask=cluster.scheduler_address)
    with sqlite3.connect(tmp_path / "out" / "gradebook.sqlite") as db:
        assert db.execute("SELECT count(*) FROM results").fetchone() == (0,)


@pytest.mark.kernel
def test_dask_workers_running_other_code_are_refused(cluster, rubric, tmp_path: Path, monkeypatch) -> None:
    """Workers whose grader code differs from this machine's (an older install, an edited copy)
    are refused before anything is recorded, naming the difference and what to do."""
    from grader import executors
    from grader.errors import GraderError

    def other_code(*_a, **_k):
        return "0" * 64  # the fingerprint of some other grader code

    monkeypatch.setattr(executors, "probe_task", other_code)  # pickled by value: the workers run it
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(WEEK3 / "passes_all.ipynb", subs / "passes_all.ipynb")
    with pytest.raises(GraderError, match=r"other grader code.*loaded the rubric: 000000000000; here .*"
                                          r"Install this grader"):
        batch.grade([subs], tmp_path / "out", rubric=rubric, dask=cluster.scheduler_address)
    with sqlite3.connect(tmp_path / "out" / "gradebook.sqlite") as db:
        assert db.execute("SELECT count(*) FROM results").fetchone() == (0,)
    # every worker reports its own code's fingerprint, compared with this machine's
    monkeypatch.undo()
    monkeypatch.setattr(executors, "code_fingerprint", lambda: "1" * 64)  # as if this machine's code changed
    with pytest.raises(GraderError, match=r"other grader code.*\(code fingerprint tcp://[^;]+; here 111111111111"):
        batch.grade([subs], tmp_path / "out2", rubric=rubric, dask=cluster.scheduler_address)


@pytest.mark.kernel
def test_dask_worker_lost_once_is_graded_again(cluster, rubric, tmp_path: Path, monkeypatch) -> None:
    """A worker that dies once (OOM killer, a reboot) costs nothing: the task runs again elsewhere."""
    from grader import executors

    marker = tmp_path / "died-once"

    def die_once(*a, **k):
        import os

        from grader import executors as on_worker  # not monkeypatched in the worker process

        if not marker.exists():
            marker.write_text("x")
            os._exit(1)
        return on_worker.grade_task(*a, **k)

    job = batch.Job(str(WEEK3 / "passes_all.ipynb"), "passes_all.ipynb", "passes_all", "x")
    config = WorkerConfig(str(rubric.path), rubric.public_only, out=str(tmp_path / "out"))
    monkeypatch.setattr(executors, "grade_task", die_once)
    results = list(executors.run_dask(cluster.scheduler_address, [job], config))
    assert marker.exists()
    assert len(results) == 1 and results[0].status == "graded", results[0].reason
    assert results[0].score == results[0].max_score > 0


@pytest.mark.kernel
def test_dask_worker_lost_becomes_crashed_result(cluster, rubric, tmp_path: Path, monkeypatch) -> None:
    """A task that kills its worker process (every time) ends as 'crashed', not as a hang."""
    from grader import executors

    job = batch.Job(str(WEEK3 / "passes_all.ipynb"), "passes_all.ipynb", "passes_all", "x")
    config = WorkerConfig(str(rubric.path), rubric.public_only, out=str(tmp_path / "out"))

    def die(*_a, **_k):
        import os

        os._exit(1)

    monkeypatch.setattr(executors, "grade_task", die)
    results = list(executors.run_dask(cluster.scheduler_address, [job], config))
    assert len(results) == 1 and results[0].status == "crashed"
    assert "worker died" in results[0].reason, results[0].reason


@pytest.mark.kernel
def test_dask_unreachable_scheduler_is_a_clear_error(rubric, tmp_path: Path, monkeypatch) -> None:
    import socket

    from grader import executors
    from grader.errors import GraderError

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", 2)
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(WEEK3 / "passes_all.ipynb", subs / "passes_all.ipynb")
    with pytest.raises(GraderError, match="cannot reach the Dask scheduler"):
        batch.grade([subs], tmp_path / "out", rubric=rubric, dask=f"tcp://127.0.0.1:{port}")
