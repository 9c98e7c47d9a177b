"""Background tasks that belong to one owner (the call engine, dispatch's hub): kept so they
are not garbage-collected mid-run, logged when they fail, and cancelled together at the end."""

from __future__ import annotations

import asyncio
import logging


class Tasks(set):
    """A set of running tasks; ``spawn`` starts one on the running loop and keeps it here."""

    def __init__(self, log: logging.Logger, what: str) -> None:
        super().__init__()
        self._log = log
        self._what = what

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log.error("%s task failed", self._what, exc_info=task.exception())

    async def cancel_all(self) -> None:
        for task in list(self):
            task.cancel()
        if self:
            await asyncio.gather(*list(self), return_exceptions=True)
