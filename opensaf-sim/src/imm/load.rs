//! Loading IMM XML (`immcfg -f`) and changing configuration objects (`immcfg -a`, `-d`),
//! with the checks real IMM makes. A file is applied all or nothing.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::journal::Op;
use super::model::{flags, AttrDef, Category, ClassDef, Value, ValueType};
use super::rules;
use super::state::ImmState;
use super::xml::{self, Element};

fn parse_flags(el: &Element, what: &str) -> Result<u64, String> {
    let mut f = 0;
    for fl in el.children_named("flag") {
        let t = fl.text.trim();
        match super::model::flags::NAMES.iter().find(|(n, _)| *n == t) {
            Some((_, v)) => f |= v,
            None => return Err(format!("line {}: {what}: unknown flag '{t}'", fl.line)),
        }
    }
    Ok(f)
}

fn parse_attr_def(el: &Element, class: &str, rdn: bool) -> Result<AttrDef, String> {
    let line = el.line;
    let name = el
        .child_text("name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| format!("line {line}: class {class}: attribute without <name>"))?
        .to_string();
    let what = format!("class {class}, attribute {name}");
    let tname = el
        .child_text("type")
        .ok_or_else(|| format!("line {line}: {what}: no <type>"))?;
    let vtype = ValueType::from_xml_name(tname)
        .ok_or_else(|| format!("line {line}: {what}: unknown type '{tname}'"))?;
    let mut f = parse_flags(el, &what)?;
    match el.child_text("category") {
        Some("SA_CONFIG") => f |= flags::CONFIG,
        Some("SA_RUNTIME") => f |= flags::RUNTIME,
        Some(other) => return Err(format!("line {line}: {what}: unknown category '{other}'")),
        None => return Err(format!("line {line}: {what}: no <category>")),
    }
    if rdn {
        f |= flags::RDN;
    } else if f & flags::RDN != 0 {
        return Err(format!("line {line}: {what}: SA_RDN outside <rdn>"));
    }
    let default = match el.child_text("default-value") {
        Some(d) => Some(
            Value::parse(vtype, d, false)
                .map_err(|e| format!("line {line}: {what}: default {e}"))?,
        ),
        None => None,
    };
    let mut a = AttrDef {
        name,
        vtype,
        flags: f,
        default,
    };
    rules::normalize_flags(&mut a);
    Ok(a)
}

/// Parses and checks one `<class>`.
pub fn parse_class(el: &Element) -> Result<ClassDef, String> {
    let line = el.line;
    let name = el
        .attr("name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| format!("line {line}: <class> without a name"))?;
    let category = match el.child_text("category") {
        Some("SA_CONFIG") => Category::Config,
        Some("SA_RUNTIME") => Category::Runtime,
        Some(o) => return Err(format!("line {line}: class {name}: unknown category '{o}'")),
        None => return Err(format!("line {line}: class {name}: no <category>")),
    };
    let rdns: Vec<&Element> = el.children_named("rdn").collect();
    if rdns.len() != 1 {
        return Err(format!(
            "line {line}: class {name}: needs exactly one <rdn>"
        ));
    }
    let mut attrs = vec![parse_attr_def(rdns[0], name, true)?];
    for c in &el.children {
        match c.local() {
            "attr" => attrs.push(parse_attr_def(c, name, false)?),
            "rdn" | "category" => {}
            other => {
                return Err(format!(
                    "line {}: class {name}: unexpected <{other}>",
                    c.line
                ));
            }
        }
    }
    let c = ClassDef::new(name.to_string(), category, attrs);
    rules::check_class(&c).map_err(|e| format!("line {line}: {e}"))?;
    Ok(c)
}

/// Checks a new configuration object and returns its create operation.
/// `values` are the raw strings per attribute name.
pub fn config_object_op(
    classes: &HashMap<String, Arc<ClassDef>>,
    exists: &dyn Fn(&str) -> bool,
    class: &str,
    dn: &str,
    values: &[(String, Vec<String>)],
    long_dns: bool,
) -> Result<Op, String> {
    let c = classes.get(class).ok_or_else(|| {
        format!("object {dn}: class {class} does not exist (SA_AIS_ERR_NOT_EXIST)")
    })?;
    if c.category != Category::Config {
        return Err(format!(
            "object {dn}: {class} is a runtime class; its objects are created by their \
             implementer, not loaded (SA_AIS_ERR_INVALID_PARAM)"
        ));
    }
    rules::check_dn(dn).map_err(|e| format!("object {dn}: {e} (SA_AIS_ERR_INVALID_PARAM)"))?;
    let rdn = rules::rdn_of(dn);
    let parent = rules::parent_of(dn);
    rules::check_lengths(rdn, dn, long_dns).map_err(|e| format!("object {dn}: {e}"))?;
    let rdn_attr = &c.rdn().name;
    if !rdn.starts_with(&format!("{rdn_attr}=")) {
        return Err(format!(
            "object {dn}: the RDN of class {class} is {rdn_attr}, the DN starts with another \
             attribute (SA_AIS_ERR_INVALID_PARAM)"
        ));
    }
    if !parent.is_empty() && !exists(parent) {
        return Err(format!(
            "object {dn}: parent {parent} does not exist (SA_AIS_ERR_NOT_EXIST)"
        ));
    }
    if exists(dn) {
        return Err(format!("object {dn} already exists (SA_AIS_ERR_EXIST)"));
    }
    let rdn_value = match c.rdn().vtype {
        ValueType::Name => Value::Name(rdn.to_string()),
        _ => Value::String(rdn.to_string()),
    };
    let mut attrs: Vec<(String, Vec<Value>)> = vec![(rdn_attr.clone(), vec![rdn_value])];
    let mut given = HashSet::new();
    for (name, raw) in values {
        let i = c.attr_index(name).ok_or_else(|| {
            format!("object {dn}: class {class} has no attribute {name} (SA_AIS_ERR_NOT_EXIST)")
        })?;
        let a = &c.attrs[i];
        if !given.insert(name.as_str()) {
            return Err(format!("object {dn}: attribute {name} given twice"));
        }
        if a.is(flags::RDN) {
            if raw.len() == 1 && raw[0] == rdn {
                continue;
            }
            return Err(format!(
                "object {dn}: RDN attribute {name} does not match the DN"
            ));
        }
        if a.is(flags::RUNTIME) {
            return Err(format!(
                "object {dn}: {name} is a runtime attribute and cannot be set in a configuration \
                 object (SA_AIS_ERR_INVALID_PARAM)"
            ));
        }
        if raw.len() > 1 && !a.is(flags::MULTI_VALUE) {
            return Err(format!(
                "object {dn}: {name} is single-valued but has {} values (SA_AIS_ERR_INVALID_PARAM)",
                raw.len()
            ));
        }
        let vals = raw
            .iter()
            .map(|r| Value::parse(a.vtype, r, false))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("object {dn}: {name}: {e} (SA_AIS_ERR_INVALID_PARAM)"))?;
        if a.is(flags::NO_DUPLICATES) {
            for (k, v) in vals.iter().enumerate() {
                if vals[..k].contains(v) {
                    return Err(format!("object {dn}: {name}: duplicate value"));
                }
            }
        }
        if !vals.is_empty() {
            attrs.push((name.clone(), vals));
        }
    }
    for a in &c.attrs[1..] {
        if attrs.iter().any(|(n, _)| n == &a.name) {
            continue;
        }
        if a.is(flags::INITIALIZED) {
            return Err(format!(
                "object {dn}: attribute {} is SA_INITIALIZED but has no value \
                 (SA_AIS_ERR_INVALID_PARAM)",
                a.name
            ));
        }
        if let (Some(d), false) = (&a.default, given.contains(a.name.as_str())) {
            if a.is(flags::CONFIG) || a.is(flags::CACHED) {
                attrs.push((a.name.clone(), vec![d.clone()]));
            }
        }
    }
    attrs.extend(hosted_by(c, &attrs).filter(|(_, v)| !v.is_empty()));
    Ok(Op::Create {
        dn: dn.to_string(),
        class: class.to_string(),
        implementer: None,
        attrs,
    })
}

/// The SU attribute AMF sets once it has placed the SU on a node (runtime).
pub const SU_HOSTED_BY: &str = "saAmfSUHostedByNode";
const SU_HOST_CONFIG: &str = "saAmfSUHostNodeOrNodeGroup";

/// What AMF sets when it places an SU: an SU pinned to one node (its
/// `saAmfSUHostNodeOrNodeGroup` names a `safAmfNode`) is hosted by that node. An SU on a
/// node group, or with no host, gets no value (AMF picks the node when it instantiates the
/// SU, which the simulator does not do). `attrs` are the SU's configuration values.
fn hosted_by(c: &ClassDef, attrs: &[(String, Vec<Value>)]) -> Option<(String, Vec<Value>)> {
    c.attr_index(SU_HOSTED_BY)?;
    let node = attrs
        .iter()
        .find(|(n, _)| n == SU_HOST_CONFIG)
        .and_then(|(_, v)| v.first())
        .and_then(|v| match v {
            Value::Name(dn) if dn.starts_with("safAmfNode=") => Some(v.clone()),
            _ => None,
        });
    Some((SU_HOSTED_BY.to_string(), node.into_iter().collect()))
}

/// Parses an IMM XML document and returns the operations that load it into `state`.
/// Nothing is returned unless every class and object is valid.
pub fn load_xml(state: &ImmState, text: &str, long_dns_env: bool) -> Result<Vec<Op>, String> {
    let root = xml::parse(text).map_err(|e| e.to_string())?;
    if root.local() != "IMM-contents" {
        return Err(format!(
            "root element is <{}>, not <imm:IMM-contents>",
            root.name
        ));
    }
    let long_dns = long_dns_env && state.long_dns_allowed();
    let mut classes = state.classes.clone();
    let mut new_dns: HashSet<String> = HashSet::new();
    let mut ops = Vec::new();
    for el in &root.children {
        match el.local() {
            "class" => {
                let c = parse_class(el)?;
                match classes.get(&c.name) {
                    Some(old) if **old == c => {}
                    Some(_) => {
                        return Err(format!(
                            "line {}: class {} already exists with a different definition \
                             (SA_AIS_ERR_EXIST)",
                            el.line, c.name
                        ));
                    }
                    None => {
                        classes.insert(c.name.clone(), Arc::new(c.clone()));
                        ops.push(Op::DefineClass(c));
                    }
                }
            }
            "object" => {
                let line = el.line;
                let class = el
                    .attr("class")
                    .ok_or_else(|| format!("line {line}: <object> without class"))?;
                let dn = el
                    .child_text("dn")
                    .filter(|d| !d.is_empty())
                    .ok_or_else(|| format!("line {line}: <object> without <dn>"))?;
                let mut values = Vec::new();
                for a in el.children_named("attr") {
                    let name = a
                        .child_text("name")
                        .ok_or_else(|| format!("line {}: <attr> without <name>", a.line))?;
                    let vals: Vec<String> =
                        a.children_named("value").map(|v| v.text.clone()).collect();
                    values.push((name.to_string(), vals));
                }
                let exists = |d: &str| state.objects.contains_key(d) || new_dns.contains(d);
                let op = config_object_op(&classes, &exists, class, dn, &values, long_dns)
                    .map_err(|e| format!("line {line}: {e}"))?;
                new_dns.insert(dn.to_string());
                ops.push(op);
            }
            other => return Err(format!("line {}: unexpected <{other}>", el.line)),
        }
    }
    Ok(ops)
}

/// `immcfg -a attr=value DN`: replaces a writable configuration attribute
/// (an empty value clears it).
pub fn modify_config(state: &ImmState, dn: &str, attr: &str, raw: &[String]) -> Result<Op, String> {
    let o = state
        .objects
        .get(dn)
        .ok_or_else(|| format!("object {dn} does not exist (SA_AIS_ERR_NOT_EXIST)"))?;
    let i = o.class.attr_index(attr).ok_or_else(|| {
        format!(
            "class {} has no attribute {attr} (SA_AIS_ERR_NOT_EXIST)",
            o.class.name
        )
    })?;
    let a = &o.class.attrs[i];
    if !a.is(flags::CONFIG) || !a.is(flags::WRITABLE) {
        return Err(format!(
            "attribute {attr} of {dn} is not a writable configuration attribute \
             (SA_AIS_ERR_BAD_OPERATION)"
        ));
    }
    let raw: Vec<&String> = raw.iter().filter(|r| !r.is_empty()).collect();
    if raw.len() > 1 && !a.is(flags::MULTI_VALUE) {
        return Err(format!(
            "{attr} is single-valued (SA_AIS_ERR_INVALID_PARAM)"
        ));
    }
    let vals = raw
        .iter()
        .map(|r| Value::parse(a.vtype, r, true))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{attr}: {e} (SA_AIS_ERR_INVALID_PARAM)"))?;
    if vals.is_empty() && a.is(flags::INITIALIZED) {
        return Err(format!("{attr} is SA_INITIALIZED and cannot be emptied"));
    }
    let mut attrs = vec![(attr.to_string(), vals)];
    if attr == SU_HOST_CONFIG {
        attrs.extend(hosted_by(&o.class, &attrs));
    }
    Ok(Op::SetAttrs {
        dn: dn.to_string(),
        attrs,
    })
}

/// `immcfg -d DN`: deletes a configuration object and its subtree.
pub fn delete_config(state: &ImmState, dn: &str) -> Result<Op, String> {
    let o = state
        .objects
        .get(dn)
        .ok_or_else(|| format!("object {dn} does not exist (SA_AIS_ERR_NOT_EXIST)"))?;
    if o.class.category != Category::Config {
        return Err(format!(
            "{dn} is a runtime object; only its implementer deletes it (SA_AIS_ERR_BAD_OPERATION)"
        ));
    }
    Ok(Op::Delete { dn: dn.to_string() })
}
