//! The committed src/bindings.rs must be exactly what bindgen makes from the project's
//! headers today; otherwise the headers (proven against the ABI record) and the Rust
//! types the code compiles against have drifted apart.
//! `OPENSAF_SYS_BLESS=1` rewrites the committed file instead (see regenerate.sh).

#[allow(dead_code)]
#[path = "../gen/generate.rs"]
mod generate;

use std::path::Path;

#[test]
fn committed_bindings_equal_a_fresh_generation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fresh = generate::generate(&root.join("include"), &root.join("wrapper.h"))
        .unwrap_or_else(|e| panic!("{e} (is libclang installed? apt-get install libclang-dev)"));
    let committed_path = root.join("src/bindings.rs");
    if std::env::var_os("OPENSAF_SYS_BLESS").is_some() {
        std::fs::write(&committed_path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap();
    if committed != fresh {
        let line = committed
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .map_or(
                committed.lines().count().min(fresh.lines().count()) + 1,
                |n| n + 1,
            );
        panic!(
            "src/bindings.rs is stale (first difference at line {line}); run opensaf-sys/regenerate.sh"
        );
    }
}
