//! IMM distinguished names: `rdnAttr=value,parentRdn=value,...`.
//!
//! Interface names may contain `,` `=` and `\`; inside an RDN value those are written with a
//! backslash (`\,`), which IMM accepts while an unescaped comma is SA_AIS_ERR_INVALID_PARAM.
//! The parent DN starts at the first comma not preceded by a backslash.

use std::fmt;

/// Longest RDN IMM takes without long DNs.
pub const MAX_RDN: usize = 64;
/// Longest DN without long DNs (`SA_MAX_UNEXTENDED_NAME_LENGTH` - 1).
pub const MAX_DN: usize = 255;
/// Longest DN with `SA_ENABLE_EXTENDED_NAMES=1` and IMM `longDnsAllowed=1`.
pub const MAX_LONG_DN: usize = 2048;

/// Why a name cannot be an IMM DN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnError {
    Empty,
    /// A byte IMM names cannot hold (space, control, non-ASCII).
    BadChar {
        name: String,
        byte: u8,
    },
    /// An RDN without `attr=`.
    NoAttr(String),
    RdnTooLong {
        rdn: String,
        max: usize,
    },
    DnTooLong {
        len: usize,
        max: usize,
    },
    /// A trailing lone backslash.
    DanglingEscape(String),
    /// A value ending in a backslash: IMM would read the separator after it as escaped.
    TrailingBackslash(String),
}

impl fmt::Display for DnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DnError::Empty => write!(f, "empty DN or RDN value"),
            DnError::BadChar { name, byte } => write!(
                f,
                "'{name}' cannot be used in an IMM name: byte 0x{byte:02x} is not a printable, non-space ASCII character"
            ),
            DnError::NoAttr(r) => write!(f, "RDN '{r}' has no 'attribute=' part"),
            DnError::RdnTooLong { rdn, max } => {
                write!(f, "RDN '{rdn}' is {} characters, IMM allows {max}", rdn.len())
            }
            DnError::DnTooLong { len, max } => write!(
                f,
                "DN is {len} characters, IMM allows {max}{}",
                if *max < MAX_LONG_DN {
                    " (enable long DNs: --long-dns with IMM longDnsAllowed=1)"
                } else {
                    ""
                }
            ),
            DnError::DanglingEscape(s) => write!(f, "'{s}' ends with a lone backslash"),
            DnError::TrailingBackslash(s) => write!(
                f,
                "'{s}' ends with a backslash, which IMM would take as escaping the comma after it"
            ),
        }
    }
}

impl std::error::Error for DnError {}

/// Lossy, printable rendering of raw bytes for error messages.
fn show(bytes: &[u8]) -> String {
    bytes
        .iter()
        .flat_map(|b| std::ascii::escape_default(*b))
        .map(char::from)
        .collect()
}

fn check_chars(raw: &[u8]) -> Result<(), DnError> {
    match raw.iter().find(|b| !b.is_ascii_graphic()) {
        Some(&byte) => Err(DnError::BadChar {
            name: show(raw),
            byte,
        }),
        None => Ok(()),
    }
}

/// Escapes an RDN value: `,` `=` `\` get a backslash. Rejects bytes IMM cannot hold.
pub fn escape_value(raw: &[u8]) -> Result<String, DnError> {
    if raw.is_empty() {
        return Err(DnError::Empty);
    }
    check_chars(raw)?;
    if raw.ends_with(b"\\") {
        // IMM takes a comma right after a backslash as part of the value, so the separator
        // after a value ending in a backslash would vanish and the object hang under the
        // wrong parent. No escaping can avoid that: refuse the name.
        return Err(DnError::TrailingBackslash(show(raw)));
    }
    let mut out = String::with_capacity(raw.len() + 4);
    for &b in raw {
        if matches!(b, b',' | b'=' | b'\\') {
            out.push('\\');
        }
        out.push(b as char);
    }
    Ok(out)
}

/// Reverses [`escape_value`].
pub fn unescape_value(escaped: &str) -> Result<String, DnError> {
    let mut out = String::with_capacity(escaped.len());
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n) => out.push(n),
                None => return Err(DnError::DanglingEscape(escaped.to_string())),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Byte index of the first comma not escaped by a backslash.
