//! The name and Rust-level checks: every declared item exists in the record, and every
//! number the compiled crate holds (bindgen's layout assertions, enum values, macro
//! values) equals the record's. Pure functions of their inputs, so the tests in abi.rs can
//! feed them a mutated record and watch them fail.

use std::collections::BTreeMap;

use super::cexpr::{self, IntType};
use super::headers::HeaderNames;
use super::record::Record;
use super::rust_src::{render, Aggregate, Const, ConstValue, Declared, LayoutFact, Tok};
use super::types;

/// Declared names the record cannot hold, each with the reason it is not an interface fact.
pub const NOT_IN_RECORD: &[(&str, &str)] = &[(
    "SA_EXTENDED_NAME_SOURCE",
    "a feature switch wrapper.h defines before including the headers (the record was \
     measured with it defined); it selects the API, it is not part of it",
)];

fn exempt(name: &str) -> bool {
    NOT_IN_RECORD.iter().any(|(n, _)| *n == name)
}

#[derive(Debug, Default)]
pub struct Report {
    pub problems: Vec<String>,
    /// Facts compared, by kind.
    pub counts: BTreeMap<&'static str, usize>,
}

impl Report {
    fn fact(&mut self, kind: &'static str, ok: bool, problem: impl FnOnce() -> String) {
        *self.counts.entry(kind).or_default() += 1;
        if !ok {
            self.problems.push(problem());
        }
    }
    fn missing(&mut self, what: &str, name: &str, section: &str) {
        self.fact("names", false, || {
            format!("{what} {name} is not in the record's {section}")
        });
    }
    fn present(&mut self) {
        *self.counts.entry("names").or_default() += 1;
    }
    pub fn total(&self) -> usize {
        self.counts.values().sum()
    }
}

/// The integer type of a Rust constant's declared type, through the bindings' aliases.
pub fn rust_int_type(ty: &str, aliases: &BTreeMap<String, Vec<Tok>>) -> Option<IntType> {
    let last = |path: &str| path.rsplit("::").next().map(str::to_string);
    let mut name = last(ty)?;
    // The bound only guards against an alias cycle.
    for _ in 0..16 {
        let (bits, signed) = match name.as_str() {
            "i8" | "c_char" | "c_schar" => (8, true),
            "u8" | "c_uchar" => (8, false),
            "i16" | "c_short" => (16, true),
            "u16" | "c_ushort" => (16, false),
            "i32" | "c_int" => (32, true),
            "u32" | "c_uint" => (32, false),
            "i64" | "isize" | "c_long" | "c_longlong" => (64, true),
            "u64" | "usize" | "c_ulong" | "c_ulonglong" => (64, false),
            _ => {
                name = last(&render(aliases.get(&name)?))?;
                continue;
            }
        };
        return Some(IntType { bits, signed });
    }
    None
}

/// What the project declares, read from its sources.
pub struct Inputs {
    pub decl: Declared,
    /// Hand-written constants of src/lib.rs.
    pub lib_consts: Vec<Const>,
    pub headers: HeaderNames,
    /// (symbol, type) pairs of the loader's tables (src/loader.rs): each symbol is
    /// `dlsym`ed and called through the type, so the two must name the same function.
    pub loader: Vec<(String, String)>,
}

