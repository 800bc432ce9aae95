#!/usr/bin/env bash
# Regenerates the API types from the backend's OpenAPI document.
# Needs the project's venv at the repository root (`make install`, or
# python3 -m venv .venv && .venv/bin/pip install -e '.[dev]').
# All outputs are committed: src/lib/openapi.json (the document), src/lib/api-types.ts (the types) and
# src/lib/api-limits.ts (the JSON Schema limits of the bodies, which the forms check: src/lib/limits.ts).
# intake.openapi.openapi_document() returns the document as JSON bytes (what /openapi.json serves).
set -euo pipefail
cd "$(dirname "$0")/.."
../.venv/bin/python -c '
import json, sys
from intake.openapi import openapi_document
document = openapi_document()
if isinstance(document, (bytes, str)):
    document = json.loads(document)
json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
print()
' > src/lib/openapi.json.new
mv src/lib/openapi.json.new src/lib/openapi.json
# Fields with a default may be absent from a response (queue_position, refused, next_cursor): optional.
npx openapi-typescript src/lib/openapi.json -o src/lib/api-types.ts --default-non-nullable false
# The limits (minimum, maximum, lengths, item counts, patterns, defaults) of components.schemas.
node scripts/gen-limits.mjs
