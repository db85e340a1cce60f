//! Checks every item opensaf-sys declares against tests/data/abi-5.21.03.json, the ABI
//! measured from the real OpenSAF 5.21.03 headers (SA_EXTENDED_NAME_SOURCE, x86_64). The
//! project compiles against its own headers, so a difference from that record is a crash
//! on a real cluster that nothing else would catch.
//!
//! Three checks, all against the record:
//! * names: everything bindings.rs declares (and every macro, function and typedef the
//!   headers declare) exists in the record, as the same kind of thing;
//! * C: the headers bindgen reads are compiled with the record's facts as `_Static_assert`s
//!   (sizes, alignments, offsets, field/typedef/function types, enum and macro values) and
//!   string macros are compared at run time;
//! * Rust: the numbers the compiled crate holds (bindgen's layout assertions, enum values,
//!   macro values) equal the record's.
//!
//! A header that really differs from the record is fixed in opensaf-sys/include/ and the
//! bindings regenerated (opensaf-sys/regenerate.sh); the record is never edited to match.
//! The tests at the bottom feed the checkers mutated records, so the checkers are tested.

#[path = "abi/cexpr.rs"]
mod cexpr;
#[path = "abi/cgen.rs"]
mod cgen;
#[path = "abi/check.rs"]
mod check;
#[path = "abi/headers.rs"]
mod headers;
#[path = "abi/json.rs"]
mod json;
#[path = "abi/json_tests.rs"]
mod json_tests;
#[path = "abi/record.rs"]
mod record;
#[path = "abi/rust_src.rs"]
mod rust_src;
#[path = "abi/types.rs"]
mod types;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use check::Inputs;
use record::Record;
use rust_src::Tok;

const RECORD_FILE: &str = "abi-5.21.03.json";

/// Well below today's counts, far above what a parser that lost its way would find.
const MIN_DECLARED_ITEMS: usize = 100;
const MIN_RUST_FACTS: usize = 500;
const MIN_C_FACTS: usize = 400;

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tmp_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("abi")
}

