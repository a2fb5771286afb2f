"""Cooperative cancellation for long core jobs (training, prediction, import).

The caller owns a :class:`CancelSource` and may call :meth:`CancelSource.cancel` from any
thread; the job receives the read-only :class:`CancelToken` and polls it at safe points.
"""

from __future__ import annotations

import threading


class Cancelled(Exception):
    """Raised by :meth:`CancelToken.raise_if_cancelled` once cancellation was requested."""


class CancelToken:
    """Read-only view of a cancellation flag, safe to poll from any thread.

    Parameters
    ----------
    event : threading.Event
        The flag shared with the owning :class:`CancelSource`.
    """

    __slots__ = ("_event",)

    def __init__(self, event: threading.Event) -> None:
        self._event = event

    @property
    def cancelled(self) -> bool:
        """Whether cancellation was requested."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`Cancelled` if cancellation was requested."""
        if self._event.is_set():
            raise Cancelled("cancelled by the user")

    def wait(self, timeout: float | None = None) -> bool:
        """Block up to ``timeout`` seconds for cancellation; return whether it happened."""
        return self._event.wait(timeout)


class CancelSource:
    """Owner side of a cancellation flag: hands out :attr:`token` and calls :meth:`cancel`."""

    __slots__ = ("_event", "_token")

    def __init__(self) -> None:
        self._event = threading.Event()
        self._token = CancelToken(self._event)

    @property
    def token(self) -> CancelToken:
        """The read-only token to pass into a job."""
        return self._token

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._event.is_set()

    def cancel(self) -> None:
        """Request cancellation (idempotent, thread-safe)."""
        self._event.set()
