"""How many partitions a hash shuffle gets: few for a small input, enough for memory on a large one."""

from pipelines.ray_runtime import shuffle_partitions


def test_a_small_input_gets_one_partition_whatever_the_cluster() -> None:
    assert shuffle_partitions(0, 2) == 1
    assert shuffle_partitions(12, 2) == 1
    assert shuffle_partitions(10_000, 1_600) == 1


def test_partitions_grow_to_two_per_cpu_while_each_keeps_its_minimum() -> None:
    assert shuffle_partitions(100_000, 2) == 2
    assert shuffle_partitions(1_000_000, 2) == 4
    assert shuffle_partitions(1_000_000, 1_600) == 20  # 50k rows each, not 3,200 tiny ones


def test_a_large_input_is_split_for_memory_beyond_two_per_cpu() -> None:
    assert shuffle_partitions(10_000_000, 2) == 20
    assert shuffle_partitions(100_000_000, 2) == 200
    assert shuffle_partitions(10_000_000, 1_600) == 200
