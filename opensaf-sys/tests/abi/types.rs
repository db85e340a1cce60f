//! Type comparison at the Rust level. C's `__builtin_types_compatible_p` treats an enum as
//! compatible with `unsigned int` (also behind pointers and in parameters), so the C check
//! alone would accept a header that says `SaUint32T` where OpenSAF says `SaAmfHAStateT`.
//! bindgen keeps the two apart (a newtype vs an alias), so the record's C spellings are
//! parsed into one small type tree, bindgen's Rust types into another, and the trees are
//! compared: typedef names, pointer constness, array lengths and signatures must all agree.

use super::rust_src::{render, Tok};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// A typedef/tag name, or a C builtin in bindgen's spelling ("c_uint", "f64", "c_void").
    Named(String),
    /// `const_pointee` is what Rust spells `*const` rather than `*mut`.
    Ptr {
        const_pointee: bool,
        to: Box<Ty>,
    },
    Array(Box<Ty>, u64),
    /// A function pointer, `None` returning void. A C function type compares equal to the
    /// `Option<unsafe extern "C" fn>` bindgen derives from it.
    Fn {
        ret: Option<Box<Ty>>,
        params: Vec<Ty>,
    },
}

impl std::fmt::Display for Ty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ty::Named(n) => write!(f, "{n}"),
            Ty::Ptr { const_pointee, to } => {
                write!(f, "*{} {to}", if *const_pointee { "const" } else { "mut" })
            }
            Ty::Array(t, n) => write!(f, "[{t}; {n}]"),
            Ty::Fn { ret, params } => {
                let ps: Vec<String> = params.iter().map(|p| p.to_string()).collect();
                write!(f, "fn({})", ps.join(", "))?;
                match ret {
                    Some(r) => write!(f, " -> {r}"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// bindgen's name for a C builtin type spelled with keywords.
fn builtin(words: &[&str]) -> Option<&'static str> {
    let mut w: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| *w != "int" || words.len() == 1)
        .collect();
    w.sort_unstable();
    Some(match w.as_slice() {
        ["void"] => "c_void",
        ["char"] => "c_char",
        ["char", "signed"] => "c_schar",
        ["char", "unsigned"] => "c_uchar",
        ["short"] | ["short", "signed"] => "c_short",
        ["short", "unsigned"] => "c_ushort",
        ["int"] | ["signed"] => "c_int",
        ["unsigned"] => "c_uint",
        ["long"] | ["long", "signed"] => "c_long",
        ["long", "unsigned"] => "c_ulong",
        ["long", "long"] | ["long", "long", "signed"] => "c_longlong",
        ["long", "long", "unsigned"] => "c_ulonglong",
        ["float"] => "f32",
        ["double"] => "f64",
        _ => return None,
    })
}

struct CParser {
    toks: Vec<String>,
    i: usize,
}

impl CParser {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.i).map(String::as_str)
    }
    fn eat(&mut self, t: &str) -> bool {
        if self.peek() == Some(t) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, t: &str) -> Result<(), String> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(format!(
                "expected `{t}` at token {} of {:?}",
                self.i,
                self.toks.join(" ")
            ))
        }
    }

    /// specifiers, then `*`s, then one of: `(*)(params)`, `(params)`, `[N]`.
    /// Returns None for the type `void` itself (a return type or `(void)`).
    fn ty(&mut self) -> Result<Option<Ty>, String> {
        let mut is_const = false;
        let mut words = Vec::new();
        let mut named = None;
        while let Some(t) = self.peek() {
            match t {
                "const" | "volatile" => is_const |= t == "const",
                "struct" | "union" | "enum" => {
                    self.i += 1;
                    named = Some(self.peek().ok_or("tag name missing")?.to_string());
                }
                _ if builtin(&[t]).is_some()
                    || t == "signed"
                    || t == "unsigned"
                    || t == "short"
                    || t == "long" =>
                {
                    words.push(t.to_string())
                }
                _ if t.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && named.is_none()
                    && words.is_empty() =>
                {
                    named = Some(t.to_string())
                }
                _ => break,
            }
            self.i += 1;
        }
        let base = match (named, words.is_empty()) {
            (Some(n), true) => n,
            (None, false) => {
                let w: Vec<&str> = words.iter().map(String::as_str).collect();
                builtin(&w)
                    .ok_or_else(|| format!("unknown C type {}", w.join(" ")))?
                    .to_string()
            }
            _ => return Err(format!("cannot read the C type {:?}", self.toks.join(" "))),
        };
        let mut ty = Ty::Named(base);
        let mut void = ty == Ty::Named("c_void".into());
        while self.eat("*") {
            ty = Ty::Ptr {
                const_pointee: is_const,
                to: Box::new(ty),
            };
            void = false;
            is_const = self.eat("const");
        }
        if self.eat("[") {
            let n = self
                .peek()
                .and_then(|n| n.parse().ok())
                .ok_or("array length missing")?;
            self.i += 1;
            self.expect("]")?;
            return Ok(Some(Ty::Array(Box::new(ty), n)));
        }
        let ret = if void {
            None
        } else {
            Some(Box::new(ty.clone()))
        };
        if self.peek() == Some("(") && self.toks.get(self.i + 1).map(String::as_str) == Some("*") {
            self.i += 2;
            self.expect(")")?;
            self.expect("(")?;
            return Ok(Some(Ty::Fn {
                ret,
                params: self.params()?,
            }));
        }
        if self.eat("(") {
            return Ok(Some(Ty::Fn {
                ret,
                params: self.params()?,
            }));
        }
        Ok(if void { None } else { Some(ty) })
    }

    /// Parameters after `(`, through `)`; `(void)` is none.
    fn params(&mut self) -> Result<Vec<Ty>, String> {
        let mut out = Vec::new();
        if self.eat(")") {
            return Ok(out);
        }
        loop {
            match self.ty()? {
                Some(t) => out.push(t),
                None if out.is_empty() && self.peek() == Some(")") => {}
                None => return Err("`void` parameter".into()),
            }
            if self.eat(")") {
                return Ok(out);
            }
            self.expect(",")?;
        }
    }
}