fn first_separator(s: &str) -> Option<usize> {
    // IMM's own rule: any comma right after a backslash belongs to the value (so `\\,` is
    // not "escaped backslash, then separator"; see [`escape_value`]).
    let b = s.as_bytes();
    (0..b.len()).find(|&i| b[i] == b',' && (i == 0 || b[i - 1] != b'\\'))
}

/// A validated DN in its escaped (wire) form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dn(String);

impl Dn {
    /// Validates an escaped DN against IMM's rules; `max` is [`MAX_DN`] or [`MAX_LONG_DN`].
    pub fn parse(s: &str, max: usize) -> Result<Dn, DnError> {
        if s.is_empty() {
            return Err(DnError::Empty);
        }
        check_chars(s.as_bytes())?;
        if s.len() > max {
            return Err(DnError::DnTooLong { len: s.len(), max });
        }
        let mut rest = s;
        loop {
            let (rdn, tail) = match first_separator(rest) {
                Some(i) => (&rest[..i], Some(&rest[i + 1..])),
                None => (rest, None),
            };
            validate_rdn(rdn, max)?;
            match tail {
                Some(t) => rest = t,
                None => break,
            }
        }
        Ok(Dn(s.to_string()))
    }

    /// `attr=<escaped raw>` under `parent` (or at the root).
    pub fn child(
        parent: Option<&Dn>,
        attr: &str,
        raw_value: &[u8],
        max: usize,
    ) -> Result<Dn, DnError> {
        let rdn = format!("{attr}={}", escape_value(raw_value)?);
        validate_rdn(&rdn, max)?;
        let s = match parent {
            Some(p) => format!("{rdn},{}", p.0),
            None => rdn,
        };
        if s.len() > max {
            return Err(DnError::DnTooLong { len: s.len(), max });
        }
        Ok(Dn(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first RDN (`attr=value`, still escaped).
    pub fn rdn(&self) -> &str {
        first_separator(&self.0).map_or(&self.0, |i| &self.0[..i])
    }

    /// The unescaped value of the first RDN.
    pub fn rdn_value(&self) -> String {
        let rdn = self.rdn();
        let v = rdn.split_once('=').map_or(rdn, |(_, v)| v);
        // A parsed Dn never ends in a lone backslash.
        unescape_value(v).unwrap_or_else(|_| v.to_string())
    }

    /// The parent DN, or None at the root.
    pub fn parent(&self) -> Option<Dn> {
        first_separator(&self.0).map(|i| Dn(self.0[i + 1..].to_string()))
    }
}

fn validate_rdn(rdn: &str, max_dn: usize) -> Result<(), DnError> {
    let (attr, value) = rdn
        .split_once('=')
        .ok_or_else(|| DnError::NoAttr(rdn.to_string()))?;
    if attr.is_empty() {
        return Err(DnError::NoAttr(rdn.to_string()));
    }
    if value.is_empty() {
        return Err(DnError::Empty);
    }
    if value.ends_with('\\') && !value.ends_with("\\\\") {
        return Err(DnError::DanglingEscape(rdn.to_string()));
    }
    // Long DNs lift the RDN limit too only in the sense that the whole DN may be longer;
    // IMM keeps the 64-character RDN limit unless long DNs are enabled.
    let max_rdn = if max_dn > MAX_DN { max_dn } else { MAX_RDN };
    if rdn.len() > max_rdn {
        return Err(DnError::RdnTooLong {
            rdn: rdn.to_string(),
            max: max_rdn,
        });
    }
    Ok(())
}

impl fmt::Display for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_in_values_are_escaped_and_round_trip() {
        let node = Dn::parse("macSyncNodeId=SC-1", MAX_DN).unwrap();
        let dn = Dn::child(Some(&node), "macSyncInterfaceId", b"a,b=c\\d", MAX_DN).unwrap();
        assert_eq!(
            dn.as_str(),
            "macSyncInterfaceId=a\\,b\\=c\\\\d,macSyncNodeId=SC-1"
        );
        assert_eq!(dn.rdn(), "macSyncInterfaceId=a\\,b\\=c\\\\d");
        assert_eq!(dn.rdn_value(), "a,b=c\\d");
        assert_eq!(dn.parent().unwrap(), node);
        assert_eq!(Dn::parse(dn.as_str(), MAX_DN).unwrap(), dn);
    }

    #[test]
    fn parent_starts_at_first_unescaped_comma() {
        let dn = Dn::parse(
            "safMemberCompType=safVersion=1\\,safCompType=X,safVersion=1,safSuType=Y",
            MAX_DN,
        )
        .unwrap();
        assert_eq!(dn.parent().unwrap().as_str(), "safVersion=1,safSuType=Y");
        assert_eq!(dn.rdn_value(), "safVersion=1,safCompType=X");
        // IMM's rule: a comma right after a backslash is never a separator.
        let dn = Dn::parse("a=x\\\\,b=y,c=z", MAX_DN).unwrap();
        assert_eq!(dn.parent().unwrap().as_str(), "c=z");
        // A backslash followed by a comma in a value survives the round trip.
        let node = Dn::parse("n=1", MAX_DN).unwrap();
        let dn = Dn::child(Some(&node), "i", b"a\\,b", MAX_DN).unwrap();
        assert_eq!(dn.as_str(), "i=a\\\\\\,b,n=1");
        assert_eq!(dn.parent().unwrap(), node);
        assert_eq!(dn.rdn_value(), "a\\,b");
        // A value ending in a backslash cannot be written unambiguously.
        let e = Dn::child(Some(&node), "i", b"x\\", MAX_DN).unwrap_err();
        assert!(matches!(e, DnError::TrailingBackslash(_)), "{e}");
        assert!(e.to_string().contains("ends with a backslash"));
        assert_eq!(Dn::parse("a=1", MAX_DN).unwrap().parent(), None);
    }

    #[test]
    fn unprintable_space_and_non_ascii_are_refused_with_a_clear_message() {
        for raw in [&b"eth 0"[..], b"eth\t0", b"eth\xff", b"\x01"] {
            let e = Dn::child(None, "x", raw, MAX_DN).unwrap_err();
            assert!(matches!(e, DnError::BadChar { .. }), "{raw:?}: {e}");
            assert!(e.to_string().contains("cannot be used in an IMM name"));
        }
        assert_eq!(
            Dn::child(None, "x", b"", MAX_DN).unwrap_err(),
            DnError::Empty
        );
        assert!(matches!(
            Dn::parse("novalue", MAX_DN),
            Err(DnError::NoAttr(_))
        ));
        assert!(matches!(Dn::parse("a=b,", MAX_DN), Err(DnError::NoAttr(_))));
        assert!(matches!(
            Dn::parse("a=b\\", MAX_DN),
            Err(DnError::DanglingEscape(_))
        ));
    }

    #[test]
    fn length_limits_follow_imm() {
        // RDN of exactly 64 characters is fine, 65 is not.
        let v64 = "v".repeat(64 - 2);
        assert!(Dn::child(None, "x", v64.as_bytes(), MAX_DN).is_ok());
        let v65 = "v".repeat(65 - 2);
        assert!(matches!(
            Dn::child(None, "x", v65.as_bytes(), MAX_DN),
            Err(DnError::RdnTooLong { max: 64, .. })
        ));
        // A DN of 256 characters made of short RDNs.
        let parent = Dn::parse(
            &["a=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"; 5].join(","),
            MAX_DN,
        )
        .unwrap();
        let long = Dn::child(Some(&parent), "x", "y".repeat(60).as_bytes(), MAX_DN).unwrap_err();
        assert!(
            matches!(long, DnError::DnTooLong { max: 255, .. }),
            "{long}"
        );
        assert!(long.to_string().contains("long DNs"));
        assert!(Dn::child(Some(&parent), "x", "y".repeat(60).as_bytes(), MAX_LONG_DN).is_ok());
        let huge = "a=".to_string() + &"b".repeat(MAX_LONG_DN);
        assert!(matches!(
            Dn::parse(&huge, MAX_LONG_DN),
            Err(DnError::DnTooLong { .. })
        ));
    }
}
