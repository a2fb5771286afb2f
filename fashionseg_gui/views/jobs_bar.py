"""The status-bar progress area: every job of the :class:`JobService`, each with a cancel.

The bar shows the newest job (its progress and text) with a Cancel button; when more jobs
run or wait, a "N jobs" button opens a list with one row per job, each with its own
progress and Cancel button.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from fashionseg_gui.views.elided_label import ElidedProgressBar
from fashionseg_gui.workers.jobs import Job, JobService


def _fill(bar: QProgressBar, job: Job, short: bool = False) -> None:
    """Show ``job`` in ``bar``; ``short``: only the label and count (the full text is the
    tooltip), for the narrow status-bar bar."""
    if job.state == "running" and job.total > 0:
        bar.setRange(0, job.total)
        bar.setValue(min(job.done, job.total))
    elif job.state == "queued":
        bar.setRange(0, 1)  # an empty bar that shows its text: waiting
        bar.setValue(0)
    else:
        bar.setRange(0, 0)  # busy: no count yet, or stopping
    text = job.describe()
    if short and job.state == "running":
        text = f"{job.label} {job.done}/{job.total}" if job.total > 0 else f"{job.label}…"
    bar.setFormat(text)
    bar.setToolTip(job.describe())


class _JobRow(QWidget):
    def __init__(self, service: JobService, job: Job, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job = job
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        self.bar = ElidedProgressBar(self)
        self.bar.setMinimumWidth(320)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip(f"Stop {job.label.lower()}")
        self.cancel_button.clicked.connect(lambda: service.cancel(job))
        lay.addWidget(self.bar, 1)
        lay.addWidget(self.cancel_button)
        self.update_job()

    def update_job(self) -> None:
        _fill(self.bar, self.job)
        self.cancel_button.setEnabled(self.job.state in ("queued", "running"))


class JobsBar(QWidget):
    """Progress of every job of ``service`` for a status bar.

    Attributes
    ----------
    progress : QProgressBar
        The newest job's progress (text ``"Import: photo.jpg (3/10)"``).
    cancel_button : QPushButton
        Cancels the newest job.
    more_button : QToolButton
        ``"+N"``: opens :attr:`popup`, a list of every job with its own Cancel.
    """

    def __init__(self, service: JobService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.progress = ElidedProgressBar(self)
        self.progress.setMinimumWidth(200)
        self.progress.setMaximumWidth(260)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the running job after the current step")
        self.cancel_button.clicked.connect(self.cancel_current)
        self.more_button = QToolButton(self)
        self.more_button.setToolTip("Show every running or waiting job")
        self.more_button.clicked.connect(self.show_all)
        for w in (self.progress, self.cancel_button, self.more_button):
            lay.addWidget(w)
        self.popup = QFrame(self, Qt.WindowType.Popup)
        self.popup.setFrameShape(QFrame.Shape.StyledPanel)
        self._rows_layout = QVBoxLayout(self.popup)
        self._rows_layout.setContentsMargins(4, 4, 4, 4)
        self._rows: dict[int, _JobRow] = {}
        self._title = QLabel("Jobs", self.popup)
        self._rows_layout.addWidget(self._title)
        service.jobAdded.connect(self._on_added)
        service.jobChanged.connect(self._on_changed)
        service.jobRemoved.connect(self._on_removed)
        for job in service.jobs():
            self._on_added(job)
        self._update()

    # --- public ---------------------------------------------------------------------------
    def shown_jobs(self) -> list[Job]:
        """The jobs listed: all but those too young to show (a quick assisted outline)."""
        return [j for j in self.service.jobs() if j.ms_until_shown() == 0]

    def current_job(self) -> Job | None:
        """The job shown in the bar: the newest one running, else the newest waiting."""
        jobs = self.shown_jobs()
        running = [j for j in jobs if j.active]
        return (running or jobs or [None])[-1]

    def cancel_current(self) -> None:
        job = self.current_job()
        if job is not None:
            self.service.cancel(job)

    def show_all(self) -> None:
        self.popup.adjustSize()
        pos = self.mapToGlobal(self.rect().topRight())
        self.popup.move(pos.x() - self.popup.width(), pos.y() - self.popup.height())
        self.popup.show()

    def rows(self) -> list[_JobRow]:
        shown = {id(j) for j in self.shown_jobs()}
        return [r for k, r in self._rows.items() if k in shown]

    # --- service signals --------------------------------------------------------------------
    def _on_added(self, job: Job) -> None:
        row = _JobRow(self.service, job, self.popup)
        self._rows[id(job)] = row
        self._rows_layout.addWidget(row)
        self._update()

    def _on_changed(self, job: Job) -> None:
        row = self._rows.get(id(job))
        if row is not None:
            row.update_job()
        self._update()

    def _on_removed(self, job: Job) -> None:
        row = self._rows.pop(id(job), None)
        if row is not None:
            self._rows_layout.removeWidget(row)
            row.deleteLater()
        if not self._rows:
            self.popup.hide()
        self._update()

    def _update(self) -> None:
        waits = [j.ms_until_shown() for j in self.service.jobs()]
        if any(waits):  # look again when the first of them is old enough to show
            QTimer.singleShot(min(w for w in waits if w) + 1, self._update)
        shown = {id(j) for j in self.shown_jobs()}
        for key, row in self._rows.items():
            row.setVisible(key in shown)
        job = self.current_job()
        n = len(shown)
        self.setVisible(job is not None)
        if job is None:
            return
        _fill(self.progress, job, short=True)
        self.cancel_button.setEnabled(job.state in ("queued", "running"))
        self.more_button.setText(f"+{n - 1}" if n > 1 else "…")
        self.more_button.setVisible(n > 1)
        self._title.setText(f"{n} job(s)")
        if self.popup.isVisible():
            self.popup.adjustSize()


def _demo_job(steps: int, *, cancel_token: object, on_progress: object) -> int:
    """A job that counts to ``steps`` slowly (for the standalone demo)."""
    import time

    for i in range(steps):
        if cancel_token.cancelled:  # type: ignore[attr-defined]
            break
        on_progress(i + 1, steps, f"step {i + 1}")  # type: ignore[operator]
        time.sleep(0.05)
    return steps


if __name__ == "__main__":  # standalone demo: python -m fashionseg_gui.views.jobs_bar
    import sys

    from PySide6.QtWidgets import QApplication

    from fashionseg_gui.views.style import apply_style, exec_demo
    from fashionseg_gui.workers.base import JobWorker

    app = QApplication.instance() or QApplication(sys.argv)
    apply_style(app)
    service = JobService()
    bar = JobsBar(service)
    bar.resize(480, 32)
    bar.show()
    for _ in range(2):  # the second import queues behind the first
        service.submit(JobWorker(_demo_job, 400, name="import"), "import", scope="demo")
    code = exec_demo(app)
    service.stop()
    raise SystemExit(code)
