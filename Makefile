# boxoffice — the two commands of the README are `make up` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv

.PHONY: help install up down status test check lint bench

help:
	@echo "make up      install what is missing, start Kafka/PostgreSQL (2 shards, each a primary + replica)/Redis, every boxoffice process and NGINX"
	@echo "make down    stop NGINX, every boxoffice process and the local stack"
	@echo "make status  what runs, with its ports"
	@echo "make test    the whole test suite against a separate test stack (started and stopped by it):"
	@echo "             the check lane below first, then pytest (browser tests in Debian's Chromium included)"
	@echo "make check   the fast lane, no stack, under a minute: ruff check, ruff format --check, mypy, tsc --noEmit"
	@echo "             (web), pytest tests/unit tests/api, the web client's unit tests (Vitest)"
	@echo "make lint    ruff"
	@echo "make bench   benchmarks against the running stack (make up first)"

install:
	@stack/stack.sh install

up: install
	@stack/stack.sh up
	@stack/services.sh up
	@echo
	@echo "boxoffice is up:"
	@stack/services.sh topology
	@echo "  tokens       $(VENV)/bin/boxoffice token --sub alice   (--role admin for show creation)"
	@echo "  logs         $${BOXOFFICE_STACK_DIR:-.stack}/logs/ (NGINX: $${BOXOFFICE_STACK_DIR:-.stack}/nginx/logs/)   stop with: make down"

down:
	@stack/services.sh down
	@stack/stack.sh down

status:
	@stack/stack.sh status
	@stack/services.sh status

test: install
	@stack/test.sh $(PYTEST_ARGS)

# What `make check` needs of `make install`: its Python part, .venv (stack/stack.sh stamps it with the
# pyproject.toml it installed). Missing or older than pyproject.toml: `make install` first.
$(VENV)/.installed: pyproject.toml
	@stack/stack.sh install
	@touch $@

check: $(VENV)/.installed
	@stack/check.sh

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(VENV)/bin/boxoffice bench
