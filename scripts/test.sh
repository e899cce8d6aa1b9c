#!/usr/bin/env bash
# Set up and run every test. PostgreSQL tests run when FENGQIAO_TEST_DATABASE_URL is set and skip
# (saying why) otherwise; browser tests need Debian's chromium, installed here when apt can.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian chromium for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "could not install chromium: browser tests will be skipped"
fi
.venv/bin/fengqiao check processes
exec .venv/bin/python -m pytest "$@"
