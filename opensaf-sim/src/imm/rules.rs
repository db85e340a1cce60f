//! IMM naming and class-definition rules, as real IMM enforces them.

use opensaf_sys::SaAisErrorT as Ais;

use super::model::{flags, AttrDef, Category, ClassDef, ValueType};
use super::ImmError;

/// Longest RDN and DN without long-DN support.
pub const MAX_RDN: usize = 64;
pub const MAX_DN: usize = 255;
/// Longest DN with long-DN support.
pub const MAX_LONG_DN: usize = 2048;

/// Index of the first comma not preceded by a backslash.
pub fn first_unescaped_comma(dn: &str) -> Option<usize> {
    let b = dn.as_bytes();
    (0..b.len()).find(|&i| b[i] == b',' && (i == 0 || b[i - 1] != b'\\'))
}

/// The parent DN ("" for a top-level object).
pub fn parent_of(dn: &str) -> &str {
    match first_unescaped_comma(dn) {
        Some(i) => &dn[i + 1..],
        None => "",
    }
}

/// The RDN (`attr=value`) of a DN.
pub fn rdn_of(dn: &str) -> &str {
    match first_unescaped_comma(dn) {
        Some(i) => &dn[..i],
        None => dn,
    }
}

/// Checks one RDN: `attr=value`, printable, no space, no unescaped comma.
pub fn check_rdn(rdn: &str) -> Result<(), String> {
    if rdn.is_empty() {
        return Err("empty RDN".into());
    }
    if let Some(c) = rdn.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(format!(
            "RDN '{rdn}' contains a space or non-printable character {c:?}"
        ));
    }
    if first_unescaped_comma(rdn).is_some() {
        return Err(format!("RDN '{rdn}' contains an unescaped comma"));
    }
    match rdn.find('=') {
        Some(i) if i > 0 => Ok(()),
        _ => Err(format!("RDN '{rdn}' is not of the form attr=value")),
    }
}

/// Checks every RDN of a DN (used for parents and for DNs in XML).
pub fn check_dn(dn: &str) -> Result<(), String> {
    let mut rest = dn;
    loop {
        check_rdn(rdn_of(rest))?;
        match first_unescaped_comma(rest) {
            Some(i) => rest = &rest[i + 1..],
            None => return Ok(()),
        }
    }
}

/// Length rules for a new object's RDN and DN.
pub fn check_lengths(rdn: &str, dn: &str, long_dns: bool) -> Result<(), ImmError> {
    let (max_rdn, max_dn) = if long_dns {
        (MAX_LONG_DN, MAX_LONG_DN)
    } else {
        (MAX_RDN, MAX_DN)
    };
    if rdn.len() > max_rdn {
        return Err(ImmError::new(
            Ais::INVALID_PARAM,
            format!("RDN is {} characters, the limit is {max_rdn}", rdn.len()),
        ));
    }
    if dn.len() > max_dn {
        return Err(ImmError::new(
            Ais::NAME_TOO_LONG,
            format!("DN is {} characters, the limit is {max_dn}", dn.len()),
        ));
    }
    Ok(())
}

