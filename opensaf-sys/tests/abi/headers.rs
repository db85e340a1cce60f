//! Names the project's C headers declare that bindgen's output does not carry: macros it
//! cannot evaluate (casts such as SA_NTF_IDENTIFIER_UNUSED) and the function declarations
//! themselves (bindgen emits only the `*_fn` types wrapper.h derives). A rough scanner is
//! enough: the headers are ours, small, and one declaration per statement.

use std::collections::BTreeSet;
use std::path::Path;

#[derive(Debug, Default)]
pub struct HeaderNames {
    /// Object-like macros, include guards excluded.
    pub macros: BTreeSet<String>,
    /// Functions declared `extern`.
    pub functions: BTreeSet<String>,
    /// Typedef names.
    pub typedefs: BTreeSet<String>,
    /// File names scanned.
    pub files: Vec<String>,
}

fn strip_comments(src: &str) -> String {
    let mut out = String::new();
    let mut rest = src;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("/*") {
            let end = r.find("*/").map_or(r.len(), |e| e + 2);
            out.push(' ');
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("//") {
            rest = &r[r.find('\n').unwrap_or(r.len())..];
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out.replace("\\\n", " ")
}

fn ident_at_end(s: &str) -> Option<String> {
    let s = s.trim_end();
    let start = s
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let id = &s[start..];
    (!id.is_empty() && !id.starts_with(|c: char| c.is_ascii_digit())).then(|| id.to_string())
}

pub fn scan(include_dir: &Path) -> Result<HeaderNames, String> {
    let mut names = HeaderNames::default();
    let mut files: Vec<_> = std::fs::read_dir(include_dir)
        .map_err(|e| format!("{}: {e}", include_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "h"))
        .collect();
    files.sort();
    for path in files {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        names
            .files
            .push(path.file_name().unwrap().to_string_lossy().into_owned());
        scan_text(&strip_comments(&text), &mut names);
    }
    Ok(names)
}

fn scan_text(text: &str, names: &mut HeaderNames) {
    let mut guards = BTreeSet::new();
    let mut code = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        let Some(directive) = t.strip_prefix('#') else {
            code.push_str(line);
            code.push('\n');
            continue;
        };
        let mut words = directive.split_whitespace();
        match (words.next(), words.next()) {
            (Some("ifndef"), Some(name)) => {
                guards.insert(name.to_string());
            }
            (Some("define"), Some(name_and_rest)) => {
                let name: String = name_and_rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let function_like = name_and_rest[name.len()..].starts_with('(');
                let body_empty = words.next().is_none() && name_and_rest.len() == name.len();
                // An include guard is a bodiless define of the name its file just tested.
                if !(function_like || body_empty && guards.contains(&name)) {
                    names.macros.insert(name);
                }
            }
            _ => {}
        }
    }
    // Each statement with the delimiter before it: `} Name` of `typedef struct X { ... } Name;`
    // is the only bare identifier that follows a closing brace.
    let mut after = ';';
    let mut rest = code.as_str();
    while !rest.is_empty() {
        let end = rest.find([';', '{', '}']).unwrap_or(rest.len());
        let stmt = rest[..end].split_whitespace().collect::<Vec<_>>().join(" ");
        let delim = rest[end..].chars().next().unwrap_or(';');
        rest = rest.get(end + 1..).unwrap_or("");
        let before = std::mem::replace(&mut after, delim);
        if let Some(decl) = stmt.strip_prefix("extern ") {
            if decl.starts_with('"') {
                continue;
            }
            if let Some(name) = decl.find('(').and_then(|i| ident_at_end(&decl[..i])) {
                names.functions.insert(name);
            }
        } else if let Some(decl) = stmt.strip_prefix("typedef ") {
            let words: Vec<&str> = decl.split_whitespace().collect();
            if delim == '{' && matches!(words.as_slice(), ["struct" | "union" | "enum", _]) {
                // `typedef struct X {`: the name follows the closing brace.
                continue;
            }
            // `typedef RET (*Name)(...)` or `typedef T Name`.
            let name = match decl.find("(*") {
                Some(i) => {
                    ident_at_end(&decl[i + 2..decl[i..].find(')').map_or(decl.len(), |j| i + j)])
                }
                None => ident_at_end(decl),
            };
            names.typedefs.extend(name);
        } else if before == '}' && ident_at_end(&stmt).is_some_and(|id| id == stmt) {
            names.typedefs.insert(stmt);
        }
    }
}

#[test]
fn finds_macros_functions_and_typedefs() {
    let src = "#ifndef G_H\n#define G_H\n#define A 0x1\n#define F(x) x\n#define S \"s\" /* c */\n\
               #ifdef __cplusplus\nextern \"C\" {\n#endif\n\
               typedef unsigned int U;\ntypedef enum E { E1 = 1 } E;\n\
               typedef struct R {\n    U a;\n    U *b;\n} R;\n\
               typedef void (*Cb)(U a,\n    U b);\n\
               extern U f(U a,\n           R *r);\nextern const char *g(void);\n#endif\n";
    let mut n = HeaderNames::default();
    scan_text(&strip_comments(src), &mut n);
    assert_eq!(n.macros.iter().collect::<Vec<_>>(), ["A", "S"]);
    assert_eq!(n.functions.iter().collect::<Vec<_>>(), ["f", "g"]);
    assert_eq!(n.typedefs.iter().collect::<Vec<_>>(), ["Cb", "E", "R", "U"]);
}
