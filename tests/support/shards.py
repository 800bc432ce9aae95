"""Every shard at once, for tests that look at the truth without caring where a show lives."""

from runtime.shards import AllShards

__all__ = ["AllShards"]
