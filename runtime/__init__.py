"""Shared runtime: the only package that reads the environment, builds clients or installs signal handlers."""
