"""Operator tooling behind the `boxoffice` console script."""
