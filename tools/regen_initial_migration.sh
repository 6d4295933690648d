#!/usr/bin/env bash
# Development only, until the first release: regenerate the initial schema revision from the
# models, keeping its revision id so later revisions still chain onto it.
set -euo pipefail
cd "$(dirname "$0")/.."
initial=$(ls migrations/versions/*_aaa27065612e_*.py)
tmp=$(mktemp -d)
mv migrations/versions/*.py "$tmp"/
rm -f "$tmp"/*_aaa27065612e_*.py
DATABASE_URL="sqlite:///$tmp/empty.db" .venv/bin/flask --app registry db migrate \
  --rev-id aaa27065612e -m "initial schema" >/dev/null
mv "$tmp"/*.py migrations/versions/
rm -rf "$tmp"
.venv/bin/ruff format -q migrations/versions/*_aaa27065612e_*.py 2>/dev/null || true
# SQLite renders boolean server defaults as 0/1, which PostgreSQL refuses: use sa.false()/true().
.venv/bin/python - migrations/versions/*_aaa27065612e_*.py <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
text = re.sub(r"(sa\.Boolean\(\), server_default=)sa\.text\([\"']([01])[\"']\)",
              lambda m: m.group(1) + ("sa.true()" if m.group(2) == "1" else "sa.false()"), text)
open(path, "w").write(text)
PY
echo "Regenerated $(ls migrations/versions/*_aaa27065612e_*.py)"
