//! Typed view of tests/data/abi-5.21.03.json (facts measured from the real OpenSAF headers).

use std::collections::BTreeMap;

use super::json::{self, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub size: u64,
    pub align: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub offset: u64,
    /// C spelling, e.g. "SaUint8T[32]" or "void (*)(SaInvocationT)".
    pub ty: String,
}

#[derive(Debug, Clone, Default)]
pub struct Record {
    pub enum_constants: BTreeMap<String, i128>,
    pub fields: BTreeMap<String, Vec<Field>>,
    /// name -> C function type "RET (ARG, ARG)".
    pub functions: BTreeMap<String, String>,
    pub layouts: BTreeMap<String, Layout>,
    /// name -> C token text of the macro body.
    pub macros: BTreeMap<String, String>,
    /// name -> C spelling of the underlying type ("enum SaAisErrorT", "SaUint64T", ...).
    pub typedefs: BTreeMap<String, String>,
}

fn obj<'a>(v: &'a Value, what: &str) -> Result<&'a BTreeMap<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("record: {what} is not an object"))
}

fn string(v: &Value, what: &str) -> Result<String, String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("record: {what} is not a string"))
}

fn uint(v: &Value, what: &str) -> Result<u64, String> {
    v.as_int()
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| format!("record: {what} is not a non-negative integer"))
}

impl Record {
    pub fn parse(text: &str) -> Result<Record, String> {
        Record::from_value(&json::parse(text)?)
    }

    pub fn from_value(v: &Value) -> Result<Record, String> {
        let top = obj(v, "the top level")?;
        let mut rec = Record::default();
        for (key, v) in top {
            match key.as_str() {
                "source" => {
                    string(v, "source")?;
                }
                "enum_constants" => {
                    for (name, n) in obj(v, key)? {
                        let n = n
                            .as_int()
                            .ok_or_else(|| format!("record: {name} is not an integer"))?;
                        rec.enum_constants.insert(name.clone(), n);
                    }
                }
                "fields" => {
                    for (ty, list) in obj(v, key)? {
                        let list = list
                            .as_array()
                            .ok_or_else(|| format!("record: fields of {ty}"))?;
                        let mut fields = Vec::new();
                        for f in list {
                            let what = format!("a field of {ty}");
                            let f = obj(f, &what)?;
                            let get = |k: &str| {
                                f.get(k).ok_or_else(|| format!("record: {what} lacks {k}"))
                            };
                            fields.push(Field {
                                name: string(get("field")?, &what)?,
                                offset: uint(get("offset")?, &what)?,
                                ty: string(get("type")?, &what)?,
                            });
                        }
                        rec.fields.insert(ty.clone(), fields);
                    }
                }
                "functions" => {
                    for (name, f) in obj(v, key)? {
                        let f = obj(f, name)?;
                        let ty = f
                            .get("type")
                            .ok_or_else(|| format!("record: function {name} lacks type"))?;
                        rec.functions.insert(name.clone(), string(ty, name)?);
                    }
                }
                "layouts" => {
                    for (name, l) in obj(v, key)? {
                        let l = obj(l, name)?;
                        let get = |k: &str| {
                            l.get(k)
                                .ok_or_else(|| format!("record: layout of {name} lacks {k}"))
                        };
                        let layout = Layout {
                            size: uint(get("size")?, name)?,
                            align: uint(get("align")?, name)?,
                        };
                        rec.layouts.insert(name.clone(), layout);
                    }
                }
                "macros" => {
                    for (name, text) in obj(v, key)? {
                        rec.macros.insert(name.clone(), string(text, name)?);
                    }
                }
                "typedefs" => {
                    for (name, text) in obj(v, key)? {
                        rec.typedefs.insert(name.clone(), string(text, name)?);
                    }
                }
                // A new kind of fact would otherwise go unchecked without anyone noticing.
                other => {
                    return Err(format!(
                        "record: unknown section {other:?}; teach tests/abi.rs to check it"
                    ))
                }
            }
        }
        Ok(rec)
    }
}
