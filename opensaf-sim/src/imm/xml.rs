//! A small XML reader for the IMM XML subset: elements, attributes, text, comments,
//! processing instructions, CDATA and the predefined/numeric entities. No DTDs.

use std::fmt;

/// An element with its attributes and children (text children are concatenated in
/// `text`; IMM XML never mixes text and elements meaningfully).
#[derive(Debug, Clone, Default)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
    pub line: usize,
}

impl Element {
    /// Local name without a namespace prefix (`imm:IMM-contents` -> `IMM-contents`).
    pub fn local(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.local() == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.local() == name)
    }

    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }
}

/// A syntax error with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    pub line: usize,
    pub msg: String,
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.msg)
    }
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

/// Nesting deeper than this is refused (bounded recursion on hostile input).
const MAX_DEPTH: usize = 64;

impl<'a> Parser<'a> {
    fn line(&self) -> usize {
        self.s[..self.pos].bytes().filter(|&b| b == b'\n').count() + 1
    }

    fn err<T>(&self, msg: impl Into<String>) -> Result<T, XmlError> {
        Err(XmlError {
            line: self.line(),
            msg: msg.into(),
        })
    }

    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn skip_ws(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start().len();
    }

    fn skip_until(&mut self, end: &str, what: &str) -> Result<&'a str, XmlError> {
        match self.rest().find(end) {
            Some(i) => {
                let body = &self.rest()[..i];
                self.pos += i + end.len();
                Ok(body)
            }
            None => self.err(format!("unterminated {what}")),
        }
    }

    /// Skips comments, processing instructions and doctype declarations.
    fn skip_misc(&mut self) -> Result<(), XmlError> {
        loop {
            self.skip_ws();
            let r = self.rest();
            if r.starts_with("<!--") {
                self.pos += 4;
                self.skip_until("-->", "comment")?;
            } else if r.starts_with("<?") {
                self.pos += 2;
                self.skip_until("?>", "processing instruction")?;
            } else if r.starts_with("<!DOCTYPE") {
                self.skip_until(">", "doctype")?;
            } else {
                return Ok(());
            }
        }
    }

    fn name(&mut self) -> Result<String, XmlError> {
        let r = self.rest();
        let n = r
            .find(|c: char| c.is_whitespace() || matches!(c, '>' | '/' | '=' | '<'))
            .unwrap_or(r.len());
        if n == 0 {
            return self.err("expected a name");
        }
        self.pos += n;
        Ok(r[..n].to_string())
    }

    fn element(&mut self, depth: usize) -> Result<Element, XmlError> {
        if depth > MAX_DEPTH {
            return self.err("elements nested too deeply");
        }
        let line = self.line();
        if !self.rest().starts_with('<') {
            return self.err("expected '<'");
        }
        self.pos += 1;
        let name = self.name()?;
        let mut el = Element {
            name,
            line,
            ..Default::default()
        };
        loop {
            self.skip_ws();
            let r = self.rest();
            if r.starts_with("/>") {
                self.pos += 2;
                return Ok(el);
            }
            if r.starts_with('>') {
                self.pos += 1;
                break;
            }
            if r.is_empty() {
                return self.err(format!("unterminated tag <{}>", el.name));
            }
            let key = self.name()?;
            self.skip_ws();
            if !self.rest().starts_with('=') {
                return self.err(format!("attribute {key} has no value"));
            }
            self.pos += 1;
            self.skip_ws();
            let q = match self.rest().chars().next() {
                Some(q @ ('"' | '\'')) => q,
                _ => return self.err(format!("attribute {key}: value must be quoted")),
            };
            self.pos += 1;
            let raw = match self.rest().find(q) {
                Some(i) => &self.rest()[..i],
                None => return self.err("unterminated attribute value"),
            };
            self.pos += raw.len() + 1;
            let v = self.unescape(raw)?;
            el.attrs.push((key, v));
        }
        // Content.
        loop {
            let r = self.rest();
            if r.is_empty() {
                return self.err(format!("element <{}> is not closed", el.name));
            }
            if r.starts_with("</") {
                self.pos += 2;
                let close = self.name()?;
                if close != el.name {
                    return self.err(format!("</{close}> closes <{}>", el.name));
                }
                self.skip_ws();
                if !self.rest().starts_with('>') {
                    return self.err("expected '>'");
                }
                self.pos += 1;
                return Ok(el);
            } else if r.starts_with("<!--") {
                self.pos += 4;
                self.skip_until("-->", "comment")?;
            } else if r.starts_with("<![CDATA[") {
                self.pos += 9;
                let body = self.skip_until("]]>", "CDATA section")?;
                el.text.push_str(body);
            } else if r.starts_with("<?") {
                self.pos += 2;
                self.skip_until("?>", "processing instruction")?;
            } else if r.starts_with('<') {
                let child = self.element(depth + 1)?;
                el.children.push(child);
            } else {
                let n = r.find('<').unwrap_or(r.len());
                let t = self.unescape(&r[..n])?;
                self.pos += n;
                el.text.push_str(&t);
            }
        }
    }

    fn unescape(&self, raw: &str) -> Result<String, XmlError> {
        if !raw.contains('&') {
            return Ok(raw.to_string());
        }
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(i) = rest.find('&') {
            out.push_str(&rest[..i]);
            rest = &rest[i + 1..];
            let Some(end) = rest.find(';') else {
                return self.err("'&' without ';'");
            };
            let ent = &rest[..end];
            rest = &rest[end + 1..];
            let c = match ent {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let code = if let Some(h) = ent.strip_prefix("#x").or(ent.strip_prefix("#X")) {
                        u32::from_str_radix(h, 16).ok()
                    } else if let Some(d) = ent.strip_prefix('#') {
                        d.parse().ok()
                    } else {
                        None
                    };
                    match code.and_then(char::from_u32) {
                        Some(c) => c,
                        None => return self.err(format!("unknown entity &{ent};")),
                    }
                }
            };
            out.push(c);
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// Parses a whole document and returns its root element.
pub fn parse(s: &str) -> Result<Element, XmlError> {
    let s = s.strip_prefix('\u{feff}').unwrap_or(s);
    let mut p = Parser { s, pos: 0 };
    p.skip_misc()?;
    let root = p.element(0)?;
    p.skip_misc()?;
    if !p.rest().trim().is_empty() {
        return p.err("content after the root element");
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic() {
        let doc = r#"<?xml version="1.0"?>
<!-- c -->
<imm:IMM-contents xmlns:imm="x">
  <object class="A"><dn>a=1\,2</dn><attr><name>n</name><value>&lt;v&amp;&#65;</value></attr></object>
  <empty/>
</imm:IMM-contents>"#;
        let r = parse(doc).unwrap();
        assert_eq!(r.local(), "IMM-contents");
        let o = r.child("object").unwrap();
        assert_eq!(o.attr("class"), Some("A"));
        assert_eq!(o.child_text("dn"), Some(r"a=1\,2"));
        assert_eq!(o.child("attr").unwrap().child_text("value"), Some("<v&A"));
    }

    #[test]
    fn errors_have_lines() {
        let e = parse("<a>\n<b></c></a>").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(parse("<a>").is_err());
        assert!(parse("<a></a><b/>").is_err());
    }
}