fn record_text() -> String {
    let path = crate_dir().join("tests/data").join(RECORD_FILE);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `symbol: symbol_fn` pairs of loader.rs's `api_table!` invocations, cross-checked
/// with the SYMBOLS the compiled tables report so a misread cannot drop one.
fn loader_pairs(src: &str) -> Vec<(String, String)> {
    let toks = rust_src::tokenize(src).unwrap_or_else(|e| panic!("src/loader.rs: {e}"));
    let mut pairs = Vec::new();
    for (k, w) in toks.windows(3).enumerate() {
        if let [Tok::Ident(sym), Tok::P(':'), Tok::Ident(ty)] = w {
            let after_colon = k > 0 && toks[k - 1] == Tok::P(':');
            if ty.ends_with("_fn") && !after_colon && toks.get(k + 3) != Some(&Tok::P(':')) {
                pairs.push((sym.clone(), ty.clone()));
            }
        }
    }
    let mut symbols: Vec<&str> = [
        opensaf_sys::AmfApi::SYMBOLS,
        opensaf_sys::ImmOmApi::SYMBOLS,
        opensaf_sys::ImmOiApi::SYMBOLS,
        opensaf_sys::ClmApi::SYMBOLS,
    ]
    .concat();
    let mut found: Vec<&str> = pairs.iter().map(|(s, _)| s.as_str()).collect();
    symbols.sort_unstable();
    found.sort_unstable();
    assert_eq!(
        found, symbols,
        "src/loader.rs: the symbol/type pairs read do not match the tables' SYMBOLS"
    );
    pairs
}

fn project() -> Inputs {
    let read = |p: &str| {
        let path = crate_dir().join(p);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    Inputs {
        decl: rust_src::parse_bindings(&read("src/bindings.rs"))
            .unwrap_or_else(|e| panic!("src/bindings.rs: {e}")),
        lib_consts: rust_src::parse_lib_consts(&read("src/lib.rs"))
            .unwrap_or_else(|e| panic!("src/lib.rs: {e}")),
        headers: headers::scan(&crate_dir().join("include")).unwrap_or_else(|e| panic!("{e}")),
        loader: loader_pairs(&read("src/loader.rs")),
    }
}

fn c_check(
    p: &Inputs,
    rec: &Record,
    stem: &str,
) -> (cgen::CProgram, Result<cgen::Compiled, String>) {
    let prog = cgen::generate(&p.decl, &p.headers, rec, RECORD_FILE);
    let result = cgen::compile_and_run(&prog, &tmp_dir(), stem, crate_dir());
    (prog, result)
}

fn counts_line(counts: &BTreeMap<&'static str, usize>) -> String {
    counts
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Printed straight to the process's stderr: libtest captures only the print macros, and
/// the count is the evidence the check ran, so it must show without --nocapture too.
fn report(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}

#[test]
fn declarations_match_the_opensaf_5_21_03_abi_record() {
    let p = project();
    let rec = Record::parse(&record_text()).unwrap_or_else(|e| panic!("{RECORD_FILE}: {e}"));
    let rust = check::check_rust(&p, &rec);
    let (prog, c_result) = c_check(&p, &rec, "abi_check");

    let items = p.decl.item_count() + p.lib_consts.len();
    let h = &p.headers;
    let mut summary = format!(
        "ABI: checked {} facts of {items} declared items against {RECORD_FILE}\n  \
         declared: bindings.rs ({} structs/unions, {} enums, {} typedefs, {} *_fn types, {} constants), \
         lib.rs ({} constants), headers ({} typedefs, {} macros, {} functions), loader.rs ({} symbols)\n  \
         names and Rust-level: {}\n  C-level (cc, project headers): {}\n  generated C: {}\n",
        rust.total() + prog.total(),
        p.decl.records.len(),
        p.decl.enums.len(),
        p.decl.aliases.len(),
        p.decl.functions.len(),
        p.decl.consts.len(),
        p.lib_consts.len(),
        h.typedefs.len(),
        h.macros.len(),
        h.functions.len(),
        p.loader.len(),
        counts_line(&rust.counts),
        counts_line(&prog.counts),
        tmp_dir().join("abi_check.c").display(),
    );
    for (name, why) in check::NOT_IN_RECORD {
        summary += &format!("  not checked: {name}: {why}\n");
    }
    for s in &prog.skipped {
        summary += &format!("  not checked in C: {s}\n");
    }
    if let Ok(c) = &c_result {
        if !c.warnings.trim().is_empty() {
            summary += &format!("  C compiler warnings:\n{}\n", c.warnings);
        }
    }
    report(&summary);

    let mut problems = rust.problems.clone();
    if let Err(e) = &c_result {
        problems.push(e.clone());
    }
    assert!(
        problems.is_empty(),
        "{} ABI problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        items >= MIN_DECLARED_ITEMS,
        "only {items} declared items found: is the bindings parser lost?"
    );
    assert!(
        rust.total() >= MIN_RUST_FACTS,
        "only {} Rust-level facts checked",
        rust.total()
    );
    assert!(
        prog.total() >= MIN_C_FACTS,
        "only {} C-level facts checked",
        prog.total()
    );
    for kind in [
        "layouts",
        "offsets",
        "enum values",
        "macro values",
        "string macros",
        "field lists",
        "kinds",
        "types",
        "loader symbols",
    ] {
        assert!(
            rust.counts.get(kind).copied().unwrap_or(0) > 0,
            "no Rust-level {kind} checked"
        );
    }
    for kind in [
        "layouts",
        "typedefs",
        "fields",
        "enum constants",
        "macros",
        "functions",
        "string macros",
    ] {
        assert!(
            prog.counts.get(kind).copied().unwrap_or(0) > 0,
            "no C-level {kind} checked"
        );
    }
}

/// The record's CLM facts (saClm* functions, SaClm* types, SA_CLM_* constants and the
/// SA_TRACK_* flags its track call takes).
fn is_clm(name: &str) -> bool {
    ["saClm", "SaClm", "SA_CLM_", "SA_TRACK_"]
        .iter()
        .any(|p| name.starts_with(p))
}

#[test]
fn every_clm_fact_of_the_record_is_declared_so_both_checks_cover_it() {
    let rec = good_record();
    let clm_facts = rec.enum_constants.keys().filter(|n| is_clm(n)).count()
        + rec.fields.keys().filter(|n| is_clm(n)).count()
        + rec.functions.keys().filter(|n| is_clm(n)).count()
        + rec.layouts.keys().filter(|n| is_clm(n)).count()
        + rec.macros.keys().filter(|n| is_clm(n)).count()
        + rec.typedefs.keys().filter(|n| is_clm(n)).count();
    // 30 enum constants, 5 structs, 10 functions, 16 layouts, 8 macros, 18 typedefs.
    assert!(clm_facts >= 87, "only {clm_facts} CLM facts in the record");
    let missing = check::undeclared(&project(), &rec, is_clm);
    assert!(
        missing.is_empty(),
        "undeclared CLM facts:\n{}",
        missing.join("\n")
    );
    report(&format!(
        "ABI: all {clm_facts} CLM facts of {RECORD_FILE} are declared\n"
    ));
}

#[test]
fn the_clm_coverage_check_reports_what_is_not_declared() {
    let mut p = project();
    p.headers.functions.remove("saClmClusterTrackStop");
    p.decl.functions.remove("saClmClusterTrackStop");
    p.decl.enums.get_mut("SaClmClusterChangesT").unwrap().pop();
    p.headers.macros.remove("SA_TRACK_LOCAL");
    p.decl.aliases.remove("SaClmNodeIdT");
    let missing = check::undeclared(&p, &good_record(), is_clm);
    assert_eq!(
        missing,
        [
            "enum constant SA_CLM_NODE_SHUTDOWN is not in bindings.rs",
            "function saClmClusterTrackStop has no saClmClusterTrackStop_fn type in bindings.rs",
            "function saClmClusterTrackStop is not declared in the headers",
            "macro SA_TRACK_LOCAL is not declared in the headers",
            "type SaClmNodeIdT is not in bindings.rs",
        ]
    );
}

// ---- The checkers themselves: each mutation of the record must be reported. ----

fn good_record() -> Record {
    Record::parse(&record_text()).unwrap()
}

/// Asserts the Rust-level check of `rec` reports exactly the problems matching `expected`
/// (each a list of substrings of one problem).
fn assert_rust_problems(rec: &Record, expected: &[&[&str]]) {
    assert_problems(&project(), rec, expected);
}

fn assert_problems(p: &Inputs, rec: &Record, expected: &[&[&str]]) {
    let r = check::check_rust(p, rec);
    for want in expected {
        assert!(
            r.problems
                .iter()
                .any(|p| want.iter().all(|w| p.contains(w))),
            "no problem mentions {want:?}; problems: {:#?}",
            r.problems
        );
    }
    assert_eq!(
        r.problems.len(),
        expected.len(),
        "unexpected problems: {:#?}",
        r.problems
    );
}

#[test]
fn rust_check_reports_a_mutated_size_and_alignment() {
    let mut rec = good_record();
    rec.layouts.get_mut("SaNameT").unwrap().size = 260;
    rec.layouts.get_mut("SaAmfCSIDescriptorT").unwrap().align = 4;
    assert_rust_problems(
        &rec,
        &[
            &["size of SaNameT", "258", "260"],
            &["alignment of SaAmfCSIDescriptorT", "8", "4"],
        ],
    );
}

#[test]
fn rust_check_reports_a_mutated_offset() {
    let mut rec = good_record();
    let f = rec
        .fields
        .get_mut("SaAmfCSIDescriptorT")
        .unwrap()
        .iter_mut()
        .find(|f| f.name == "csiAttr")
        .unwrap();
    f.offset = 520;
    assert_rust_problems(
        &rec,
        &[&["offset of SaAmfCSIDescriptorT::csiAttr", "528", "520"]],
    );
}

#[test]
fn rust_check_reports_a_mutated_enum_value() {
    let mut rec = good_record();
    *rec.enum_constants.get_mut("SA_AIS_ERR_TRY_AGAIN").unwrap() = 7;
    assert_rust_problems(&rec, &[&["SA_AIS_ERR_TRY_AGAIN", "6", "7"]]);
}

#[test]
fn rust_check_reports_mutated_macros() {
    let mut rec = good_record();
    rec.macros
        .insert("SA_TIME_ONE_SECOND".into(), "1000000001LL".into());
    rec.macros.insert(
        "SA_NTF_IDENTIFIER_UNUSED".into(),
        "((SaNtfIdentifierT) 1LL)".into(),
    );
    rec.macros.insert(
        "SA_IMM_ATTR_CLASS_NAME".into(),
        "\"SaImmAttrClassNam\"".into(),
    );
    // Truncation is a difference even where the low bits agree.
    rec.macros
        .insert("SA_AMF_CSI_TARGET_ALL".into(), "0x100000004".into());
    assert_rust_problems(
        &rec,
        &[
            &["SA_TIME_ONE_SECOND", "1000000001"],
            &["SA_NTF_IDENTIFIER_UNUSED", "lib.rs"],
            &["SA_IMM_ATTR_CLASS_NAME"],
            &["SA_AMF_CSI_TARGET_ALL", "4294967300"],
        ],
    );
}

#[test]
fn name_check_reports_names_missing_from_the_record() {
    // Mutated as text, so the JSON reading is part of what is tested.
    let text = record_text()
        .replace("\"SA_TIME_ONE_SECOND\":", "\"SA_TIME_ONE_SECOND_X\":")
        .replace("\"saAmfDispatch\":", "\"saAmfDispatch_X\":")
        .replace("\"SA_IMM_SUBTREE\":", "\"SA_IMM_SUBTREE_X\":")
        .replace("\"SaImmOiCcbIdT\":", "\"SaImmOiCcbIdT_X\":");
    let rec = Record::parse(&text).unwrap();
    assert_rust_problems(
        &rec,
        &[
            &["constant (in bindings.rs) SA_TIME_ONE_SECOND", "macros"],
            &["header macro SA_TIME_ONE_SECOND"],
            &["saAmfDispatch_fn"],
            &["loader symbol saAmfDispatch"],
            &["header function saAmfDispatch"],
            &["enum constant SA_IMM_SUBTREE"],
            &["typedef SaImmOiCcbIdT"],
            &["header typedef SaImmOiCcbIdT"],
        ],
    );
}

#[test]
fn rust_check_reports_an_enum_declared_as_its_integer() {
    // The C check cannot see this one (gcc treats an enum as compatible with unsigned int);
    // the type trees can.
    let mut rec = good_record();
    let fields = rec.fields.get_mut("SaAmfProtectionGroupMemberT_4").unwrap();
    fields.iter_mut().find(|f| f.name == "haState").unwrap().ty = "SaUint32T".into();
    rec.functions.insert(
        "saAmfDispatch".into(),
        "SaAisErrorT (SaAmfHandleT, SaUint32T)".into(),
    );
    rec.typedefs
        .insert("SaImmAttrValueT".into(), "const void *".into());
    assert_rust_problems(
        &rec,
        &[
            &[
                "field SaAmfProtectionGroupMemberT_4::haState",
                "SaAmfHAStateT",
                "SaUint32T",
            ],
            &["function type saAmfDispatch_fn", "SaDispatchFlagsT"],
            &["typedef SaImmAttrValueT", "*mut c_void", "const void *"],
        ],
    );
}

#[test]
fn rust_check_reports_a_loader_symbol_called_through_another_type() {
    let mut p = project();
    let pair = p
        .loader
        .iter_mut()
        .find(|(s, _)| s == "saAmfResponse_4")
        .unwrap();
    pair.1 = "saAmfCSIQuiescingComplete_fn".into();
    assert_problems(
        &p,
        &good_record(),
        &[&[
            "loader.rs calls symbol saAmfResponse_4",
            "saAmfCSIQuiescingComplete_fn",
        ]],
    );
}

#[test]
fn c_check_reports_mutated_facts() {
    let mut rec = good_record();
    rec.layouts.get_mut("SaAnyT").unwrap().align = 4;
    let fields = rec.fields.get_mut("SaAmfCSIDescriptorT").unwrap();
    fields
        .iter_mut()
        .find(|f| f.name == "csiAttr")
        .unwrap()
        .offset = 520;
    let fields = rec.fields.get_mut("SaVersionT").unwrap();
    fields
        .iter_mut()
        .find(|f| f.name == "releaseCode")
        .unwrap()
        .ty = "SaInt8T".into();
    rec.typedefs.insert("SaTimeT".into(), "SaUint64T".into());
    rec.enum_constants.insert("SA_AIS_ERR_TRY_AGAIN".into(), 7);
    // Same value, other C type (int instead of long long).
    rec.macros
        .insert("SA_TIME_ONE_SECOND".into(), "1000000000".into());
    rec.functions.insert(
        "saAmfComponentRegister".into(),
        "SaAisErrorT (SaAmfHandleT, SaNameT *, const SaNameT *)".into(),
    );

    let (_, result) = c_check(&project(), &rec, "abi_check_mutated");
    let err = result.expect_err("the C check accepted a mutated record");
    for want in [
        "layout: _Alignof(SaAnyT) == 4",
        "field: offsetof(SaAmfCSIDescriptorT, csiAttr) == 520",
        "field: type of SaVersionT::releaseCode is SaInt8T",
        "typedef: SaTimeT is SaUint64T",
        "enum constant: SA_AIS_ERR_TRY_AGAIN == 7",
        "macro: SA_TIME_ONE_SECOND has the C type of 1000000000",
        "function: saAmfComponentRegister is",
        "function type: saAmfComponentRegister_fn is",
    ] {
        assert!(
            err.contains(want),
            "compiler output does not name {want:?}:\n{err}"
        );
    }
    assert!(
        err.contains("(8 failed facts)"),
        "expected exactly the 8 mutated facts to fail:\n{err}"
    );
}

#[test]
fn c_check_reports_a_mutated_string_macro() {
    let mut rec = good_record();
    rec.macros.insert(
        "SA_IMM_ATTR_IMPLEMENTER_NAME".into(),
        "\"SaImmAttrImplementerNam\"".into(),
    );
    let (_, result) = c_check(&project(), &rec, "abi_check_mutated_string");
    let err = result.expect_err("the C check accepted a mutated string macro");
    assert!(
        err.contains("ABI string macro: SA_IMM_ATTR_IMPLEMENTER_NAME"),
        "{err}"
    );
}