/// The rules real IMM applies when a class is created.
pub fn check_class(c: &ClassDef) -> Result<(), String> {
    let cname = &c.name;
    if cname.is_empty() || !cname.chars().all(|ch| ch.is_ascii_graphic()) {
        return Err(format!("class name '{cname}' is empty or not printable"));
    }
    let rdn = c
        .attrs
        .first()
        .ok_or_else(|| format!("class {cname}: no RDN attribute"))?;
    if !rdn.is(flags::RDN) {
        return Err(format!("class {cname}: first attribute is not the RDN"));
    }
    let mut seen = std::collections::HashSet::new();
    for a in &c.attrs {
        let an = &a.name;
        if an.is_empty() || !an.chars().all(|ch| ch.is_ascii_graphic()) {
            return Err(format!(
                "class {cname}: attribute name '{an}' is empty or not printable"
            ));
        }
        if an.starts_with("SaImmAttr") {
            return Err(format!("class {cname}: attribute {an} is reserved by IMM"));
        }
        if !seen.insert(an.as_str()) {
            return Err(format!("class {cname}: attribute {an} defined twice"));
        }
        let config = a.is(flags::CONFIG);
        let runtime = a.is(flags::RUNTIME);
        if config == runtime {
            return Err(format!(
                "class {cname}: attribute {an} must be exactly one of SA_CONFIG or SA_RUNTIME"
            ));
        }
        if c.category == Category::Runtime && config {
            return Err(format!(
                "class {cname}: runtime class cannot have the configuration attribute {an}"
            ));
        }
        if runtime && (a.is(flags::WRITABLE) || a.is(flags::INITIALIZED)) {
            return Err(format!(
                "class {cname}: runtime attribute {an} cannot be SA_WRITABLE or SA_INITIALIZED"
            ));
        }
        if config && (a.is(flags::CACHED) || a.is(flags::PERSISTENT)) {
            return Err(format!(
                "class {cname}: configuration attribute {an} cannot be SA_CACHED or SA_PERSISTENT"
            ));
        }
        if a.is(flags::RDN) && !std::ptr::eq(a, rdn) {
            return Err(format!("class {cname}: more than one RDN attribute"));
        }
        if a.is(flags::NO_DUPLICATES) && !a.is(flags::MULTI_VALUE) {
            return Err(format!(
                "class {cname}: {an} has SA_NO_DUPLICATES but is single-valued"
            ));
        }
        if a.is(flags::INITIALIZED) && a.default.is_some() {
            return Err(format!(
                "class {cname}: SA_INITIALIZED attribute {an} has a default"
            ));
        }
        if let Some(d) = &a.default {
            if d.vtype() != a.vtype {
                return Err(format!("class {cname}: default of {an} has the wrong type"));
            }
        }
    }
    // As OpenSAF 5.21.03 refuses it (class create INVALID_PARAM): a persistent runtime
    // object needs a persistent RDN.
    if c.category == Category::Runtime
        && c.attrs.iter().any(|a| a.is(flags::PERSISTENT))
        && !rdn.is(flags::PERSISTENT)
    {
        return Err(format!(
            "class {cname}: a runtime class with SA_PERSISTENT attributes needs an SA_PERSISTENT RDN"
        ));
    }
    check_rdn_attr(cname, c.category, rdn)
}

fn check_rdn_attr(cname: &str, cat: Category, rdn: &AttrDef) -> Result<(), String> {
    if !matches!(rdn.vtype, ValueType::String | ValueType::Name) {
        return Err(format!(
            "class {cname}: RDN {} must be SA_STRING_T or SA_NAME_T, not {}",
            rdn.name,
            rdn.vtype.xml_name()
        ));
    }
    if rdn.is(flags::MULTI_VALUE) {
        return Err(format!(
            "class {cname}: RDN {} cannot be SA_MULTI_VALUE",
            rdn.name
        ));
    }
    if rdn.default.is_some() {
        return Err(format!(
            "class {cname}: RDN {} cannot have a default",
            rdn.name
        ));
    }
    match cat {
        Category::Config if !rdn.is(flags::CONFIG) => Err(format!(
            "class {cname}: RDN of a configuration class must be SA_CONFIG"
        )),
        Category::Runtime if !rdn.is(flags::CACHED) => Err(format!(
            "class {cname}: RDN {} of a runtime class must be SA_CACHED",
            rdn.name
        )),
        _ => Ok(()),
    }
}

/// Fixes flags the way IMM does when a class is created (PERSISTENT implies CACHED).
pub fn normalize_flags(a: &mut AttrDef) {
    if a.is(flags::PERSISTENT) {
        a.flags |= flags::CACHED;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_comma() {
        let dn = r"safMemberCompType=safVersion=1\,safCompType=X,safVersion=1,safSuType=Y";
        assert_eq!(rdn_of(dn), r"safMemberCompType=safVersion=1\,safCompType=X");
        assert_eq!(parent_of(dn), "safVersion=1,safSuType=Y");
        assert!(check_dn(dn).is_ok());
        assert!(check_rdn("a=b,c").is_err());
        assert!(check_rdn("a=b c").is_err());
        assert!(check_rdn(r"a=b\,c").is_ok());
        assert!(check_rdn("novalue").is_err());
    }
}
