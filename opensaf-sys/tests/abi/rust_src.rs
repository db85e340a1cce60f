//! Reads what the crate declares out of bindgen's src/bindings.rs (and hand-written
//! constants out of src/lib.rs). Token based rather than line based, because rustfmt wraps
//! long items differently as names grow. Strict for bindings.rs: an item shape this parser
//! does not know is an error, so a new kind of declaration cannot slip past unchecked.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    /// Integer literal text, suffix included ("258usize").
    Int(String),
    Str(Vec<u8>),
    ByteStr(Vec<u8>),
    P(char),
}

pub fn tokenize(src: &str) -> Result<Vec<Tok>, String> {
    let b = src.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let end = src[i + 2..]
                .find("*/")
                .ok_or("unterminated block comment")?;
            i += end + 4;
        } else if c == b'b' && b.get(i + 1) == Some(&b'"') {
            let (s, n) = string_literal(&b[i + 1..])?;
            out.push(Tok::ByteStr(s));
            i += 1 + n;
        } else if c == b'"' {
            let (s, n) = string_literal(&b[i..])?;
            out.push(Tok::Str(s));
            i += n;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(src[s..i].to_string()));
        } else if c.is_ascii_digit() {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Int(src[s..i].to_string()));
        } else if c == b'\'' {
            // Lifetimes ('static) only; bindgen emits no char literals.
            i += 1;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
        } else {
            out.push(Tok::P(c as char));
            i += 1;
        }
    }
    Ok(out)
}

/// Parses `"..."` at the start of `b`; returns the bytes and the length consumed.
fn string_literal(b: &[u8]) -> Result<(Vec<u8>, usize), String> {
    let mut out = Vec::new();
    let mut i = 1;
    loop {
        match b.get(i) {
            None => return Err("unterminated string literal".into()),
            Some(b'"') => return Ok((out, i + 1)),
            Some(b'\\') => {
                let c = *b.get(i + 1).ok_or("dangling backslash")?;
                i += 2;
                match c {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'0' => out.push(0),
                    b'\\' | b'"' | b'\'' => out.push(c),
                    b'x' => {
                        let hex = b.get(i..i + 2).ok_or("short \\x escape")?;
                        let hex = std::str::from_utf8(hex).map_err(|_| "bad \\x escape")?;
                        out.push(u8::from_str_radix(hex, 16).map_err(|_| "bad \\x escape")?);
                        i += 2;
                    }
                    _ => return Err(format!("unsupported escape \\{}", c as char)),
                }
            }
            Some(&c) => {
                out.push(c);
                i += 1;
            }
        }
    }
}

