#!/usr/bin/env bash
# Set up, load demo data into embedded SQLite and start the app (with the timer scheduler inside).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export FENGQIAO_DATABASE_URL=${FENGQIAO_DATABASE_URL:-sqlite:///$(pwd)/instance/demo.sqlite}
mkdir -p instance
.venv/bin/fengqiao check processes
.venv/bin/fengqiao demo --reset
exec .venv/bin/fengqiao serve --host "${FENGQIAO_HOST:-127.0.0.1}" --port "${FENGQIAO_PORT:-5000}"
