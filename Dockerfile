# The boxoffice image compose.yaml runs for every boxoffice process (cannot be built on the development
# machines: no Docker engine; the local stack runs the same code from .venv).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY runtime runtime
COPY schemas schemas
COPY intake intake
COPY booking_processor booking_processor
COPY projections projections
COPY notifier notifier
COPY expiry expiry
COPY ops ops
COPY bench bench
RUN pip install --no-cache-dir . && useradd --system --no-create-home boxoffice
USER boxoffice