/// An integer literal's value without its type suffix ("258usize" -> 258).
pub fn int_value(text: &str) -> Result<i128, String> {
    const SUFFIXES: [&str; 12] = [
        "usize", "isize", "u128", "i128", "u64", "i64", "u32", "i32", "u16", "i16", "u8", "i8",
    ];
    let digits = SUFFIXES
        .iter()
        .find_map(|s| text.strip_suffix(s))
        .unwrap_or(text)
        .replace('_', "");
    if let Some(h) = digits.strip_prefix("0x") {
        i128::from_str_radix(h, 16)
    } else {
        digits.parse()
    }
    .map_err(|_| format!("bad integer literal {text:?}"))
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConstValue {
    Int(i128),
    Bytes(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Const {
    pub name: String,
    /// The declared Rust type as written ("SaTimeT", "usize", "&[u8; 19]").
    pub ty: String,
    pub value: ConstValue,
    /// "bindings.rs" or "lib.rs".
    pub file: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    Struct,
    Union,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub kind: Aggregate,
    /// Field names and type tokens, in order.
    pub fields: Vec<(String, Vec<Tok>)>,
}

impl Record {
    pub fn field_names(&self) -> Vec<&str> {
        self.fields.iter().map(|(n, _)| n.as_str()).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum LayoutFact {
    Size(String),
    Align(String),
    Offset(String, String),
}

impl std::fmt::Display for LayoutFact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LayoutFact::Size(t) => write!(f, "size of {t}"),
            LayoutFact::Align(t) => write!(f, "alignment of {t}"),
            LayoutFact::Offset(t, field) => write!(f, "offset of {t}::{field}"),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Declared {
    /// Structs and unions with their fields in order.
    pub records: BTreeMap<String, Record>,
    /// C enums (bindgen newtypes) -> their constants in order.
    pub enums: BTreeMap<String, Vec<(String, i128)>>,
    /// `pub type` aliases other than the `*_fn` function types -> type tokens.
    pub aliases: BTreeMap<String, Vec<Tok>>,
    /// Function `f` -> type tokens of `pub type f_fn`.
    pub functions: BTreeMap<String, Vec<Tok>>,
    pub consts: Vec<Const>,
    /// bindgen's compile-time layout assertions: true in the compiled crate.
    pub layout_facts: Vec<(LayoutFact, u64)>,
}

impl Declared {
    pub fn item_count(&self) -> usize {
        self.records.len()
            + self.enums.len()
            + self.aliases.len()
            + self.functions.len()
            + self.consts.len()
    }
}

struct P {
    toks: Vec<Tok>,
    i: usize,
}

impl P {
    fn peek(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.i + k)
    }
    fn is_ident(&self, k: usize, s: &str) -> bool {
        matches!(self.peek(k), Some(Tok::Ident(x)) if x == s)
    }
    fn is_p(&self, k: usize, c: char) -> bool {
        self.peek(k) == Some(&Tok::P(c))
    }
    fn here(&self) -> String {
        let ctx: Vec<String> = self.toks[self.i..(self.i + 8).min(self.toks.len())]
            .iter()
            .map(render_tok)
            .collect();
        ctx.join(" ")
    }
    fn next(&mut self) -> Result<Tok, String> {
        let t = self
            .toks
            .get(self.i)
            .cloned()
            .ok_or("unexpected end of file")?;
        self.i += 1;
        Ok(t)
    }
    fn ident(&mut self) -> Result<String, String> {
        match self.next()? {
            Tok::Ident(s) => Ok(s),
            t => Err(format!("expected an identifier, found {}", render_tok(&t))),
        }
    }
    fn punct(&mut self, c: char) -> Result<(), String> {
        match self.next()? {
            Tok::P(x) if x == c => Ok(()),
            t => Err(format!(
                "expected '{c}', found {} before {}",
                render_tok(&t),
                self.here()
            )),
        }
    }
    fn keyword(&mut self, k: &str) -> Result<(), String> {
        let s = self.ident()?;
        if s == k {
            Ok(())
        } else {
            Err(format!("expected `{k}`, found `{s}`"))
        }
    }
    /// Tokens up to (not including) `end` at bracket depth 0; consumes `end`.
    fn until(&mut self, end: char) -> Result<Vec<Tok>, String> {
        let mut depth = 0i32;
        let mut out = Vec::new();
        loop {
            let t = self.next()?;
            match t {
                Tok::P(c) if c == end && depth == 0 => return Ok(out),
                Tok::P('(' | '[' | '{' | '<') => depth += 1,
                // `->` is not a closing angle bracket.
                Tok::P('>') if out.last() == Some(&Tok::P('-')) => {}
                Tok::P(')' | ']' | '}' | '>') => depth -= 1,
                _ => {}
            }
            if depth < 0 {
                return Err(format!("unbalanced brackets before {}", self.here()));
            }
            out.push(t);
        }
    }
    /// Skips a balanced `{ ... }` group starting at the cursor.
    fn skip_braces(&mut self) -> Result<(), String> {
        self.punct('{')?;
        self.until('}').map(|_| ())
    }
    fn skip_attribute(&mut self) -> Result<(), String> {
        self.punct('#')?;
        if self.is_p(0, '!') {
            self.i += 1;
        }
        self.punct('[')?;
        self.until(']').map(|_| ())
    }
}

fn render_tok(t: &Tok) -> String {
    match t {
        Tok::Ident(s) | Tok::Int(s) => s.clone(),
        Tok::Str(b) => format!("{:?}", String::from_utf8_lossy(b)),
        Tok::ByteStr(b) => format!("b{:?}", String::from_utf8_lossy(b)),
        Tok::P(c) => c.to_string(),
    }
}

/// Renders tokens for messages and type names ("::std::os::raw::c_uint", "*mut SaNameT").
pub fn render(toks: &[Tok]) -> String {
    let mut s = toks.iter().map(render_tok).collect::<Vec<_>>().join(" ");
    for (from, to) in [
        (": :", "::"),
        (":: ", "::"),
        (" ::", "::"),
        (" ,", ","),
        (" ;", ";"),
        (" :", ":"),
        ("( ", "("),
        (" )", ")"),
        ("[ ", "["),
        (" ]", "]"),
        ("< ", "<"),
        (" >", ">"),
        ("- >", " ->"),
        ("* ", "*"),
        ("& ", "&"),
    ] {
        s = s.replace(from, to);
    }
    s
}

fn const_value(toks: &[Tok], what: &str) -> Result<ConstValue, String> {
    match toks {
        [Tok::Int(n)] => Ok(ConstValue::Int(int_value(n)?)),
        [Tok::P('-'), Tok::Int(n)] => Ok(ConstValue::Int(-int_value(n)?)),
        [Tok::ByteStr(b)] => Ok(ConstValue::Bytes(b.clone())),
        _ => Err(format!(
            "{what}: value `{}` is not a literal this test can compare",
            render(toks)
        )),
    }
}

/// `pub const NAME: TYPE = VALUE;` with the cursor after `const`.
fn parse_const(p: &mut P, file: &'static str) -> Result<Const, String> {
    let name = p.ident()?;
    p.punct(':')?;
    let ty = render(&p.until('=')?);
    let value = const_value(&p.until(';')?, &name)?;
    Ok(Const {
        name,
        ty,
        value,
        file,
    })
}

fn parse_fields(p: &mut P) -> Result<Vec<(String, Vec<Tok>)>, String> {
    p.punct('{')?;
    let mut fields = Vec::new();
    while !p.is_p(0, '}') {
        while p.is_p(0, '#') {
            p.skip_attribute()?;
        }
        p.keyword("pub")?;
        let name = p.ident()?;
        p.punct(':')?;
        let start = p.i;
        let mut depth = 0;
        // The field type runs to the next ',' (or the closing brace) at depth 0.
        loop {
            match p.peek(0).ok_or("unexpected end of file in a struct")? {
                Tok::P(',') if depth == 0 => {
                    p.i += 1;
                    break;
                }
                Tok::P('}') if depth == 0 => break,
                Tok::P('(' | '[' | '<') => depth += 1,
                Tok::P('>') if p.i > 0 && p.toks[p.i - 1] == Tok::P('-') => {}
                Tok::P(')' | ']' | '>') => depth -= 1,
                _ => {}
            }
            p.i += 1;
        }
        let end = if p.toks[p.i - 1] == Tok::P(',') {
            p.i - 1
        } else {
            p.i
        };
        fields.push((name, p.toks[start..end].to_vec()));
    }
    p.punct('}')?;
    Ok(fields)
}

/// The statements of a bindgen `const _: () = { ... };` layout block.
fn parse_layout_block(p: &mut P, out: &mut Vec<(LayoutFact, u64)>) -> Result<(), String> {
    p.punct('{')?;
    while !p.is_p(0, '}') {
        p.punct('[')?;
        let label = match p.next()? {
            Tok::Str(s) => String::from_utf8(s).map_err(|_| "non-UTF-8 label")?,
            t => return Err(format!("expected a layout label, found {}", render_tok(&t))),
        };
        p.punct(']')?;
        p.punct('[')?;
        let expr = p.until(']')?;
        p.punct(';')?;
        let n = match expr.as_slice() {
            [.., Tok::P('-'), Tok::Int(n)] => int_value(n)?,
            _ => {
                return Err(format!(
                    "layout assertion {label:?}: no `- N` in `{}`",
                    render(&expr)
                ))
            }
        };
        let idents: Vec<&str> = expr
            .iter()
            .filter_map(|t| match t {
                Tok::Ident(s) if !["std", "mem"].contains(&s.as_str()) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        // Cross-check the label with the expression it names, so a misread label cannot
        // attach a number to the wrong item.
        let fact = match idents.as_slice() {
            ["size_of", t] if label == format!("Size of {t}") => LayoutFact::Size(t.to_string()),
            ["align_of", t] if label == format!("Alignment of {t}") => {
                LayoutFact::Align(t.to_string())
            }
            ["offset_of", t, f] if label == format!("Offset of field: {t}::{f}") => {
                LayoutFact::Offset(t.to_string(), f.to_string())
            }
            _ => {
                return Err(format!(
                    "unrecognized layout assertion {label:?}: `{}`",
                    render(&expr)
                ))
            }
        };
        out.push((
            fact,
            u64::try_from(n).map_err(|_| format!("negative number in {label:?}"))?,
        ));
    }
    p.punct('}')?;
    p.punct(';')
}

/// Parses bindgen's output. Every top-level item must be one bindgen emits for C
/// declarations; anything else is an error naming it.
pub fn parse_bindings(src: &str) -> Result<Declared, String> {
    let mut p = P {
        toks: tokenize(src)?,
        i: 0,
    };
    let mut d = Declared::default();
    while p.i < p.toks.len() {
        if p.is_p(0, '#') {
            p.skip_attribute()?;
        } else if p.is_ident(0, "pub") && p.is_ident(1, "const") {
            p.i += 2;
            d.consts.push(parse_const(&mut p, "bindings.rs")?);
        } else if p.is_ident(0, "pub") && p.is_ident(1, "type") {
            p.i += 2;
            let name = p.ident()?;
            p.punct('=')?;
            let ty = p.until(';')?;
            match name.strip_suffix("_fn") {
                Some(f) => d.functions.insert(f.to_string(), ty),
                None => d.aliases.insert(name, ty),
            };
        } else if p.is_ident(0, "pub") && (p.is_ident(1, "struct") || p.is_ident(1, "union")) {
            let kind = if p.is_ident(1, "struct") {
                Aggregate::Struct
            } else {
                Aggregate::Union
            };
            p.i += 2;
            let name = p.ident()?;
            if kind == Aggregate::Struct && p.is_p(0, '(') {
                // bindgen's newtype for a C enum: `pub struct E(pub c_uint);`
                p.punct('(')?;
                p.until(')')?;
                p.punct(';')?;
                d.enums.entry(name).or_default();
            } else {
                let fields = parse_fields(&mut p)?;
                d.records.insert(name, Record { kind, fields });
            }
        } else if p.is_ident(0, "impl")
            && matches!(p.peek(1), Some(Tok::Ident(_)))
            && p.is_p(2, '{')
        {
            // The constants of a C enum: `impl E { pub const A: E = E(1); }`
            p.i += 1;
            let name = p.ident()?;
            p.punct('{')?;
            while !p.is_p(0, '}') {
                p.keyword("pub")?;
                p.keyword("const")?;
                let c = p.ident()?;
                p.punct(':')?;
                p.keyword(&name)?;
                p.punct('=')?;
                p.keyword(&name)?;
                p.punct('(')?;
                let v = const_value(&p.until(')')?, &c)?;
                p.punct(';')?;
                let ConstValue::Int(v) = v else {
                    return Err(format!("{c}: not an integer"));
                };
                d.enums.entry(name.clone()).or_default().push((c, v));
            }
            p.punct('}')?;
        } else if p.is_ident(0, "impl") && p.is_ident(1, "Default") && p.is_ident(2, "for") {
            p.i += 4;
            p.skip_braces()?;
        } else if p.is_ident(0, "const") && p.is_ident(1, "_") {
            p.i += 2;
            p.punct(':')?;
            p.punct('(')?;
            p.punct(')')?;
            p.punct('=')?;
            parse_layout_block(&mut p, &mut d.layout_facts)?;
        } else {
            return Err(format!("bindings.rs: unrecognized item at `{}`", p.here()));
        }
    }
    Ok(d)
}

/// Hand-written top-level `pub const`s of src/lib.rs (values bindgen cannot produce).
pub fn parse_lib_consts(src: &str) -> Result<Vec<Const>, String> {
    let mut p = P {
        toks: tokenize(src)?,
        i: 0,
    };
    let mut out = Vec::new();
    let mut depth = 0i32;
    while p.i < p.toks.len() {
        if depth == 0 && p.is_ident(0, "pub") && p.is_ident(1, "const") {
            p.i += 2;
            out.push(parse_const(&mut p, "lib.rs")?);
            continue;
        }
        match p.next()? {
            Tok::P('{') => depth += 1,
            Tok::P('}') => depth -= 1,
            _ => {}
        }
    }
    Ok(out)
}

#[test]
fn reads_wrapped_bindgen_items() {
    let src = r#"
pub const A: SaTimeT = -9223372036854775808;
pub const S: &[u8; 3] = b"ab\0";
impl E {
    pub const E_ONE: E =
        E(1);
}
#[repr(transparent)]
pub struct E(pub ::std::os::raw::c_uint);
pub struct R {
    pub a: [SaUint16T; 129usize],
    pub cb: ::std::option::Option<unsafe extern "C" fn(a: u8, b: *mut u8) -> E>,
}
const _: () = {
    ["Size of R"][::std::mem::size_of::<R>() - 266usize];
    ["Offset of field: R::cb"][::std::mem::offset_of!(
        R,
        cb
    ) - 264usize];
};
pub type f_fn = ::std::option::Option<unsafe extern "C" fn(arg1: u8) -> E>;
"#;
    let d = parse_bindings(src).unwrap();
    assert_eq!(d.consts[0].value, ConstValue::Int(i64::MIN as i128));
    assert_eq!(d.consts[1].value, ConstValue::Bytes(b"ab\0".to_vec()));
    assert_eq!(d.enums["E"], vec![("E_ONE".to_string(), 1)]);
    assert_eq!(d.records["R"].field_names(), ["a", "cb"]);
    assert_eq!(render(&d.records["R"].fields[0].1), "[SaUint16T; 129usize]");
    assert_eq!(d.functions.keys().collect::<Vec<_>>(), ["f"]);
    assert_eq!(
        d.layout_facts,
        [
            (LayoutFact::Size("R".into()), 266),
            (LayoutFact::Offset("R".into(), "cb".into()), 264)
        ]
    );
    assert!(parse_bindings("extern \"C\" { pub fn f(); }").is_err());
    assert!(parse_bindings(
        r#"const _: () = { ["Size of X"][::std::mem::size_of::<Y>() - 1usize]; };"#
    )
    .is_err());
}