/// Checks the names of everything declared and every number the crate compiled with.
pub fn check_rust(inputs: &Inputs, rec: &Record) -> Report {
    let Inputs {
        decl,
        lib_consts,
        headers,
        loader,
    } = inputs;
    let mut r = Report::default();

    for (name, record) in &decl.records {
        let tag = match record.kind {
            Aggregate::Struct => "struct",
            Aggregate::Union => "union",
        };
        match rec.typedefs.get(name) {
            None => r.missing(tag, name, "typedefs"),
            Some(spelling) => {
                let want = format!("{tag} {name}");
                r.fact("kinds", *spelling == want, || {
                    format!("{name} is a {want} in bindings.rs but `{spelling}` in the record")
                });
            }
        }
        if !rec.layouts.contains_key(name) {
            r.missing(tag, name, "layouts");
        }
        match rec.fields.get(name) {
            None => r.missing(tag, name, "fields"),
            Some(fields) => {
                let want: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                let got = record.field_names();
                r.fact("field lists", got == want, || {
                    format!("fields of {name}: bindings.rs has {got:?}, the record {want:?}")
                });
                for (field, toks) in &record.fields {
                    if let Some(f) = fields.iter().find(|f| &f.name == field) {
                        compare_types(&mut r, &format!("field {name}::{field}"), &f.ty, toks);
                    }
                }
            }
        }
    }

    for (name, consts) in &decl.enums {
        match rec.typedefs.get(name) {
            None => r.missing("enum", name, "typedefs"),
            Some(spelling) => {
                let want = format!("enum {name}");
                r.fact("kinds", *spelling == want, || {
                    format!("{name} is a C enum in bindings.rs but `{spelling}` in the record")
                });
            }
        }
        if !rec.layouts.contains_key(name) {
            r.missing("enum", name, "layouts");
        }
        for (c, v) in consts {
            match rec.enum_constants.get(c) {
                None => r.missing("enum constant", c, "enum_constants"),
                Some(want) => {
                    r.present();
                    r.fact("enum values", v == want, || {
                        format!("{name}::{c} is {v} in bindings.rs, {want} in the record")
                    });
                }
            }
        }
    }

    for (name, toks) in &decl.aliases {
        match rec.typedefs.get(name) {
            Some(spelling) => {
                r.present();
                compare_types(&mut r, &format!("typedef {name}"), spelling, toks);
            }
            None => r.missing("typedef", name, "typedefs"),
        }
    }

    for (f, toks) in &decl.functions {
        match rec.functions.get(f) {
            Some(spelling) => {
                r.present();
                compare_types(&mut r, &format!("function type {f}_fn"), spelling, toks);
            }
            None => r.missing(
                "function type",
                &format!("{f}_fn (function {f})"),
                "functions",
            ),
        }
    }

    for (fact, n) in &decl.layout_facts {
        let want = match fact {
            LayoutFact::Size(t) => rec.layouts.get(t).map(|l| l.size),
            LayoutFact::Align(t) => rec.layouts.get(t).map(|l| l.align),
            LayoutFact::Offset(t, f) => rec
                .fields
                .get(t)
                .and_then(|fs| fs.iter().find(|x| &x.name == f))
                .map(|x| x.offset),
        };
        let kind = if matches!(fact, LayoutFact::Offset(..)) {
            "offsets"
        } else {
            "layouts"
        };
        match want {
            // The missing name itself is reported above.
            None => r.fact(kind, false, || {
                format!("{fact}: asserted {n} by bindgen, absent from the record")
            }),
            Some(want) => r.fact(kind, *n == want, || {
                format!("{fact}: {n} in bindings.rs, {want} in the record")
            }),
        }
    }
    // bindgen asserts size and alignment of every record; a missing assertion would mean
    // this parser lost track of the file.
    for name in decl.records.keys() {
        for fact in [
            LayoutFact::Size(name.clone()),
            LayoutFact::Align(name.clone()),
        ] {
            r.fact(
                "layouts",
                decl.layout_facts.iter().any(|(f, _)| *f == fact),
                || format!("bindings.rs has no assertion for the {fact}"),
            );
        }
    }

    for (symbol, ty) in loader {
        let want = format!("{symbol}_fn");
        r.fact("loader symbols", *ty == want && decl.functions.contains_key(symbol), || {
            format!("loader.rs calls symbol {symbol} through type {ty}; it must be {want}, from bindings.rs")
        });
        if !rec.functions.contains_key(symbol) {
            r.missing("loader symbol", symbol, "functions");
        }
    }

    for c in decl.consts.iter().chain(lib_consts) {
        if exempt(&c.name) {
            continue;
        }
        let Some(text) = rec.macros.get(&c.name) else {
            r.missing(&format!("constant (in {})", c.file), &c.name, "macros");
            continue;
        };
        r.present();
        check_const_value(&mut r, c, text, decl, rec);
    }

    // What the headers declare beyond bindgen's output must be in the record too.
    for m in &headers.macros {
        if rec.macros.contains_key(m) || exempt(m) {
            r.present();
        } else {
            r.missing("header macro", m, "macros");
        }
    }
    for f in &headers.functions {
        if rec.functions.contains_key(f) {
            r.present();
        } else {
            r.missing("header function", f, "functions");
        }
    }
    for t in &headers.typedefs {
        // bindgen's allowlist decides what Rust sees; a header typedef it drops would be
        // checked in C but silently missing from the crate.
        let in_bindings = decl.records.contains_key(t)
            || decl.enums.contains_key(t)
            || decl.aliases.contains_key(t);
        r.fact("names", rec.typedefs.contains_key(t) && in_bindings, || {
            format!(
                "header typedef {t}: in the record: {}, in bindings.rs: {in_bindings}",
                rec.typedefs.contains_key(t)
            )
        });
    }
    r
}

