//! Evaluates the C token text of the record's integer macros ("0x8000000000000000LL",
//! "((SaNtfIdentifierT) 0LL)", "SA_TIME_END", "(-1)") to a value and a C integer type,
//! under x86_64 LP64 rules, so Rust constants can be compared with what C code sees.
//! Anything beyond literals, parentheses, unary minus/plus/complement, casts to integer
//! typedefs and references to other macros is an error: better loud than guessed.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntType {
    pub bits: u32,
    pub signed: bool,
}

impl IntType {
    pub const INT: IntType = IntType {
        bits: 32,
        signed: true,
    };
    pub const UINT: IntType = IntType {
        bits: 32,
        signed: false,
    };
    pub const LONG: IntType = IntType {
        bits: 64,
        signed: true,
    };
    pub const ULONG: IntType = IntType {
        bits: 64,
        signed: false,
    };

    fn min(self) -> i128 {
        if self.signed {
            -(1i128 << (self.bits - 1))
        } else {
            0
        }
    }
    fn max(self) -> i128 {
        if self.signed {
            (1i128 << (self.bits - 1)) - 1
        } else {
            (1i128 << self.bits) - 1
        }
    }
    pub fn holds(self, v: i128) -> bool {
        (self.min()..=self.max()).contains(&v)
    }
    /// C conversion to this type (modulo 2^bits, as gcc does for signed targets too).
    pub fn wrap(self, v: i128) -> i128 {
        let m = 1i128 << self.bits;
        let u = v.rem_euclid(m);
        if self.signed && u > self.max() {
            u - m
        } else {
            u
        }
    }
}

impl std::fmt::Display for IntType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", if self.signed { "i" } else { "u" }, self.bits)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CValue {
    pub value: i128,
    pub ty: IntType,
}

/// The C integer type named by a sequence of type keywords (LP64: long is 64 bits).
pub fn keyword_int_type(words: &[&str]) -> Option<IntType> {
    let mut unsigned = false;
    let mut longs = 0;
    let mut base = None;
    for w in words {
        match *w {
            "unsigned" => unsigned = true,
            "signed" => {}
            "long" => longs += 1,
            "char" | "short" | "int" => base = Some(*w),
            _ => return None,
        }
    }
    let bits = match (base, longs) {
        (Some("char"), 0) => 8,
        (Some("short"), 0) => 16,
        (Some("int") | None, 0) => 32,
        (Some("int") | None, 1 | 2) => 64,
        _ => return None,
    };
    // Plain char is signed on x86_64.
    Some(IntType {
        bits,
        signed: !unsigned,
    })
}

/// Resolves a typedef name (through the record's typedefs) to an integer type.
pub fn typedef_int_type(name: &str, typedefs: &BTreeMap<String, String>) -> Option<IntType> {
    let mut name = name.to_string();
    for _ in 0..16 {
        let words: Vec<&str> = name.split_whitespace().collect();
        if let Some(t) = keyword_int_type(&words) {
            return Some(t);
        }
        if words.first() == Some(&"enum") {
            // gcc gives an enum with no negative enumerators the type unsigned int.
            return Some(IntType::UINT);
        }
        name = typedefs.get(&name)?.clone();
    }
    None
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(String),
    Ident(String),
    P(char),
}

fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Num(text[s..i].to_string()));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(text[s..i].to_string()));
        } else if b"()-+~".contains(&c) {
            out.push(Tok::P(c as char));
            i += 1;
        } else {
            return Err(format!("unsupported character {:?} in {text:?}", c as char));
        }
    }
    Ok(out)
}

