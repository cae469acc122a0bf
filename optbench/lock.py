"""One writer per study folder: an OS file lock (`fcntl.flock`) that a dead holder never keeps."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from optbench.errors import OptbenchError

try:
    import fcntl
except ImportError:  # not POSIX: no locking, one writer is the user's promise
    fcntl = None

LOCK_NAME = ".optbench.lock"


class FolderLock:
    """Held while a process writes a study folder; a second writer is refused with the holder's
    pid. The lock file is removed on release; the OS drops the lock if the holder dies."""

    def __init__(self, folder: str | os.PathLike[str]):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> FolderLock:
        """Create the folder and take the lock, or raise an OptbenchError saying why not."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            while True:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                if not self._try_lock(fd):
                    holder = _holder(fd)
                    os.close(fd)
                    raise OptbenchError(
                        f"results folder {str(self.folder)!r} is being written by another "
                        f"optbench process ({holder}); wait for it to finish or choose another "
                        "--out"
                    )
                if _same_file(fd, self.path):
                    break
                os.close(fd)  # the holder removed the file while we waited: lock the new one
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError as exc:
            raise OptbenchError(
                f"cannot write results to {str(self.folder)!r}: {exc.strerror or exc}"
            ) from None
        self._fd = fd
        return self

    def release(self) -> None:
        """Remove the lock file and drop the lock."""
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)
            self._fd = None

    def _try_lock(self, fd: int) -> bool:
        if fcntl is None:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _holder(fd: int) -> str:
    """`pid N` from the lock file, as far as the holder has written it."""
    text = os.pread(fd, 64, 0).decode(errors="replace").strip()
    return f"pid {text}" if text.isdigit() else "pid unknown"


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False
