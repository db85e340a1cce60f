//! The IMM information model as the simulator stores it: classes, attribute definitions,
//! typed values and objects.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

/// Attribute flags (`SA_IMM_ATTR_*`).
pub mod flags {
    pub const MULTI_VALUE: u64 = 0x1;
    pub const RDN: u64 = 0x2;
    pub const CONFIG: u64 = 0x100;
    pub const WRITABLE: u64 = 0x200;
    pub const INITIALIZED: u64 = 0x400;
    pub const RUNTIME: u64 = 0x1_0000;
    pub const PERSISTENT: u64 = 0x2_0000;
    pub const CACHED: u64 = 0x4_0000;
    pub const NO_DUPLICATES: u64 = 0x100_0000;
    pub const NOTIFY: u64 = 0x200_0000;
    pub const NO_DANGLING: u64 = 0x400_0000;
    pub const DN: u64 = 0x800_0000;
    pub const DEFAULT_REMOVED: u64 = 0x1000_0000;
    pub const STRONG_DEFAULT: u64 = 0x2000_0000;

    /// XML flag names, as immcfg/immdump spell them.
    pub const NAMES: &[(&str, u64)] = &[
        ("SA_MULTI_VALUE", MULTI_VALUE),
        ("SA_RDN", RDN),
        ("SA_CONFIG", CONFIG),
        ("SA_WRITABLE", WRITABLE),
        ("SA_INITIALIZED", INITIALIZED),
        ("SA_RUNTIME", RUNTIME),
        ("SA_PERSISTENT", PERSISTENT),
        ("SA_CACHED", CACHED),
        ("SA_NO_DUPLICATES", NO_DUPLICATES),
        ("SA_NOTIFY", NOTIFY),
        ("SA_NO_DANGLING", NO_DANGLING),
        ("SA_DN", DN),
        ("SA_DEFAULT_REMOVED", DEFAULT_REMOVED),
        ("SA_STRONG_DEFAULT", STRONG_DEFAULT),
    ];
}

/// The three attributes IMM adds to every class.
pub const ATTR_CLASS_NAME: &str = "SaImmAttrClassName";
pub const ATTR_IMPLEMENTER_NAME: &str = "SaImmAttrImplementerName";
pub const ATTR_ADMIN_OWNER_NAME: &str = "SaImmAttrAdminOwnerName";

/// `SaImmValueTypeT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    Int32 = 1,
    Uint32 = 2,
    Int64 = 3,
    Uint64 = 4,
    Time = 5,
    Name = 6,
    Float = 7,
    Double = 8,
    String = 9,
    Any = 10,
}

impl ValueType {
    pub const ALL: [ValueType; 10] = [
        ValueType::Int32,
        ValueType::Uint32,
        ValueType::Int64,
        ValueType::Uint64,
        ValueType::Time,
        ValueType::Name,
        ValueType::Float,
        ValueType::Double,
        ValueType::String,
        ValueType::Any,
    ];

    pub fn from_u32(v: u32) -> Option<ValueType> {
        ValueType::ALL.get((v as usize).wrapping_sub(1)).copied()
    }

    pub fn as_u32(self) -> u32 {
        self as u32
    }

    /// The XML / immlist spelling (`SA_UINT32_T`).
    pub fn xml_name(self) -> &'static str {
        match self {
            ValueType::Int32 => "SA_INT32_T",
            ValueType::Uint32 => "SA_UINT32_T",
            ValueType::Int64 => "SA_INT64_T",
            ValueType::Uint64 => "SA_UINT64_T",
            ValueType::Time => "SA_TIME_T",
            ValueType::Name => "SA_NAME_T",
            ValueType::Float => "SA_FLOAT_T",
            ValueType::Double => "SA_DOUBLE_T",
            ValueType::String => "SA_STRING_T",
            ValueType::Any => "SA_ANY_T",
        }
    }

    pub fn from_xml_name(s: &str) -> Option<ValueType> {
        ValueType::ALL.iter().copied().find(|t| t.xml_name() == s)
    }
}

