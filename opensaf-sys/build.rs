//! Without the `bindgen` feature this does nothing: the committed src/bindings.rs is used,
//! so a fresh machine needs no libclang. With it, bindings are regenerated from
//! OPENSAF_INCLUDE_DIR, else pkg-config's include dir of opensaf-amf / opensaf-imm, else
//! the project's own headers.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "bindgen")]
    regenerate();
}

#[cfg(feature = "bindgen")]
#[path = "gen/generate.rs"]
mod generate;

#[cfg(feature = "bindgen")]
fn regenerate() {
    use std::path::PathBuf;

    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let project_headers = manifest.join("include");
    println!("cargo:rerun-if-env-changed=OPENSAF_INCLUDE_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-changed=gen/generate.rs");
    println!("cargo:rerun-if-changed=include");

    let include = std::env::var_os("OPENSAF_INCLUDE_DIR")
        .map(PathBuf::from)
        .or_else(pkg_config_include)
        .unwrap_or(project_headers);
    let text = generate::generate(&include, &manifest.join("wrapper.h")).unwrap_or_else(|e| {
        // A build script has no other channel: this is its one clear error line.
        eprintln!("error: {e}");
        std::process::exit(1)
    });
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("bindings.rs");
    std::fs::write(&out, text).expect("write OUT_DIR/bindings.rs");
}

#[cfg(feature = "bindgen")]
fn pkg_config_include() -> Option<std::path::PathBuf> {
    for pkg in ["opensaf-amf", "opensaf-imm"] {
        let out = std::process::Command::new("pkg-config")
            .args(["--variable=includedir", pkg])
            .output()
            .ok()?;
        let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() && !dir.is_empty() {
            return Some(dir.into());
        }
    }
    None
}
