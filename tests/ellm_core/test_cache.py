import multiprocessing as mp

import numpy as np

from ellm_core.cache import SQLiteCache, make_key, pack_array, pack_json, unpack_array, unpack_json


def _writer(path: str, worker: int, count: int) -> None:
    cache = SQLiteCache(path, timeout_s=60)
    for start in range(0, count, 10):  # many small transactions interleave with the other process
        cache.put_many("ns", {f"{worker}-{i}": pack_json({"worker": worker, "i": i}) for i in range(start, start + 10)})
    cache.put_many("shared", {"same-key": pack_json(worker)})


def test_two_processes_writing_concurrently_lose_nothing(tmp_path):
    path = str(tmp_path / "cache.sqlite")
    SQLiteCache(path)  # create the schema first
    context = mp.get_context("spawn")
    workers = [context.Process(target=_writer, args=(path, w, 400)) for w in range(2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
        assert process.exitcode == 0
    cache = SQLiteCache(path)
    for worker in range(2):
        keys = [f"{worker}-{i}" for i in range(400)]
        found = cache.get_many("ns", keys)
        assert len(found) == 400
        assert all(unpack_json(found[f"{worker}-{i}"]) == {"worker": worker, "i": i} for i in range(400))
    assert unpack_json(cache.get_many("shared", ["same-key"])["same-key"]) in (0, 1)
    assert len(cache) == 801


def test_persistent_hit_miss_counters_and_namespaces(tmp_path):
    path = tmp_path / "sub" / "cache.sqlite"
    first = SQLiteCache(path)
    vector = np.arange(6, dtype=np.float32).reshape(2, 3)
    first.put_many("embedding", {"a": pack_array(vector)})
    first.close()
    second = SQLiteCache(path)  # a later run
    found = second.get_many("embedding", ["a", "b", "a"])
    np.testing.assert_array_equal(unpack_array(found["a"]), vector)
    assert second.get_many("other", ["a"]) == {}
    assert (second.hits, second.misses) == (1, 2)
    assert second.stats()["hit_rate"] == 1 / 3


def test_make_key_separates_parts():
    assert make_key("ab", "c") != make_key("a", "bc")
    assert len(make_key("x")) == 64
