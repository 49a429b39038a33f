"""Micro-batching: concurrent requests in one process share a scoring call.

Requests queue up in an :class:`asyncio.Queue`; one worker task takes the first and every request already queued
(while a batch is being scored, the next one fills up), then waits for more only while more are expected: until
the micro-batch holds ``max_batch_size`` texts, or as many requests as were in flight together during the previous
micro-batch (the recent concurrency: the clients answered last will send again), or ``max_wait_ms`` has passed
since the first arrived (the very first micro-batch, with no load seen yet, waits the full ``max_wait_ms``). A lone
client is thus not kept waiting for company that is not coming, while under load a micro-batch waits the short
moment its clients need to send again. The batch is scored by a single call of
``score_fn`` in a worker thread (the event loop keeps accepting requests meanwhile) and each request gets its own
slice of the results back. A request is never split; one larger than ``max_batch_size`` is scored alone.

If the shared call raises (one request's text cannot be scored), each request of that batch is scored on its own,
so only the request at fault gets the error.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, Generic, TypeVar

from ..utils.validation import check_number

__all__ = ["BatcherStats", "MicroBatcher"]

T = TypeVar("T")


@dataclass
class BatcherStats:
    """Counters since start (``GET /v1/stats``)."""

    requests: int = 0  # requests answered (results or error)
    texts: int = 0
    batches: int = 0  # calls of score_fn on a shared micro-batch
    max_batch_requests: int = 0  # the most requests one micro-batch held
    max_batch_texts: int = 0
    queued: int = 0  # requests waiting for a micro-batch now
    in_flight: int = 0  # requests submitted and not answered yet
    wait_timeouts: int = 0  # micro-batches scored when max_wait_ms passed before the expected requests came
    score_seconds: float = 0.0  # time spent inside score_fn

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


@dataclass
class _Pending:
    texts: list[str]
    future: asyncio.Future


class MicroBatcher(Generic[T]):
    """Collect concurrent ``submit`` calls into micro-batches scored by one ``score_fn`` call each.

    Args:
        score_fn: texts -> one result per text, in order; runs in a worker thread, one call at a time.
        max_batch_size: texts per micro-batch.
        max_wait_ms: how long the first request of a micro-batch waits for company.
    """

    def __init__(self, score_fn: Callable[[list[str]], Sequence[T]], max_batch_size: int = 64,
                 max_wait_ms: float = 5.0):
        self.score_fn = score_fn
        self.max_batch_size = check_number(max_batch_size, "max_batch_size", integer=True, ge=1)
        self.max_wait_s = check_number(max_wait_ms, "max_wait_ms", ge=0, le=10_000) / 1000.0
        self.stats = BatcherStats()
        self._queue: asyncio.Queue[_Pending | None] | None = None
        self._worker: asyncio.Task | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._held: _Pending | None = None  # did not fit the previous batch: first of the next one
        self._closing = False
        self._draining = False
        self._peak = float("inf")  # the most requests in flight together since the current micro-batch was formed

    @property
    def running(self) -> bool:
        """Whether ``submit`` is accepted."""
        return self._worker is not None and not self._closing

    async def start(self) -> None:
        """Start the worker task (call from the event loop that will submit)."""
        self._queue = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="textrisk-score")
        self._closing = self._draining = False
        self._peak = float("inf")  # no load seen yet: the first micro-batch waits the full max_wait_ms
        self._worker = asyncio.create_task(self._run(), name="textrisk-batcher")

    async def stop(self) -> None:
        """Refuse new requests, score everything already queued, then stop the worker."""
        if self._worker is None:
            return
        self._closing = True
        await self._queue.put(None)
        await self._worker
        self._executor.shutdown(wait=True)
        self._worker = None

    async def submit(self, texts: list[str]) -> list[T]:
        """Score ``texts`` in the next micro-batch; results in input order. Raises what ``score_fn`` raised."""
        if not self.running:
            raise RuntimeError("the batcher is not running (starting or shutting down)")
        future = asyncio.get_running_loop().create_future()
        self.stats.in_flight += 1
        self.stats.queued += 1
        self._peak = max(self._peak, self.stats.in_flight)
        try:
            await self._queue.put(_Pending(list(texts), future))
            return await future
        finally:
            self.stats.in_flight -= 1

    async def _next(self, timeout: float | None) -> _Pending | None:
        """The next request: waits up to ``timeout`` s (None: until one comes); ``None`` when none came.

        Once the stop sentinel was seen nothing waits any more: queued requests are taken, then ``None``.
        """
        if self._held is not None:
            item, self._held = self._held, None
            return item
        while True:
            if self._draining:
                timeout = 0
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                if timeout is not None and timeout <= 0:
                    return None
                try:
                    item = await asyncio.wait_for(self._queue.get(), timeout)
                except asyncio.TimeoutError:
                    return None
            if item is not None:
                return item
            self._draining = True  # the stop sentinel

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while (first := await self._next(None)) is not None:
            batch, size = [first], len(first.texts)
            expected, self._peak = self._peak, self.stats.in_flight
            deadline = loop.time() + self.max_wait_s
            while size < self.max_batch_size:
                waiting = len(batch) < expected
                if (item := await self._next(deadline - loop.time() if waiting else 0)) is None:
                    self.stats.wait_timeouts += int(waiting and not self._draining)
                    break
                if size + len(item.texts) > self.max_batch_size:
                    self._held = item
                    break
                batch.append(item)
                size += len(item.texts)
            self.stats.queued -= len(batch)
            await self._score(loop, batch)

    async def _score(self, loop: asyncio.AbstractEventLoop, batch: list[_Pending]) -> None:
        texts = [text for item in batch for text in item.texts]
        self.stats.batches += 1
        self.stats.max_batch_requests = max(self.stats.max_batch_requests, len(batch))
        self.stats.max_batch_texts = max(self.stats.max_batch_texts, len(texts))
        try:
            results = await self._call(loop, texts)
        except Exception as exc:
            if len(batch) == 1:
                self._answer(batch[0], error=exc)
                return
            for item in batch:  # find the request at fault: each on its own
                try:
                    self._answer(item, results=await self._call(loop, item.texts))
                except Exception as item_exc:
                    self._answer(item, error=item_exc)
            return
        offset = 0
        for item in batch:
            self._answer(item, results=results[offset:offset + len(item.texts)])
            offset += len(item.texts)

    async def _call(self, loop: asyncio.AbstractEventLoop, texts: list[str]) -> Sequence[T]:
        start = time.perf_counter()
        try:
            results = await loop.run_in_executor(self._executor, self.score_fn, texts)
        finally:
            self.stats.score_seconds += time.perf_counter() - start
        if len(results) != len(texts):
            raise RuntimeError(f"score_fn returned {len(results)} results for {len(texts)} texts")
        return results

    def _answer(self, item: _Pending, results: Sequence[T] | None = None, error: BaseException | None = None) -> None:
        self.stats.requests += 1
        self.stats.texts += len(item.texts)
        if item.future.done():  # the client went away
            return
        if error is not None:
            item.future.set_exception(error)
        else:
            item.future.set_result(list(results))
