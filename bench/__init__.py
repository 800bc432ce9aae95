"""Benchmarks against the running stack (`make bench`). Not part of the product: the seed-design baseline
lives here only to be measured against."""