/// The record's C spelling against bindgen's Rust type for the same item.
fn compare_types(r: &mut Report, what: &str, c_spelling: &str, rust: &[Tok]) {
    let (c, rs) = (types::parse_c(c_spelling), types::parse_rust(rust));
    r.fact(
        "types",
        matches!((&c, &rs), (Ok(a), Ok(b)) if a == b),
        || match (&c, &rs) {
            (Ok(c), Ok(rs)) => {
                format!("{what}: bindings.rs has `{rs}`, the record `{c_spelling}` (= `{c}`)")
            }
            (Err(e), _) | (_, Err(e)) => format!("{what}: {e}"),
        },
    );
}

fn check_const_value(r: &mut Report, c: &Const, text: &str, decl: &Declared, rec: &Record) {
    match (&c.value, cexpr::c_string(text)) {
        (ConstValue::Bytes(got), Some(want)) => match want {
            Err(e) => r.fact("string macros", false, || {
                format!("{}: record text {text}: {e}", c.name)
            }),
            Ok(want) => r.fact("string macros", *got == want, || {
                format!(
                    "{} is b{:?} in {}, {text} in the record",
                    c.name,
                    String::from_utf8_lossy(got),
                    c.file
                )
            }),
        },
        (ConstValue::Int(got), None) => {
            let Some(ty) = rust_int_type(&c.ty, &decl.aliases) else {
                r.fact("macro values", false, || {
                    format!("{}: cannot resolve Rust type {}", c.name, c.ty)
                });
                return;
            };
            match cexpr::eval(text, &rec.macros, &rec.typedefs) {
                Err(e) => r.fact("macro values", false, || format!("{}: {e}", c.name)),
                Ok(want) => {
                    // The Rust type is chosen for how the value is used (gen/generate.rs gives
                    // SA_TIME_* the type SaTimeT), so compare what C gets when it assigns the
                    // macro to that type, provided no bits are lost on the way: 0x8000...LL
                    // stored in an SaTimeT is i64::MIN on both sides.
                    let lossless = ty.holds(want.value)
                        || IntType {
                            signed: !ty.signed,
                            ..ty
                        }
                        .holds(want.value);
                    let same = lossless && ty.wrap(want.value) == *got;
                    r.fact("macro values", same, || {
                        format!(
                            "{}: {got} as {} ({ty}) in {}, but the record's {text} is {} ({}) in C",
                            c.name, c.ty, c.file, want.value, want.ty
                        )
                    });
                }
            }
        }
        _ => r.fact("macro values", false, || {
            format!(
                "{}: string/number mismatch: {:?} in {}, {text} in the record",
                c.name, c.value, c.file
            )
        }),
    }
}

/// The record's facts about the names `ours` selects that the project does not declare
/// both in its C headers and in the Rust bindings (so neither check above could compare
/// them). The other direction of `check_rust`: it proves what is declared, this proves
/// that a whole API (CLM) is declared.
pub fn undeclared(inputs: &Inputs, rec: &Record, ours: impl Fn(&str) -> bool) -> Vec<String> {
    let Inputs {
        decl,
        lib_consts,
        headers,
        ..
    } = inputs;
    let mut out = Vec::new();
    let rust_type = |t: &str| {
        decl.records.contains_key(t) || decl.enums.contains_key(t) || decl.aliases.contains_key(t)
    };
    let types = rec
        .typedefs
        .keys()
        .chain(rec.layouts.keys())
        .chain(rec.fields.keys());
    for t in types.filter(|t| ours(t)) {
        if !headers.typedefs.contains(t) {
            out.push(format!("type {t} is not declared in the headers"));
        }
        if !rust_type(t) {
            out.push(format!("type {t} is not in bindings.rs"));
        }
    }
    for c in rec.enum_constants.keys().filter(|c| ours(c)) {
        if !decl.enums.values().flatten().any(|(n, _)| n == c) {
            out.push(format!("enum constant {c} is not in bindings.rs"));
        }
    }
    for m in rec.macros.keys().filter(|m| ours(m)) {
        if !headers.macros.contains(m) {
            out.push(format!("macro {m} is not declared in the headers"));
        }
        if !decl.consts.iter().chain(lib_consts).any(|c| &c.name == m) {
            out.push(format!("macro {m} has no Rust constant"));
        }
    }
    for f in rec.functions.keys().filter(|f| ours(f)) {
        if !headers.functions.contains(f) {
            out.push(format!("function {f} is not declared in the headers"));
        }
        if !decl.functions.contains_key(f) {
            out.push(format!("function {f} has no {f}_fn type in bindings.rs"));
        }
    }
    out.sort();
    out.dedup();
    out
}
