//! The on-disk form of the IMM store: an append-only journal of checksummed records.
//!
//! File: the 8-byte magic, then records `[u32 len][u32 crc32][payload]` (little endian);
//! a payload is `[u32 count]` operations. One call of the API appends one record with one
//! `write(2)`, so a record is the unit of atomicity. A record cut short or failing its
//! checksum ends the replay (a torn tail from a crash); the next writer truncates it.

use super::model::{AttrDef, Category, ClassDef, Value, ValueType};

pub const MAGIC: &[u8; 8] = b"OSIMJ002";
/// A record larger than this is treated as corruption (bounds memory on a bad file).
pub const MAX_RECORD: usize = 64 << 20;

/// One change to the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    DefineClass(ClassDef),
    Create {
        dn: String,
        class: String,
        implementer: Option<String>,
        attrs: Vec<(String, Vec<Value>)>,
    },
    SetAttrs {
        dn: String,
        attrs: Vec<(String, Vec<Value>)>,
    },
    /// Deletes the object and its whole subtree.
    Delete {
        dn: String,
    },
    ImplSet {
        name: String,
        pid: u32,
        start: u64,
        token: u64,
    },
    /// The handle `token` let the name go at `at_ns` (Unix time): IMM keeps showing the
    /// implementer's cached values for `imm_detach_ms` after that. Replayed for a name
    /// held by another handle it changes nothing; for a name nobody holds (a compacted
    /// journal) it only records the time.
    ImplRelease {
        name: String,
        token: u64,
        at_ns: u64,
    },
}

#[derive(Default)]
pub struct Enc(pub Vec<u8>);

impl Enc {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.0.extend_from_slice(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    fn opt_str(&mut self, s: &Option<String>) {
        match s {
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
            None => self.u8(0),
        }
    }
    fn value(&mut self, v: &Value) {
        self.u8(v.vtype().as_u32() as u8);
        match v {
            Value::Int32(x) => self.u32(*x as u32),
            Value::Uint32(x) => self.u32(*x),
            Value::Int64(x) | Value::Time(x) => self.u64(*x as u64),
            Value::Uint64(x) => self.u64(*x),
            Value::Float(x) => self.u32(x.to_bits()),
            Value::Double(x) => self.u64(x.to_bits()),
            Value::Name(s) | Value::String(s) => self.str(s),
            Value::Any(b) => self.bytes(b),
        }
    }
    fn attrs(&mut self, attrs: &[(String, Vec<Value>)]) {
        self.u32(attrs.len() as u32);
        for (n, vals) in attrs {
            self.str(n);
            self.u32(vals.len() as u32);
            for v in vals {
                self.value(v);
            }
        }
    }

    pub fn op(&mut self, op: &Op) {
        match op {
            Op::DefineClass(c) => {
                self.u8(1);
                self.str(&c.name);
                self.u8(c.category as u8);
                self.u32(c.attrs.len() as u32);
                for a in &c.attrs {
                    self.str(&a.name);
                    self.u8(a.vtype.as_u32() as u8);
                    self.u64(a.flags);
                    match &a.default {
                        Some(d) => {
                            self.u8(1);
                            self.value(d);
                        }
                        None => self.u8(0),
                    }
                }
            }
            Op::Create {
                dn,
                class,
                implementer,
                attrs,
            } => {
                self.u8(2);
                self.str(dn);
                self.str(class);
                self.opt_str(implementer);
                self.attrs(attrs);
            }
            Op::SetAttrs { dn, attrs } => {
                self.u8(3);
                self.str(dn);
                self.attrs(attrs);
            }
            Op::Delete { dn } => {
                self.u8(4);
                self.str(dn);
            }
            Op::ImplSet {
                name,
                pid,
                start,
                token,
            } => {
                self.u8(5);
                self.str(name);
                self.u32(*pid);
                self.u64(*start);
                self.u64(*token);
            }
            Op::ImplRelease { name, token, at_ns } => {
                self.u8(6);
                self.str(name);
                self.u64(*token);
                self.u64(*at_ns);
            }
        }
    }
}

/// Appends one framed record holding `ops` to `out`.
pub fn encode_record(out: &mut Vec<u8>, ops: &[Op]) {
    let start = out.len();
    out.extend_from_slice(&[0; 8]);
    let mut e = Enc(std::mem::take(out));
    e.u32(ops.len() as u32);
    for op in ops {
        e.op(op);
    }
    *out = e.0;
    let payload_len = (out.len() - start - 8) as u32;
    let crc = crc32(&out[start + 8..]);
    out[start..start + 4].copy_from_slice(&payload_len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

struct Dec<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Dec<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.b.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|s| s[0])
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|s| u32::from_le_bytes(s.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .map(|s| u64::from_le_bytes(s.try_into().expect("8 bytes")))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn str(&mut self) -> Option<String> {
        std::str::from_utf8(self.bytes()?).ok().map(str::to_owned)
    }
    fn opt_str(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some(self.str()?)),
            _ => None,
        }
    }
    fn value(&mut self) -> Option<Value> {
        let t = ValueType::from_u32(u32::from(self.u8()?))?;
        Some(match t {
            ValueType::Int32 => Value::Int32(self.u32()? as i32),
            ValueType::Uint32 => Value::Uint32(self.u32()?),
            ValueType::Int64 => Value::Int64(self.u64()? as i64),
            ValueType::Time => Value::Time(self.u64()? as i64),
            ValueType::Uint64 => Value::Uint64(self.u64()?),
            ValueType::Float => Value::Float(f32::from_bits(self.u32()?)),
            ValueType::Double => Value::Double(f64::from_bits(self.u64()?)),
            ValueType::Name => Value::Name(self.str()?),
            ValueType::String => Value::String(self.str()?),
            ValueType::Any => Value::Any(self.bytes()?.to_vec()),
        })
    }
    fn attrs(&mut self) -> Option<Vec<(String, Vec<Value>)>> {
        let n = self.u32()? as usize;
        let mut out = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            let name = self.str()?;
            let k = self.u32()? as usize;
            let mut vals = Vec::with_capacity(k.min(1024));
            for _ in 0..k {
                vals.push(self.value()?);
            }
            out.push((name, vals));
        }
        Some(out)
    }
    fn op(&mut self) -> Option<Op> {
        Some(match self.u8()? {
            1 => {
                let name = self.str()?;
                let category = match self.u8()? {
                    1 => Category::Config,
                    2 => Category::Runtime,
                    _ => return None,
                };
                let n = self.u32()? as usize;
                let mut attrs = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    let an = self.str()?;
                    let vtype = ValueType::from_u32(u32::from(self.u8()?))?;
                    let flags = self.u64()?;
                    let default = match self.u8()? {
                        0 => None,
                        1 => Some(self.value()?),
                        _ => return None,
                    };
                    attrs.push(AttrDef {
                        name: an,
                        vtype,
                        flags,
                        default,
                    });
                }
                if attrs.is_empty() {
                    return None;
                }
                Op::DefineClass(ClassDef::new(name, category, attrs))
            }
            2 => Op::Create {
                dn: self.str()?,
                class: self.str()?,
                implementer: self.opt_str()?,
                attrs: self.attrs()?,
            },
            3 => Op::SetAttrs {
                dn: self.str()?,
                attrs: self.attrs()?,
            },
            4 => Op::Delete { dn: self.str()? },
            5 => Op::ImplSet {
                name: self.str()?,
                pid: self.u32()?,
                start: self.u64()?,
                token: self.u64()?,
            },
            6 => Op::ImplRelease {
                name: self.str()?,
                token: self.u64()?,
                at_ns: self.u64()?,
            },
            _ => return None,
        })
    }
}

