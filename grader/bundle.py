"""The rubric as it travels to Dask workers: one deterministic in-memory tar.gz.

It holds ``rubric/<rubric folder name>/...`` and ``solutions/<assignment>/...``, so that
``rubric.solution_path()`` resolves inside the unpacked copy; the same rubric gives the same
bytes (sorted members, fixed mtimes and owners), so its sha256 names it.
"""

from __future__ import annotations

import gzip
import io
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from grader.cleanup import FOLDER, at_exit, temp_prefix
from grader.rubric import Rubric


def pack_rubric(rubric: Rubric) -> bytes:
    """The rubric folder and its ``solutions/<assignment>/`` folder as an in-memory tar.gz.

    Layout: ``rubric/<rubric folder name>/...`` and ``solutions/<assignment>/...``, so that
    ``rubric.solution_path()`` (``path/../../solutions/<assignment>/<solution>``) resolves
    inside the unpacked copy. Deterministic: sorted members, fixed mtimes and owners.
    """
    buf = io.BytesIO()

    def add_tree(tar: tarfile.TarFile, src: Path, arc: str) -> None:
        for f in sorted(src.rglob("*")):
            rel = f.relative_to(src)
            if "__pycache__" in rel.parts or any(p.startswith(".") for p in rel.parts):
                continue
            info = tarfile.TarInfo(f"{arc}/{rel.as_posix()}")  # mtime 0, owner root: reproducible
            if f.is_file():  # symlinks are followed: the worker gets the content
                data = f.read_bytes()
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
            elif f.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)

    # mtime=0 in the gzip header too, so the same rubric gives the same digest
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        add_tree(tar, Path(rubric.path), f"rubric/{Path(rubric.path).name}")
        sol = rubric.solution_path().parent
        if sol.is_dir():
            add_tree(tar, sol, f"solutions/{rubric.assignment}")
    return buf.getvalue()


def unpack_rubric(bundle: bytes, digest: str) -> Path:
    """Unpack a bundle into a new temp folder of this process (removed when it ends)."""
    root = Path(tempfile.mkdtemp(prefix=f"{temp_prefix('rubric')}{digest[:16]}-"))
    at_exit(shutil.rmtree, root, True, order=FOLDER)
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:gz") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(root, filter="data")
        else:  # pragma: no cover - Python without extraction filters
            for m in tar.getmembers():
                if m.name.startswith("/") or ".." in PurePosixPath(m.name).parts or not (m.isfile() or m.isdir()):
                    raise ValueError(f"unsafe member {m.name!r} in the rubric bundle")
            tar.extractall(root)  # noqa: S202 - members checked above
    return root
