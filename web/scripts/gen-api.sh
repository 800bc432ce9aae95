#!/usr/bin/env bash
# Regenerates the API types from the backend's OpenAPI document.
# Needs the project's venv at the repository root (python3 -m venv .venv && .venv/bin/pip install -e '.[dev]').
# Both outputs are committed: src/lib/openapi.json (the document) and src/lib/api-types.ts (the types).
set -euo pipefail
cd "$(dirname "$0")/.."
../.venv/bin/python -c 'import json; from intake.openapi import openapi_document; print(json.dumps(openapi_document(), indent=2))' > src/lib/openapi.json
npx openapi-typescript src/lib/openapi.json -o src/lib/api-types.ts
