"""The project lock: one writer per project folder.

On POSIX the lock is an ``fcntl.flock`` held on an open descriptor of ``.fashionseg.lock``
for the whole session: the kernel releases it when the process ends however it ends, so
a crash, a reused pid, an empty or garbage lock file never blocks the project. The file's
JSON content (pid, host, time) only words the message "opened elsewhere by ...". A holder
on another machine (a shared folder, where flock may not reach) is respected while its
record is plausible and younger than :data:`REMOTE_STALE_S`.

Where ``fcntl`` is missing (Windows) the lock falls back to an exclusive create plus a
liveness check of the recorded pid.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

REMOTE_STALE_S = 86400.0
MAX_PID = 2**22  # Linux's pid_max limit; anything above is not a real pid


@dataclass(frozen=True)
class LockHolder:
    """Who holds a project lock, as far as its record tells (fields may be unknown)."""

    pid: int | None
    host: str
    since: float | None

    def describe(self) -> str:
        who = f"process {self.pid}" if self.pid else "another instance"
        where = f" on {self.host}" if self.host else ""
        when = (
            f" since {time.strftime('%Y-%m-%d %H:%M', time.localtime(self.since))}"
            if self.since
            else ""
        )
        return f"{who}{where}{when}"


def _plausible(record: dict[str, Any]) -> LockHolder | None:
    pid, host, since = record.get("pid"), record.get("host"), record.get("time")
    if not isinstance(pid, int) or isinstance(pid, bool) or not 1 < pid < MAX_PID:
        return None
    if not isinstance(host, str) or not host:
        return None
    if not isinstance(since, (int, float)) or isinstance(since, bool) or not math.isfinite(since):
        return None
    if since > time.time() + 3600:
        return None
    return LockHolder(pid, host[:255], float(since))


def read_holder(path: Path) -> LockHolder | None:
    """The plausible holder recorded in a lock file, or None (missing/empty/garbage)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(4096)
        record = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return _plausible(record) if isinstance(record, dict) else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


class ProjectLock:
    """The lock file of one project folder, held by this process once :meth:`acquire`\\ d."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        self.owned = False
        self._no_flock = False

    def _record(self) -> bytes:
        return json.dumps(
            {"pid": os.getpid(), "host": socket.gethostname(), "time": time.time()}
        ).encode("utf-8")

    def holder(self) -> LockHolder | None:
        """Who the lock file names (None when it names no plausible holder)."""
        return read_holder(self.path)

    def acquire(self) -> bool:
        """Take the lock if no live instance holds it; True when this process holds it."""
        if self.owned:
            return True
        if fcntl is None or self._no_flock:  # pragma: no cover - Windows, some network shares
            return self._acquire_exclusive()
        for _attempt in range(20):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # held by a live instance
                os.close(fd)
                return False
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                    self._no_flock = True  # the file system has no flock: exclusive create
                    return self._acquire_exclusive(takeover_unreadable=True)
                raise
            # The file may have been unlinked (released) or replaced (taken over) between our
            # open and our flock: then we hold a lock on a file nobody else will look at.
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            holder = self.holder()
            if (
                holder is not None
                and holder.host != socket.gethostname()
                and time.time() - (holder.since or 0) < REMOTE_STALE_S
            ):
                os.close(fd)  # another machine's live record; flock may not span machines
                return False
            self._fd = fd
            self._write_record()
            self.owned = True
            return True
        return False

    def _write_record(self) -> None:
        assert self._fd is not None
        data = self._record()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)
        with contextlib.suppress(OSError):
            os.fsync(self._fd)

    def take_over(self) -> bool:
        """Break the lock (the user's choice in the read-only banner) and hold it.

        A new lock file is written and locked under a unique name, then renamed over the
        old one in one step; the previous holder, if it still runs, no longer owns the
        file it locked and will not remove ours when it closes.
        """
        if self.owned:
            return True
        if fcntl is None:  # pragma: no cover - Windows
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            return self._acquire_exclusive()
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, self._record())
            os.replace(tmp, self.path)
        except OSError:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            return False
        self._fd = fd
        self.owned = True
        return True

    def _acquire_exclusive(self, takeover_unreadable: bool = False) -> bool:
        """Exclusive create; a dead holder on this host or an old unreadable file is stale.

        ``takeover_unreadable``: the file was just created empty by the flock attempt.
        """
        if takeover_unreadable and self.holder() is None:
            with contextlib.suppress(OSError):
                if self.path.stat().st_size == 0:
                    os.unlink(self.path)
        for _attempt in range(2):
            try:
                self._create_with_content()
            except FileExistsError:
                holder = self.holder()
                stale = (
                    holder is None
                    and self._old_enough()
                    or holder is not None
                    and (holder.host == socket.gethostname() and not _pid_alive(holder.pid or 0))
                )
                if stale:
                    with contextlib.suppress(OSError):
                        os.unlink(self.path)
                    continue
                return False
            self.owned = True
            return True
        return False

    def _create_with_content(self) -> None:
        """Create the lock file with its record in one step (FileExistsError if present).

        The record is written to a unique temp file first and hard-linked into place, so
        no reader ever sees an empty lock; where links are not supported, an exclusive
        create plus one write.
        """
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
        with open(tmp, "xb") as fh:
            fh.write(self._record())
        try:
            os.link(tmp, self.path)
        except FileExistsError:
            raise
        except OSError:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            try:
                os.write(fd, self._record())
            finally:
                os.close(fd)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def _old_enough(self, grace_s: float = 10.0) -> bool:
        try:
            return time.time() - self.path.stat().st_mtime > grace_s
        except OSError:
            return True

    def release(self) -> None:
        """Remove the lock file (if it is still ours) and release the lock."""
        if not self.owned:
            return
        self.owned = False
        fd, self._fd = self._fd, None
        if fd is None:  # pragma: no cover - Windows
            holder = self.holder()
            if holder is None or holder.pid == os.getpid():
                with contextlib.suppress(OSError):
                    os.unlink(self.path)
            return
        try:
            if os.fstat(fd).st_ino == os.stat(self.path).st_ino:
                os.unlink(self.path)  # unlinked while still locked: no one can slip in
        except OSError:
            pass
        finally:
            os.close(fd)