/// C11 6.4.4.1: the first type of the suffix's list that holds the value.
fn literal(tok: &str) -> Result<CValue, String> {
    let lower = tok.to_ascii_lowercase();
    let digits_end = lower.trim_end_matches(['u', 'l']).len();
    let (digits, suffix) = lower.split_at(digits_end);
    let (radix, digits, decimal) = if let Some(h) = digits.strip_prefix("0x") {
        (16, h, false)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..], false)
    } else {
        (10, digits, true)
    };
    let value =
        i128::from_str_radix(digits, radix).map_err(|_| format!("bad integer literal {tok:?}"))?;
    let unsigned = suffix.contains('u');
    let longs = suffix.matches('l').count();
    if suffix.len() != longs + usize::from(unsigned) || longs > 2 || suffix.contains("lul") {
        return Err(format!("bad integer suffix in {tok:?}"));
    }
    let candidates: Vec<IntType> = match (unsigned, longs, decimal) {
        (false, 0, true) => vec![IntType::INT, IntType::LONG],
        (false, 0, false) => vec![IntType::INT, IntType::UINT, IntType::LONG, IntType::ULONG],
        (true, 0, _) => vec![IntType::UINT, IntType::ULONG],
        (false, _, true) => vec![IntType::LONG],
        (false, _, false) => vec![IntType::LONG, IntType::ULONG],
        (true, _, _) => vec![IntType::ULONG],
    };
    candidates
        .into_iter()
        .find(|t| t.holds(value))
        .map(|ty| CValue { value, ty })
        .ok_or_else(|| format!("integer literal {tok:?} fits no C type"))
}

struct Eval<'a> {
    toks: Vec<Tok>,
    i: usize,
    macros: &'a BTreeMap<String, String>,
    typedefs: &'a BTreeMap<String, String>,
    depth: usize,
}

impl Eval<'_> {
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.i).cloned();
        self.i += 1;
        t
    }

    /// `( type-name )` at the cursor, if it is one.
    fn cast_type(&self) -> Option<(IntType, usize)> {
        if self.toks.get(self.i) != Some(&Tok::P('(')) {
            return None;
        }
        let mut words = Vec::new();
        let mut j = self.i + 1;
        while let Some(Tok::Ident(w)) = self.toks.get(j) {
            words.push(w.as_str());
            j += 1;
        }
        if self.toks.get(j) != Some(&Tok::P(')')) || words.is_empty() {
            return None;
        }
        let ty = keyword_int_type(&words).or_else(|| {
            if words.len() == 1 && !self.macros.contains_key(words[0]) {
                typedef_int_type(words[0], self.typedefs)
            } else {
                None
            }
        })?;
        Some((ty, j + 1))
    }

    fn unary(&mut self) -> Result<CValue, String> {
        if let Some((ty, after)) = self.cast_type() {
            self.i = after;
            let v = self.unary()?;
            return Ok(CValue {
                value: ty.wrap(v.value),
                ty,
            });
        }
        match self.next() {
            Some(Tok::P('-')) => {
                let v = promote(self.unary()?);
                Ok(CValue {
                    value: v.ty.wrap(-v.value),
                    ty: v.ty,
                })
            }
            Some(Tok::P('+')) => Ok(promote(self.unary()?)),
            Some(Tok::P('~')) => {
                let v = promote(self.unary()?);
                Ok(CValue {
                    value: v.ty.wrap(!v.value),
                    ty: v.ty,
                })
            }
            Some(Tok::P('(')) => {
                let v = self.unary()?;
                match self.next() {
                    Some(Tok::P(')')) => Ok(v),
                    _ => Err("expected ')'".into()),
                }
            }
            Some(Tok::Num(n)) => literal(&n),
            Some(Tok::Ident(name)) => {
                let body = self
                    .macros
                    .get(&name)
                    .ok_or_else(|| format!("unknown identifier {name}"))?;
                if self.depth > 16 {
                    return Err(format!("macro {name} expands too deep"));
                }
                eval_depth(body, self.macros, self.typedefs, self.depth + 1)
            }
            other => Err(format!("unexpected token {other:?}")),
        }
    }
}

/// C integer promotions: anything narrower than int becomes int.
fn promote(v: CValue) -> CValue {
    if v.ty.bits < 32 {
        CValue {
            value: v.value,
            ty: IntType::INT,
        }
    } else {
        v
    }
}

fn eval_depth(
    text: &str,
    macros: &BTreeMap<String, String>,
    typedefs: &BTreeMap<String, String>,
    depth: usize,
) -> Result<CValue, String> {
    let mut e = Eval {
        toks: tokenize(text)?,
        i: 0,
        macros,
        typedefs,
        depth,
    };
    let v = e.unary()?;
    if e.i != e.toks.len() {
        return Err(format!("cannot evaluate {text:?}: unsupported operator"));
    }
    Ok(v)
}

