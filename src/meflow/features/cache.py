"""The feature cache: deterministic, atomically written .npz files and their loading.

Files are plain zip archives of .npy arrays with fixed timestamps, so the same inputs give
byte-identical files; they are read with ``allow_pickle=False`` (no object is ever unpickled).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from meflow.errors import MeflowError

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def ensure_writable(folder: Path) -> Path:
    """Gives ``folder``, created if needed, after proving a file can be written in it.

    Raises MeflowError (one line naming the folder) when it cannot be created or written,
    e.g. a read-only or full disk, or a path below a regular file; commands call it before
    any costly work so that they fail at once rather than after hours.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=folder)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)
            Path(probe).unlink(missing_ok=True)
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise MeflowError(f"{folder}: cannot write there ({why})") from None
    return folder


def _umask() -> int:
    """The process's umask, read without changing it where the system says it (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore at once
    os.umask(mask)
    return mask


def temp_beside(path: Path) -> tuple[int, str]:
    """(fd, name) of a new temporary file next to ``path``, for an atomic rename onto it,
    with the permissions a plain ``open`` would give (``mkstemp`` makes it 0600: a result
    only its owner could read, even in a shared folder)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    plain_mode(tmp)
    return fd, tmp


def plain_mode(path: str | Path) -> None:
    """Gives ``path`` the permissions a plain ``open`` would have given it (0666 less the
    umask); file systems without modes keep theirs."""
    with contextlib.suppress(OSError):
        os.chmod(path, 0o666 & ~_umask())


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Writes ``data`` to ``path`` through a temporary file and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Writes UTF-8 ``text`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """The bytes of an .npz archive of ``arrays`` (sorted names, fixed timestamps)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            arr = np.asarray(arrays[name])
            if arr.dtype == object:
                raise TypeError(f"array {name!r} has dtype object; the cache stores plain arrays")
            member = io.BytesIO()
            np.lib.format.write_array(member, arr, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue())
    return buf.getvalue()


def save_npz(
    path: Path, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any] | None = None
) -> None:
    """Atomically writes arrays (and a JSON ``meta`` dict stored as text) to ``path``."""
    data = dict(arrays)
    if meta is not None:
        data["meta"] = np.frombuffer(
            json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8
        )
    atomic_write_bytes(path, npz_bytes(data))


def load_npz(
    path: Path, keys: Sequence[str] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Reads a cache file written by ``save_npz``: (arrays, meta); never unpickles. ``keys``:
    only these arrays (those the file has), and the meta."""
    try:
        with np.load(path, allow_pickle=False) as z:
            wanted = z.files if keys is None else [k for k in z.files if k in {*keys, "meta"}]
            arrays = {k: z[k] for k in wanted}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise MeflowError(f"{path}: not a readable meflow feature file ({exc})") from None
    raw = arrays.pop("meta", None)
    meta = json.loads(raw.tobytes().decode("utf-8")) if raw is not None else {}
    return arrays, meta