/// One attribute value.
#[derive(Clone, Debug)]
pub enum Value {
    Int32(i32),
    Uint32(u32),
    Int64(i64),
    Uint64(u64),
    Time(i64),
    Name(String),
    Float(f32),
    Double(f64),
    String(String),
    Any(Vec<u8>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Int32(a), Int32(b)) => a == b,
            (Uint32(a), Uint32(b)) => a == b,
            (Int64(a), Int64(b)) | (Time(a), Time(b)) => a == b,
            (Uint64(a), Uint64(b)) => a == b,
            (Name(a), Name(b)) | (String(a), String(b)) => a == b,
            (Float(a), Float(b)) => a.to_bits() == b.to_bits(),
            (Double(a), Double(b)) => a.to_bits() == b.to_bits(),
            (Any(a), Any(b)) => a == b,
            _ => false,
        }
    }
}

fn parse_int<T: std::str::FromStr + TryFrom<i128>>(s: &str) -> Result<T, String> {
    let t = s.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let v: i128 = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i128::from_str_radix(hex, 16).map_err(|_| format!("'{s}' is not a number"))?
    } else {
        digits
            .parse::<i128>()
            .map_err(|_| format!("'{s}' is not a number"))?
    };
    T::try_from(if neg { -v } else { v }).map_err(|_| format!("'{s}' is out of range"))
}

impl Value {
    pub fn vtype(&self) -> ValueType {
        match self {
            Value::Int32(_) => ValueType::Int32,
            Value::Uint32(_) => ValueType::Uint32,
            Value::Int64(_) => ValueType::Int64,
            Value::Uint64(_) => ValueType::Uint64,
            Value::Time(_) => ValueType::Time,
            Value::Name(_) => ValueType::Name,
            Value::Float(_) => ValueType::Float,
            Value::Double(_) => ValueType::Double,
            Value::String(_) => ValueType::String,
            Value::Any(_) => ValueType::Any,
        }
    }

    /// Parses a value as written in IMM XML or on an immcfg command line
    /// (SA_ANY_T is base64 in XML, hex on the command line when `any_hex`).
    pub fn parse(t: ValueType, s: &str, any_hex: bool) -> Result<Value, String> {
        Ok(match t {
            ValueType::Int32 => Value::Int32(parse_int(s)?),
            ValueType::Uint32 => Value::Uint32(parse_int(s)?),
            ValueType::Int64 => Value::Int64(parse_int(s)?),
            ValueType::Uint64 => Value::Uint64(parse_int(s)?),
            ValueType::Time => Value::Time(parse_int(s)?),
            ValueType::Float => Value::Float(
                s.trim()
                    .parse()
                    .map_err(|_| format!("'{s}' is not a float"))?,
            ),
            ValueType::Double => Value::Double(
                s.trim()
                    .parse()
                    .map_err(|_| format!("'{s}' is not a double"))?,
            ),
            ValueType::Name => Value::Name(s.to_string()),
            ValueType::String => Value::String(s.to_string()),
            ValueType::Any => Value::Any(if any_hex {
                hex_decode(s)?
            } else {
                base64_decode(s)?
            }),
        })
    }

    /// How immlist prints one value.
    pub fn display(&self) -> String {
        match self {
            Value::Int32(v) => format!("{v} (0x{:x})", *v as u32),
            Value::Uint32(v) => format!("{v} (0x{v:x})"),
            Value::Int64(v) => format!("{v} (0x{:x})", *v as u64),
            Value::Uint64(v) => format!("{v} (0x{v:x})"),
            Value::Time(v) => format!(
                "{v} (0x{:x}, {})",
                *v as u64,
                crate::clock::format_ctime(v.div_euclid(1_000_000_000))
            ),
            Value::Float(v) => format!("{v:.6}"),
            Value::Double(v) => format!("{v:.6}"),
            Value::Name(s) | Value::String(s) => s.clone(),
            Value::Any(b) => hex_encode(b),
        }
    }

