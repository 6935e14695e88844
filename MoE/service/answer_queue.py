"""One question at a time, the rest waiting in a bounded line.

The model answers one question at a time (a local model has one set of weights and one cache; the
orchestrator keeps the question's state while it works). A request first takes a ticket - refused at
once with QueueFull when `max_waiting` others already wait - and then waits for its turn.
"""

from __future__ import annotations

import threading


class QueueFull(Exception):
    """Every place in the line is taken."""


class AnswerQueue:
    def __init__(self, max_waiting: int):
        if max_waiting < 0:
            raise ValueError("max_waiting must be 0 or more")
        self.max_waiting = max_waiting
        self._turn = threading.Lock()
        self._count = threading.Lock()
        self._holders = 0   # the one answering plus those waiting

    @property
    def pending(self) -> int:
        return self._holders

    def ticket(self) -> "Ticket":
        """A place in the line; raises QueueFull when there is none. Use it as `with ticket: ...`."""
        with self._count:
            if self._holders > self.max_waiting:
                raise QueueFull(f"{self._holders} questions are being answered or waiting; the line holds "
                                f"{self.max_waiting} (--max-waiting). Try again in a moment.")
            self._holders += 1
            position = self._holders - 1
        return Ticket(self, position)

    def _leave(self) -> None:
        with self._count:
            self._holders -= 1


class Ticket:
    """Waits for the turn on entry and gives it up on exit; a ticket never used gives its place back."""

    def __init__(self, queue: AnswerQueue, position: int):
        self.queue, self.position = queue, position
        self._done = False

    def __enter__(self) -> "Ticket":
        self.queue._turn.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.queue._turn.release()
        self.release()

    def release(self) -> None:
        if not self._done:
            self._done = True
            self.queue._leave()

    def __del__(self) -> None:
        self.release()
