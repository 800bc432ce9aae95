"""Whether a process runs (a zombie, killed but not yet reaped, does not): one definition, bench's."""
from bench.processes import alive as running

__all__ = ["running"]
