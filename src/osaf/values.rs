//! IMM attribute values between Rust and the C arrays IMM takes and returns.

use std::ffi::{c_char, c_void, CStr, CString};

use opensaf_sys::{SaAnyT, SaImmAttrValuesT_2, SaImmValueTypeT};

use super::error::Error;
use super::names::{NameFns, OwnedName};

/// One attribute value, typed as IMM types it.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    I32(i32),
    U32(u32),
    I64(i64),
    U64(u64),
    /// SA_TIME_T, nanoseconds.
    Time(i64),
    Name(String),
    F32(f32),
    F64(f64),
    Str(String),
    Any(Vec<u8>),
}

impl AttrValue {
    pub fn value_type(&self) -> SaImmValueTypeT {
        match self {
            AttrValue::I32(_) => SaImmValueTypeT::SA_IMM_ATTR_SAINT32T,
            AttrValue::U32(_) => SaImmValueTypeT::SA_IMM_ATTR_SAUINT32T,
            AttrValue::I64(_) => SaImmValueTypeT::SA_IMM_ATTR_SAINT64T,
            AttrValue::U64(_) => SaImmValueTypeT::SA_IMM_ATTR_SAUINT64T,
            AttrValue::Time(_) => SaImmValueTypeT::SA_IMM_ATTR_SATIMET,
            AttrValue::Name(_) => SaImmValueTypeT::SA_IMM_ATTR_SANAMET,
            AttrValue::F32(_) => SaImmValueTypeT::SA_IMM_ATTR_SAFLOATT,
            AttrValue::F64(_) => SaImmValueTypeT::SA_IMM_ATTR_SADOUBLET,
            AttrValue::Str(_) => SaImmValueTypeT::SA_IMM_ATTR_SASTRINGT,
            AttrValue::Any(_) => SaImmValueTypeT::SA_IMM_ATTR_SAANYT,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::Str(s) | AttrValue::Name(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            AttrValue::U32(v) => Some(v.into()),
            AttrValue::U64(v) => Some(v),
            AttrValue::I32(v) => u64::try_from(v).ok(),
            AttrValue::I64(v) | AttrValue::Time(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }
}

/// An attribute with its values (IMM refuses an attribute given with zero values).
#[derive(Debug, Clone, PartialEq)]
pub struct Attr {
    pub name: String,
    pub values: Vec<AttrValue>,
}

impl Attr {
    pub fn one(name: &str, v: AttrValue) -> Attr {
        Attr {
            name: name.to_string(),
            values: vec![v],
        }
    }
}

/// Storage for one value, boxed so the pointer IMM gets stays put.
enum Slot {
    I32(Box<i32>),
    U32(Box<u32>),
    I64(Box<i64>),
    U64(Box<u64>),
    F32(Box<f32>),
    F64(Box<f64>),
    Str(#[allow(dead_code)] CString, Box<*mut c_char>),
    Name(Box<OwnedName>),
    Any(#[allow(dead_code)] Vec<u8>, Box<SaAnyT>),
}

impl Slot {
    fn ptr(&mut self) -> *mut c_void {
        match self {
            Slot::I32(b) => &mut **b as *mut i32 as *mut c_void,
            Slot::U32(b) => &mut **b as *mut u32 as *mut c_void,
            Slot::I64(b) => &mut **b as *mut i64 as *mut c_void,
            Slot::U64(b) => &mut **b as *mut u64 as *mut c_void,
            Slot::F32(b) => &mut **b as *mut f32 as *mut c_void,
            Slot::F64(b) => &mut **b as *mut f64 as *mut c_void,
            Slot::Str(_, b) => &mut **b as *mut *mut c_char as *mut c_void,
            Slot::Name(b) => b.as_ptr() as *mut c_void,
            Slot::Any(_, b) => &mut **b as *mut SaAnyT as *mut c_void,
        }
    }
}

pub(crate) fn cstring(s: &str) -> Result<CString, Error> {
    CString::new(s).map_err(|_| Error::Invalid(format!("{s:?} contains a NUL byte")))
}

/// The C form of a list of attributes: everything IMM's pointers point at lives here.
pub(crate) struct CAttrs {
    _names: Vec<CString>,
    _slots: Vec<Vec<Slot>>,
    _value_ptrs: Vec<Vec<*mut c_void>>,
    pub(crate) structs: Vec<SaImmAttrValuesT_2>,
}

impl CAttrs {
    pub(crate) fn new(attrs: &[Attr], names: &NameFns) -> Result<CAttrs, Error> {
        let mut c_names = Vec::with_capacity(attrs.len());
        let mut slots = Vec::with_capacity(attrs.len());
        let mut value_ptrs = Vec::with_capacity(attrs.len());
        let mut structs = Vec::with_capacity(attrs.len());
        for a in attrs {
            let first = a.values.first().ok_or_else(|| {
                Error::Invalid(format!(
                    "attribute {} has no value (IMM refuses that; leave it out)",
                    a.name
                ))
            })?;
            let ty = first.value_type();
            if a.values.iter().any(|v| v.value_type() != ty) {
                return Err(Error::Invalid(format!(
                    "attribute {} mixes value types",
                    a.name
                )));
            }
            let mut s: Vec<Slot> = Vec::with_capacity(a.values.len());
            for v in &a.values {
                s.push(match v {
                    AttrValue::I32(x) => Slot::I32(Box::new(*x)),
                    AttrValue::U32(x) => Slot::U32(Box::new(*x)),
                    AttrValue::I64(x) | AttrValue::Time(x) => Slot::I64(Box::new(*x)),
                    AttrValue::U64(x) => Slot::U64(Box::new(*x)),
                    AttrValue::F32(x) => Slot::F32(Box::new(*x)),
                    AttrValue::F64(x) => Slot::F64(Box::new(*x)),
                    AttrValue::Str(x) => {
                        let c = cstring(x)?;
                        let p = Box::new(c.as_ptr() as *mut c_char);
                        Slot::Str(c, p)
                    }
                    AttrValue::Name(x) => Slot::Name(Box::new(names.make(x)?)),
                    AttrValue::Any(x) => {
                        let mut bytes = x.clone();
                        let any = SaAnyT {
                            bufferSize: bytes.len() as u64,
                            bufferAddr: bytes.as_mut_ptr(),
                        };
                        Slot::Any(bytes, Box::new(any))
                    }
                });
            }
            let ptrs: Vec<*mut c_void> = s.iter_mut().map(Slot::ptr).collect();
            let name = cstring(&a.name)?;
            slots.push(s);
            value_ptrs.push(ptrs);
            c_names.push(name);
            let ptrs = value_ptrs.last_mut().expect("just pushed");
            structs.push(SaImmAttrValuesT_2 {
                attrName: c_names.last().expect("just pushed").as_ptr() as *mut c_char,
                attrValueType: ty,
                attrValuesNumber: ptrs.len() as u32,
                attrValues: ptrs.as_mut_ptr(),
            });
        }
        Ok(CAttrs {
            _names: c_names,
            _slots: slots,
            _value_ptrs: value_ptrs,
            structs,
        })
    }
}

/// The elements of a NULL-terminated pointer array (none for a NULL array).
///
/// # Safety
/// `array` is NULL, or its entries up to and including the first NULL are readable and
/// each non-NULL entry points to a `T` valid for `'a`.
unsafe fn null_terminated<'a, T: 'a>(array: *const *const T) -> impl Iterator<Item = &'a T> {
    let mut i = 0;
    std::iter::from_fn(move || {
        if array.is_null() {
            return None;
        }
        // SAFETY: entries up to the first NULL are readable (the caller's contract) and
        // `i` never passes it: iteration stops there.
        let entry = unsafe { *array.add(i) };
        // SAFETY: a non-NULL entry points to a `T` valid for `'a` (the caller's contract).
        let item = unsafe { entry.as_ref() }?;
        i += 1;
        Some(item)
    })
}

/// A string C handed us, copied (empty for NULL).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the duration of the call.
unsafe fn c_text(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: non-NULL and NUL-terminated (the caller's contract); copied at once.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// Reads a NULL-terminated `SaImmAttrValuesT_2 **` that IMM returned.
///
/// # Safety
/// `attrs` is NULL or a NULL-terminated array of valid attribute structs whose value
/// pointers match their declared type, as IMM guarantees until the next call on its handle.
pub(crate) unsafe fn decode_attrs(
    attrs: *mut *mut SaImmAttrValuesT_2,
    names: &NameFns,
) -> Vec<Attr> {
    // SAFETY: the caller's contract is `null_terminated`'s.
    let structs = unsafe { null_terminated(attrs as *const *const SaImmAttrValuesT_2) };
    structs
        .map(|a| {
            let count = if a.attrValues.is_null() {
                0
            } else {
                a.attrValuesNumber as usize
            };
            let values = (0..count)
                .filter_map(|j| {
                    // SAFETY: `attrValues` holds `attrValuesNumber` value pointers of the
                    // declared type (the caller's contract); NULL ones are skipped.
                    let p = unsafe { *a.attrValues.add(j) };
                    // SAFETY: as above.
                    (!p.is_null()).then(|| unsafe { decode_value(a.attrValueType, p, names) })?
                })
                .collect();
            Attr {
                // SAFETY: IMM's attribute names are NUL-terminated strings (or NULL).
                name: unsafe { c_text(a.attrName) },
                values,
            }
        })
        .collect()
}

/// # Safety
/// `p` points to a value of type `ty`.
unsafe fn decode_value(ty: SaImmValueTypeT, p: *mut c_void, names: &NameFns) -> Option<AttrValue> {
    // SAFETY: `p` points to a value of type `ty` (the caller's contract); each arm reads it
    // as exactly that type.
    unsafe {
        Some(match ty {
            SaImmValueTypeT::SA_IMM_ATTR_SAINT32T => AttrValue::I32(*(p as *const i32)),
            SaImmValueTypeT::SA_IMM_ATTR_SAUINT32T => AttrValue::U32(*(p as *const u32)),
            SaImmValueTypeT::SA_IMM_ATTR_SAINT64T => AttrValue::I64(*(p as *const i64)),
            SaImmValueTypeT::SA_IMM_ATTR_SAUINT64T => AttrValue::U64(*(p as *const u64)),
            SaImmValueTypeT::SA_IMM_ATTR_SATIMET => AttrValue::Time(*(p as *const i64)),
            SaImmValueTypeT::SA_IMM_ATTR_SAFLOATT => AttrValue::F32(*(p as *const f32)),
            SaImmValueTypeT::SA_IMM_ATTR_SADOUBLET => AttrValue::F64(*(p as *const f64)),
            SaImmValueTypeT::SA_IMM_ATTR_SANAMET => AttrValue::Name(names.read(p as *const _)?),
            SaImmValueTypeT::SA_IMM_ATTR_SASTRINGT => {
                let s = *(p as *const *const c_char);
                if s.is_null() {
                    return None;
                }
                AttrValue::Str(c_text(s))
            }
            SaImmValueTypeT::SA_IMM_ATTR_SAANYT => {
                let any = &*(p as *const SaAnyT);
                if any.bufferAddr.is_null() || any.bufferSize > isize::MAX as u64 {
                    // NULL, or a size no buffer can have: nothing trustworthy to read.
                    AttrValue::Any(Vec::new())
                } else {
                    AttrValue::Any(
                        std::slice::from_raw_parts(any.bufferAddr, any.bufferSize as usize)
                            .to_vec(),
                    )
                }
            }
            _ => return None,
        })
    }
}

/// Reads a NULL-terminated admin-operation parameter array.
///
/// # Safety
/// `params` is NULL or a NULL-terminated array of valid parameter structs whose buffers
/// match their declared type, valid for the duration of the callback.
pub(crate) unsafe fn decode_value_params(
    params: *mut *const opensaf_sys::SaImmAdminOperationParamsT_2,
    names: &NameFns,
) -> Vec<(String, AttrValue)> {
    // SAFETY: the caller's contract is `null_terminated`'s.
    let structs = unsafe { null_terminated(params as *const *const _) };
    structs
        .filter(|p: &&opensaf_sys::SaImmAdminOperationParamsT_2| !p.paramBuffer.is_null())
        .filter_map(|p| {
            // SAFETY: a non-NULL buffer holds a value of `paramType` (the caller's contract).
            let v = unsafe { decode_value(p.paramType, p.paramBuffer, names) }?;
            // SAFETY: parameter names are NUL-terminated strings (or NULL).
            Some((unsafe { c_text(p.paramName) }, v))
        })
        .collect()
}