/// `macros` resolves references to other macros; `typedefs` resolves cast types.
pub fn eval(
    text: &str,
    macros: &BTreeMap<String, String>,
    typedefs: &BTreeMap<String, String>,
) -> Result<CValue, String> {
    eval_depth(text, macros, typedefs, 0).map_err(|e| format!("{e} (in {text:?})"))
}

/// The bytes (with the terminating NUL) of a C string literal token text, or None if the
/// text is not a string literal. Adjacent literals are concatenated, as C does.
pub fn c_string(text: &str) -> Option<Result<Vec<u8>, String>> {
    let t = text.trim();
    if !t.starts_with('"') {
        return None;
    }
    Some(c_string_inner(t))
}

fn c_string_inner(t: &str) -> Result<Vec<u8>, String> {
    let b = t.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == b.len() {
            break;
        }
        if b[i] != b'"' {
            return Err(format!("not a plain string literal: {t}"));
        }
        i += 1;
        loop {
            match b.get(i) {
                None => return Err(format!("unterminated string literal: {t}")),
                Some(b'"') => {
                    i += 1;
                    break;
                }
                Some(b'\\') => {
                    let c = *b.get(i + 1).ok_or("dangling backslash")?;
                    i += 2;
                    out.push(match c {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        b'0' => 0,
                        b'\\' | b'"' | b'\'' | b'?' => c,
                        _ => return Err(format!("unsupported escape \\{} in {t}", c as char)),
                    });
                }
                Some(&c) => {
                    out.push(c);
                    i += 1;
                }
            }
        }
    }
    out.push(0);
    Ok(out)
}

#[test]
fn literals_get_their_c_types() {
    let none = BTreeMap::new();
    let ev = |t: &str| eval(t, &none, &none).unwrap();
    assert_eq!(
        ev("0x0020"),
        CValue {
            value: 32,
            ty: IntType::INT
        }
    );
    assert_eq!(
        ev("0X4"),
        CValue {
            value: 4,
            ty: IntType::INT
        }
    );
    assert_eq!(
        ev("0x80000000"),
        CValue {
            value: 1 << 31,
            ty: IntType::UINT
        }
    );
    assert_eq!(
        ev("2147483648"),
        CValue {
            value: 1 << 31,
            ty: IntType::LONG
        }
    );
    assert_eq!(
        ev("0x8000000000000000LL"),
        CValue {
            value: 1 << 63,
            ty: IntType::ULONG
        }
    );
    assert_eq!(
        ev("0x0000000100000000ull"),
        CValue {
            value: 1 << 32,
            ty: IntType::ULONG
        }
    );
    assert_eq!(
        ev("(-1)"),
        CValue {
            value: -1,
            ty: IntType::INT
        }
    );
    assert_eq!(
        ev("-0x1u"),
        CValue {
            value: u32::MAX as i128,
            ty: IntType::UINT
        }
    );
    assert!(eval("1 << 3", &none, &none).is_err());
    assert!(eval("0x1z", &none, &none).is_err());
}

#[test]
fn casts_and_references_resolve_through_the_record() {
    let typedefs: BTreeMap<String, String> = [
        ("SaUint64T", "unsigned long long"),
        ("SaNtfIdentifierT", "SaUint64T"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    let macros: BTreeMap<String, String> = [("A", "0x7FFFFFFFFFFFFFFFLL"), ("B", "A")]
        .into_iter()
        .map(|(a, b)| (a.into(), b.into()))
        .collect();
    assert_eq!(
        eval("((SaNtfIdentifierT) 0LL)", &macros, &typedefs).unwrap(),
        CValue {
            value: 0,
            ty: IntType::ULONG
        }
    );
    assert_eq!(
        eval("((SaNtfIdentifierT) -1)", &macros, &typedefs).unwrap(),
        CValue {
            value: u64::MAX as i128,
            ty: IntType::ULONG
        }
    );
    assert_eq!(
        eval("B", &macros, &typedefs).unwrap(),
        CValue {
            value: i64::MAX as i128,
            ty: IntType::LONG
        }
    );
    assert_eq!(c_string(r#""Sa\"x" "y""#).unwrap().unwrap(), b"Sa\"xy\0");
    assert!(c_string("0x1").is_none());
}
