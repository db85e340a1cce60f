//! The run-time loading rules, shown on libSaClm.so.0 and libSaAmf.so.0: `OPENSAF_LIB_DIR`
//! is tried first, and a failure is one line naming the file, what is missing and the
//! variable to set. (One process: a table is loaded once per process, so every case of
//! this file shares the one directory set before the first load.)

use std::path::{Path, PathBuf};

use opensaf_sys::{AmfApi, ClmApi};

/// The C library this test process has mapped: a real shared object without AIS symbols.
fn libc_path() -> PathBuf {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| {
            Path::new(p)
                .file_name()
                .is_some_and(|f| f.to_string_lossy().starts_with("libc.so"))
        })
        .map(PathBuf::from)
        .expect("libc is mapped")
}

#[test]
fn lib_dir_first_and_one_line_errors_naming_file_symbol_and_variable() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("loader-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // libSaClm.so.0 exists there but is not CLM; libSaAmf.so.0 does not exist at all.
    std::os::unix::fs::symlink(libc_path(), dir.join("libSaClm.so.0")).unwrap();
    std::env::set_var("OPENSAF_LIB_DIR", &dir);

    let clm = ClmApi::load().unwrap_err();
    let path = dir.join("libSaClm.so.0").display().to_string();
    assert_eq!(clm.file, path, "the directory's file was opened first");
    assert_eq!(clm.symbol.as_deref(), Some("saClmInitialize_4"));
    let line = clm.to_string();
    assert!(!line.contains('\n'), "{line}");
    assert!(
        line.starts_with(&format!("{path} has no symbol saClmInitialize_4")),
        "{line}"
    );
    assert!(line.contains("set OPENSAF_LIB_DIR"), "{line}");

    let amf = AmfApi::load().unwrap_err();
    assert_eq!(
        (amf.file.as_str(), amf.symbol.as_deref()),
        ("libSaAmf.so.0", None)
    );
    let line = amf.to_string();
    assert!(!line.contains('\n'), "{line}");
    assert!(line.starts_with("cannot load libSaAmf.so.0: "), "{line}");
    assert!(
        line.contains(&dir.join("libSaAmf.so.0").display().to_string()),
        "the directory was tried before the loader's path: {line}"
    );
    assert!(line.contains("set OPENSAF_LIB_DIR"), "{line}");
    let _ = std::fs::remove_dir_all(&dir);
}