    /// The plain text form (XML export, `immlist -a`).
    pub fn plain(&self) -> String {
        match self {
            Value::Int32(v) => v.to_string(),
            Value::Uint32(v) => v.to_string(),
            Value::Int64(v) | Value::Time(v) => v.to_string(),
            Value::Uint64(v) => v.to_string(),
            Value::Float(v) => v.to_string(),
            Value::Double(v) => v.to_string(),
            Value::Name(s) | Value::String(s) => s.clone(),
            Value::Any(b) => hex_encode(b),
        }
    }
}

pub fn hex_encode(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

fn hex_decode(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return Err(format!("'{s}' is not hex"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| format!("'{s}' is not hex")))
        .collect()
}

pub fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace()) {
        if c == b'=' {
            break;
        }
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("'{s}' is not base64")),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

/// Class category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Config = 1,
    Runtime = 2,
}

/// One attribute of a class.
#[derive(Clone, Debug, PartialEq)]
pub struct AttrDef {
    pub name: String,
    pub vtype: ValueType,
    pub flags: u64,
    pub default: Option<Value>,
}

impl AttrDef {
    pub fn is(&self, flag: u64) -> bool {
        self.flags & flag != 0
    }
}

/// A class: attribute 0 is always the RDN; the three system attributes are implied.
#[derive(Clone, Debug)]
pub struct ClassDef {
    pub name: String,
    pub category: Category,
    pub attrs: Vec<AttrDef>,
    index: HashMap<String, usize>,
}

impl PartialEq for ClassDef {
    fn eq(&self, o: &ClassDef) -> bool {
        self.name == o.name && self.category == o.category && self.attrs == o.attrs
    }
}

impl ClassDef {
    /// `attrs[0]` must be the RDN (validation is done by `rules::check_class`).
    pub fn new(name: String, category: Category, attrs: Vec<AttrDef>) -> ClassDef {
        let index = attrs
            .iter()
            .enumerate()
            .map(|(i, a)| (a.name.clone(), i))
            .collect();
        ClassDef {
            name,
            category,
            attrs,
            index,
        }
    }

    pub fn attr_index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    pub fn rdn(&self) -> &AttrDef {
        &self.attrs[0]
    }
}

/// An object: values indexed like its class's attributes.
#[derive(Clone, Debug)]
pub struct Object {
    pub class: Arc<ClassDef>,
    pub values: Vec<Vec<Value>>,
    pub implementer: Option<String>,
}

impl Object {
    pub fn get(&self, attr: &str) -> Option<&[Value]> {
        self.class
            .attr_index(attr)
            .map(|i| self.values[i].as_slice())
    }

    /// Every attribute as a search/accessor returns it, system attributes included.
    pub fn all_attrs(&self) -> Vec<(String, ValueType, Vec<Value>)> {
        let mut out: Vec<(String, ValueType, Vec<Value>)> = self
            .class
            .attrs
            .iter()
            .zip(&self.values)
            .map(|(a, v)| (a.name.clone(), a.vtype, v.clone()))
            .collect();
        out.push((
            ATTR_CLASS_NAME.into(),
            ValueType::String,
            vec![Value::String(self.class.name.clone())],
        ));
        out.push((
            ATTR_IMPLEMENTER_NAME.into(),
            ValueType::String,
            self.implementer
                .iter()
                .map(|s| Value::String(s.clone()))
                .collect(),
        ));
        out.push((ATTR_ADMIN_OWNER_NAME.into(), ValueType::String, Vec::new()));
        out
    }

    /// One attribute (system ones included), or None if the class has no such attribute.
    pub fn attr(&self, name: &str) -> Option<(ValueType, Vec<Value>)> {
        if let Some(i) = self.class.attr_index(name) {
            return Some((self.class.attrs[i].vtype, self.values[i].clone()));
        }
        match name {
            ATTR_CLASS_NAME => Some((
                ValueType::String,
                vec![Value::String(self.class.name.clone())],
            )),
            ATTR_IMPLEMENTER_NAME => Some((
                ValueType::String,
                self.implementer
                    .iter()
                    .map(|s| Value::String(s.clone()))
                    .collect(),
            )),
            ATTR_ADMIN_OWNER_NAME => Some((ValueType::String, Vec::new())),
            _ => None,
        }
    }
}