/// What replaying a byte range found.
pub struct Replay {
    pub records: Vec<Vec<Op>>,
    /// Bytes of complete, valid records.
    pub consumed: usize,
    /// Whether bytes after `consumed` were not a valid record (torn or corrupt tail).
    pub torn: bool,
}

/// Decodes the records in `buf` (which starts at a record boundary).
pub fn decode_records(buf: &[u8]) -> Replay {
    let mut records = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let Some(head) = buf.get(pos..pos + 8) else {
            break;
        };
        let len = u32::from_le_bytes(head[0..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(head[4..8].try_into().expect("4 bytes"));
        if len > MAX_RECORD {
            break;
        }
        let Some(payload) = buf.get(pos + 8..pos + 8 + len) else {
            break;
        };
        if crc32(payload) != crc {
            break;
        }
        let mut d = Dec { b: payload, pos: 0 };
        let Some(n) = d.u32() else { break };
        let mut ops = Vec::with_capacity((n as usize).min(4096));
        let mut ok = true;
        for _ in 0..n {
            match d.op() {
                Some(op) => ops.push(op),
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok || d.pos != payload.len() {
            break;
        }
        records.push(ops);
        pos += 8 + len;
    }
    Replay {
        records,
        consumed: pos,
        torn: pos < buf.len(),
    }
}

/// CRC-32 (IEEE), used to tell a complete journal record from a torn one.
pub fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        t
    });
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc = table[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_known_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn round_trip_and_torn_tail() {
        let ops = vec![
            Op::Create {
                dn: "a=1".into(),
                class: "C".into(),
                implementer: Some("impl".into()),
                attrs: vec![(
                    "x".into(),
                    vec![Value::Uint32(7), Value::String("s".into())],
                )],
            },
            Op::Delete { dn: "a=1".into() },
            Op::ImplSet {
                name: "impl".into(),
                pid: 42,
                start: 7,
                token: 9,
            },
            Op::ImplRelease {
                name: "impl".into(),
                token: 9,
                at_ns: 1_700_000_000_123_456_789,
            },
        ];
        let mut buf = Vec::new();
        encode_record(&mut buf, &ops);
        encode_record(&mut buf, &ops[1..]);
        let full = buf.len();
        let r = decode_records(&buf);
        assert_eq!(r.records.len(), 2);
        assert_eq!(r.records[0], ops);
        assert!(!r.torn);
        let r = decode_records(&buf[..full - 3]);
        assert_eq!(r.records.len(), 1);
        assert!(r.torn);
        buf[full - 1] ^= 0xff;
        assert_eq!(decode_records(&buf).records.len(), 1);
    }
}