/// Parses a record spelling ("const SaNameT *", "SaUint8T[32]", "void (*)(SaInvocationT)",
/// "SaAisErrorT (SaImmHandleT)"). Top-level qualifiers are dropped, as bindgen drops them.
pub fn parse_c(spelling: &str) -> Result<Ty, String> {
    let mut toks = Vec::new();
    let mut word = String::new();
    for c in spelling.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            toks.push(std::mem::take(&mut word));
        }
        if !c.is_whitespace() {
            toks.push(c.to_string());
        }
    }
    if !word.is_empty() {
        toks.push(word);
    }
    let mut p = CParser { toks, i: 0 };
    let ty = p.ty()?.ok_or("the type void")?;
    if p.i != p.toks.len() {
        return Err(format!("cannot read the C type {spelling:?}"));
    }
    Ok(ty)
}

struct RParser<'a> {
    toks: &'a [Tok],
    i: usize,
}

impl RParser<'_> {
    fn is(&self, k: usize, t: &Tok) -> bool {
        self.toks.get(self.i + k) == Some(t)
    }
    fn ident(&self, k: usize) -> Option<&str> {
        match self.toks.get(self.i + k) {
            Some(Tok::Ident(s)) => Some(s),
            _ => None,
        }
    }
    fn expect(&mut self, t: &Tok) -> Result<(), String> {
        if self.is(0, t) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!(
                "unexpected Rust type shape `{}`",
                render(self.toks)
            ))
        }
    }
    /// `::a::b::c` or `a` -> "c".
    fn path(&mut self) -> Result<String, String> {
        let mut last = None;
        loop {
            if self.is(0, &Tok::P(':')) && self.is(1, &Tok::P(':')) {
                self.i += 2;
            }
            match self.ident(0) {
                Some(s) => {
                    last = Some(s.to_string());
                    self.i += 1;
                }
                None => break,
            }
            if !(self.is(0, &Tok::P(':')) && self.is(1, &Tok::P(':'))) {
                break;
            }
        }
        last.ok_or_else(|| format!("no type name in `{}`", render(self.toks)))
    }

    fn ty(&mut self) -> Result<Ty, String> {
        if self.is(0, &Tok::P('*')) {
            self.i += 1;
            let const_pointee = match self.ident(0) {
                Some("const") => true,
                Some("mut") => false,
                _ => {
                    return Err(format!(
                        "raw pointer without const/mut in `{}`",
                        render(self.toks)
                    ))
                }
            };
            self.i += 1;
            return Ok(Ty::Ptr {
                const_pointee,
                to: Box::new(self.ty()?),
            });
        }
        if self.is(0, &Tok::P('[')) {
            self.i += 1;
            let t = self.ty()?;
            self.expect(&Tok::P(';'))?;
            let n = match self.toks.get(self.i) {
                Some(Tok::Int(n)) => super::rust_src::int_value(n)?,
                _ => return Err(format!("array without length in `{}`", render(self.toks))),
            };
            self.i += 1;
            self.expect(&Tok::P(']'))?;
            return Ok(Ty::Array(
                Box::new(t),
                u64::try_from(n).map_err(|_| "negative array length")?,
            ));
        }
        let name = self.path()?;
        if name != "Option" {
            return Ok(Ty::Named(name));
        }
        // ::std::option::Option<unsafe extern "C" fn(a: T, ...) -> R>
        self.expect(&Tok::P('<'))?;
        for word in ["unsafe", "extern"] {
            self.expect(&Tok::Ident(word.into()))?;
        }
        self.expect(&Tok::Str(b"C".to_vec()))?;
        self.expect(&Tok::Ident("fn".into()))?;
        self.expect(&Tok::P('('))?;
        let mut params = Vec::new();
        while !self.is(0, &Tok::P(')')) {
            if self.ident(0).is_some() && self.is(1, &Tok::P(':')) && !self.is(2, &Tok::P(':')) {
                self.i += 2; // the parameter's name
            }
            params.push(self.ty()?);
            if self.is(0, &Tok::P(',')) {
                self.i += 1;
            }
        }
        self.i += 1;
        let ret = if self.is(0, &Tok::P('-')) && self.is(1, &Tok::P('>')) {
            self.i += 2;
            Some(Box::new(self.ty()?))
        } else {
            None
        };
        // rustfmt's trailing comma when it wraps the generic argument.
        if self.is(0, &Tok::P(',')) {
            self.i += 1;
        }
        self.expect(&Tok::P('>'))?;
        Ok(Ty::Fn { ret, params })
    }
}

