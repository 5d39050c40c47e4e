from collections import Counter

from cluster.sessions.rendezvous import owner


def test_stable_and_balanced() -> None:
    shards = [f"s{i}" for i in range(4)]
    keys = [f"conv_{i}" for i in range(4000)]
    owners = [owner(k, shards) for k in keys]
    assert owners == [owner(k, list(reversed(shards))) for k in keys]  # order-free
    counts = Counter(owners)
    assert min(counts.values()) > 800  # roughly 1000 each


def test_adding_a_shard_moves_few_keys() -> None:
    keys = [f"conv_{i}" for i in range(4000)]
    before = {k: owner(k, ["a", "b", "c", "d"]) for k in keys}
    after = {k: owner(k, ["a", "b", "c", "d", "e"]) for k in keys}
    moved = [k for k in keys if before[k] != after[k]]
    assert all(after[k] == "e" for k in moved)
    assert 0.1 < len(moved) / len(keys) < 0.3  # about 1/5
