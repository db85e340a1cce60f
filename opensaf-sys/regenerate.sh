#!/bin/sh
# Rewrites src/bindings.rs from include/ and wrapper.h (needs libclang).
set -e
cd "$(dirname "$0")"
OPENSAF_SYS_BLESS=1 cargo test -q -p opensaf-sys --test bindings_fresh