/// Parses bindgen's rendering of a type from its tokens.
pub fn parse_rust(toks: &[Tok]) -> Result<Ty, String> {
    let mut p = RParser { toks, i: 0 };
    let ty = p.ty()?;
    if p.i != toks.len() {
        return Err(format!("cannot read the Rust type `{}`", render(toks)));
    }
    Ok(ty)
}

#[test]
fn c_and_rust_spellings_meet() {
    use super::rust_src::tokenize;
    let same = |c: &str, r: &str| {
        let ct = parse_c(c).unwrap();
        let rt = parse_rust(&tokenize(r).unwrap()).unwrap();
        assert_eq!(ct, rt, "{c} vs {r}");
    };
    same("unsigned long long", "::std::os::raw::c_ulonglong");
    same("char *", "*mut ::std::os::raw::c_char");
    same("const char *", "*const ::std::os::raw::c_char");
    same("void *", "*mut ::std::os::raw::c_void");
    same("SaUint16T[129]", "[SaUint16T; 129usize]");
    same(
        "const SaImmAttrValuesT_2 **",
        "*mut *const SaImmAttrValuesT_2",
    );
    same(
        "SaImmAttrValuesT_2 ***",
        "*mut *mut *mut SaImmAttrValuesT_2",
    );
    same(
        "void (*)(SaInvocationT, const SaNameT *)",
        "::std::option::Option<unsafe extern \"C\" fn(invocation: SaInvocationT, n: *const SaNameT)>",
    );
    same(
        "SaAisErrorT (SaImmOiHandleT, const SaImmClassNameT)",
        "::std::option::Option<unsafe extern \"C\" fn(arg1: SaImmOiHandleT, arg2: SaImmClassNameT) -> SaAisErrorT>",
    );
    same(
        "SaAisErrorT (void)",
        "::std::option::Option<unsafe extern \"C\" fn() -> SaAisErrorT>",
    );
    same("struct SaNameT", "SaNameT");
    assert_ne!(
        parse_c("SaUint32T").unwrap(),
        parse_c("SaAmfHAStateT").unwrap()
    );
    assert_ne!(
        parse_c("SaNameT *").unwrap(),
        parse_c("const SaNameT *").unwrap()
    );
    assert!(parse_c("union (unnamed union at /x.h:1:2)").is_err());
}
