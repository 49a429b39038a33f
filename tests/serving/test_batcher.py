"""MicroBatcher: concurrent submissions share score_fn calls, results come back split and in order."""

from __future__ import annotations

import asyncio
import time

import pytest

from textrisk.errors import InputError
from textrisk.serving import MicroBatcher


class Recorder:
    def __init__(self):
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> list[str]:
        self.calls.append(list(texts))
        if "bad" in texts:
            raise InputError(f"texts[{texts.index('bad')}] is bad")
        return [text.upper() for text in texts]


def _run(requests: list[list[str]], max_batch_size: int, max_wait_ms: float, stop_early: bool = False):
    score = Recorder()

    async def main():
        batcher = MicroBatcher(score, max_batch_size=max_batch_size, max_wait_ms=max_wait_ms)
        await batcher.start()
        tasks = [asyncio.create_task(batcher.submit(texts)) for texts in requests]
        if stop_early:
            await asyncio.sleep(0)  # the submissions are queued; stop must still answer them
            await batcher.stop()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        if not stop_early:
            await batcher.stop()
        return results, batcher

    results, batcher = asyncio.run(main())
    return results, score.calls, batcher


def test_concurrent_requests_are_scored_in_one_call_and_split_back():
    results, calls, batcher = _run([["a"], ["b", "c"], ["d"], ["e"]], max_batch_size=5, max_wait_ms=10_000)
    assert calls == [["a", "b", "c", "d", "e"]]  # full at 5 texts: no waiting for the 10 s
    assert results == [["A"], ["B", "C"], ["D"], ["E"]]
    stats = batcher.stats
    assert (stats.batches, stats.requests, stats.texts, stats.max_batch_requests) == (1, 4, 5, 4)
    assert stats.in_flight == 0 and stats.queued == 0


def test_a_request_is_never_split_and_waits_for_the_next_batch():
    results, calls, _ = _run([["a", "b"], ["c", "d"], ["e", "f", "g"], list("hijklmn")], max_batch_size=5,
                             max_wait_ms=20)
    assert calls == [["a", "b", "c", "d"], ["e", "f", "g"], list("hijklmn")]  # the 7-text request alone
    assert results == [["A", "B"], ["C", "D"], ["E", "F", "G"], list("HIJKLMN")]


def test_only_the_request_at_fault_gets_the_error():
    results, calls, _ = _run([["a"], ["ok", "bad"], ["b"]], max_batch_size=64, max_wait_ms=50)
    assert calls[0] == ["a", "ok", "bad", "b"] and len(calls) == 4  # shared call failed; each rescored alone
    assert results[0] == ["A"] and results[2] == ["B"]
    assert isinstance(results[1], InputError) and "texts[1]" in str(results[1])  # the request's own index


def test_stop_answers_what_was_queued_then_refuses():
    results, calls, batcher = _run([["a"], ["b"], ["c"]], max_batch_size=64, max_wait_ms=10_000, stop_early=True)
    assert results == [["A"], ["B"], ["C"]] and calls == [["a", "b", "c"]]  # no 10 s wait once stopping
    assert not batcher.running
    with pytest.raises(RuntimeError, match="not running"):
        asyncio.run(batcher.submit(["x"]))


def test_a_lone_client_is_not_kept_waiting_for_company():
    score = Recorder()

    async def main():
        batcher = MicroBatcher(score, max_batch_size=64, max_wait_ms=200)
        await batcher.start()
        results = [await batcher.submit([text]) for text in "abcd"]  # one client, one request at a time
        await batcher.stop()
        return results, batcher.stats

    results, stats = asyncio.run(main())
    assert results == [["A"], ["B"], ["C"], ["D"]] and score.calls == [["a"], ["b"], ["c"], ["d"]]
    # only the very first request (no load seen yet) waited the 200 ms for company; then nobody else was in flight
    assert stats.wait_timeouts == 1


def test_under_load_a_batch_waits_for_the_clients_it_just_answered():
    calls: list[list[str]] = []

    def slow(texts: list[str]) -> list[str]:
        calls.append(list(texts))
        time.sleep(0.03)
        return [text.upper() for text in texts]

    async def main():
        batcher = MicroBatcher(slow, max_batch_size=64, max_wait_ms=1000)
        await batcher.start()

        async def client(i: int) -> None:  # closed loop: client i sends again 10*i ms after its answer
            for _ in range(5):
                assert await batcher.submit([str(i)]) == [str(i)]
                await asyncio.sleep(0.01 * i)

        await asyncio.gather(*(client(i) for i in range(4)))
        await batcher.stop()
        return batcher.stats

    stats = asyncio.run(main())
    # all 4 clients were in flight together, so each batch waits for the 4 of them (client 3 sends 30 ms after
    # its answer) instead of scoring client 0's request at once
    assert [sorted(call) for call in calls] == [["0", "1", "2", "3"]] * 5
    assert stats.wait_timeouts == 1  # the first batch (no load seen yet) waited the full 1 s; the others did not


@pytest.mark.parametrize(("kwargs", "field"), [({"max_batch_size": 0}, "max_batch_size"), ({"port": 70000}, "port"),
                                               ({"max_wait_ms": -1}, "max_wait_ms"), ({"threads": 0}, "threads"),
                                               ({"max_document_chars": 10, "max_request_chars": 5},
                                                "max_document_chars"), ({"backend": "tpu"}, "backend")])
def test_serve_config_names_the_bad_field(kwargs, field):
    from textrisk.errors import ConfigError
    from textrisk.serving import ServeConfig

    with pytest.raises(ConfigError, match=field):
        ServeConfig(**kwargs)
