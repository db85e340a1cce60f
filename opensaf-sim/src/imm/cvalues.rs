//! Attribute values crossing the C boundary: reading the caller's `SaImmAttrValuesT_2`
//! and modification arrays, and building the arrays the OM API hands out (which stay
//! valid until the next call on the same search/accessor handle or its finalize).

use std::ffi::{c_char, c_void, CStr, CString};

use opensaf_sys::SaAisErrorT as Ais;
use opensaf_sys::{
    SaAnyT, SaImmAttrModificationT_2, SaImmAttrValueT, SaImmAttrValuesT_2, SaImmValueTypeT, SaNameT,
};

use super::model::{Value, ValueType};
use super::ImmError;
use crate::names::{self, OwnedName};

/// More values or attributes than this in one call is refused (bounded memory).
pub const MAX_ITEMS: usize = 1 << 20;

pub fn invalid(msg: impl Into<String>) -> ImmError {
    ImmError::new(Ais::INVALID_PARAM, msg)
}

/// A caller's C string.
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string.
pub unsafe fn read_cstr(p: *const c_char, what: &str) -> Result<String, ImmError> {
    if p.is_null() {
        return Err(invalid(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str()
        .map(str::to_owned)
        .map_err(|_| invalid(format!("{what} is not UTF-8")))
}

/// A caller's `SaNameT` (NULL or empty -> "").
///
/// # Safety
/// `p` must be NULL or point to a readable `SaNameT`.
pub unsafe fn read_name_opt(p: *const SaNameT, what: &str) -> Result<String, ImmError> {
    if p.is_null() {
        return Ok(String::new());
    }
    // SAFETY: non-NULL and readable per the caller's contract.
    unsafe { names::read(p) }.map_err(|e| match e {
        names::NameError::LongNotEnabled => invalid(format!(
            "{what} is a long name but SA_ENABLE_EXTENDED_NAMES=1 was not set"
        )),
        names::NameError::Invalid => invalid(format!("{what} is not a valid SaNameT")),
    })
}

/// One value of declared type `t` at `p`.
///
/// # Safety
/// `p` must point to a value of C type matching `t` (for strings, to a `SaStringT`).
unsafe fn read_value(t: ValueType, p: *const c_void) -> Result<Value, ImmError> {
    if p.is_null() {
        return Err(invalid("a value pointer is NULL"));
    }
    // SAFETY (all arms): `p` points to a value of the C type that `t` declares.
    unsafe {
        Ok(match t {
            ValueType::Int32 => Value::Int32(p.cast::<i32>().read_unaligned()),
            ValueType::Uint32 => Value::Uint32(p.cast::<u32>().read_unaligned()),
            ValueType::Int64 => Value::Int64(p.cast::<i64>().read_unaligned()),
            ValueType::Uint64 => Value::Uint64(p.cast::<u64>().read_unaligned()),
            ValueType::Time => Value::Time(p.cast::<i64>().read_unaligned()),
            ValueType::Float => Value::Float(p.cast::<f32>().read_unaligned()),
            ValueType::Double => Value::Double(p.cast::<f64>().read_unaligned()),
            ValueType::Name => Value::Name(read_name_opt(p.cast(), "a SA_NAME_T value")?),
            ValueType::String => {
                let s = p.cast::<*const c_char>().read_unaligned();
                if s.is_null() {
                    Value::String(String::new())
                } else {
                    Value::String(read_cstr(s, "a SA_STRING_T value")?)
                }
            }
            ValueType::Any => {
                let any = p.cast::<SaAnyT>().read_unaligned();
                if any.bufferSize == 0 {
                    Value::Any(Vec::new())
                } else if any.bufferAddr.is_null() || any.bufferSize as usize > MAX_ITEMS * 16 {
                    return Err(invalid("a SA_ANY_T value has a bad buffer"));
                } else {
                    Value::Any(
                        std::slice::from_raw_parts(any.bufferAddr, any.bufferSize as usize)
                            .to_vec(),
                    )
                }
            }
        })
    }
}

/// An attribute as the caller gave it: name, declared type, values.
#[derive(Debug, Clone)]
pub struct InAttr {
    pub name: String,
    pub vtype: ValueType,
    pub values: Vec<Value>,
}

/// Reads one `SaImmAttrValuesT_2`.
///
/// # Safety
/// `a` must point to a readable struct whose `attrValues` holds `attrValuesNumber`
/// pointers to values of the declared type.
pub unsafe fn read_attr(a: *const SaImmAttrValuesT_2) -> Result<InAttr, ImmError> {
    // SAFETY: readable per the caller's contract.
    let a = unsafe { &*a };
    // SAFETY: attrName is a C string or NULL.
    let name = unsafe { read_cstr(a.attrName, "attrName") }?;
    let vtype = ValueType::from_u32(a.attrValueType.0).ok_or_else(|| {
        invalid(format!(
            "attribute {name}: unknown value type {}",
            a.attrValueType.0
        ))
    })?;
    let n = a.attrValuesNumber as usize;
    if n > MAX_ITEMS {
        return Err(invalid(format!("attribute {name}: {n} values")));
    }
    if n > 0 && a.attrValues.is_null() {
        return Err(invalid(format!("attribute {name}: attrValues is NULL")));
    }
    let mut values = Vec::with_capacity(n);
    for i in 0..n {
        // SAFETY: attrValues holds n pointers (caller contract), checked non-NULL above.
        let p = unsafe { *a.attrValues.add(i) };
        // SAFETY: each pointer points to a value of the declared type.
        values.push(
            unsafe { read_value(vtype, p) }
                .map_err(|e| ImmError::new(e.code, format!("attribute {name}: {}", e.msg)))?,
        );
    }
    Ok(InAttr {
        name,
        vtype,
        values,
    })
}

/// Reads a NULL-terminated array of attribute pointers.
///
/// # Safety
/// `arr` must be NULL or a NULL-terminated array of pointers valid for [`read_attr`].
pub unsafe fn read_attr_list(
    arr: *const *const SaImmAttrValuesT_2,
) -> Result<Vec<InAttr>, ImmError> {
    if arr.is_null() {
        return Err(invalid("attribute array is NULL"));
    }
    let mut out = Vec::new();
    for i in 0..MAX_ITEMS {
        // SAFETY: NULL-terminated array; we stop at the terminator.
        let p = unsafe { *arr.add(i) };
        if p.is_null() {
            return Ok(out);
        }
        // SAFETY: each element is valid per the caller's contract.
        out.push(unsafe { read_attr(p) }?);
    }
    Err(invalid("attribute array is not NULL-terminated"))
}

/// One modification as the caller gave it.
#[derive(Debug, Clone)]
pub struct InMod {
    pub mod_type: u32,
    pub attr: InAttr,
}

/// Reads a NULL-terminated array of modifications.
///
/// # Safety
/// `arr` must be NULL or a NULL-terminated array of pointers to readable modifications.
pub unsafe fn read_mod_list(
    arr: *const *const SaImmAttrModificationT_2,
) -> Result<Vec<InMod>, ImmError> {
    if arr.is_null() {
        return Err(invalid("attrMods is NULL"));
    }
    let mut out = Vec::new();
    for i in 0..MAX_ITEMS {
        // SAFETY: NULL-terminated array; we stop at the terminator.
        let p = unsafe { *arr.add(i) };
        if p.is_null() {
            return Ok(out);
        }
        // SAFETY: each element points to a readable modification.
        let m = unsafe { &*p };
        // SAFETY: modAttr is a readable SaImmAttrValuesT_2 inside the modification.
        let attr = unsafe { read_attr(&m.modAttr) }?;
        out.push(InMod {
            mod_type: m.modType.0,
            attr,
        });
    }
    Err(invalid("attrMods is not NULL-terminated"))
}

/// Reads a NULL-terminated array of attribute names.
///
/// # Safety
/// `arr` must be NULL or a NULL-terminated array of C strings.
pub unsafe fn read_name_list(arr: *const *mut c_char) -> Result<Vec<String>, ImmError> {
    if arr.is_null() {
        return Err(invalid("attributeNames is NULL"));
    }
    let mut out = Vec::new();
    for i in 0..MAX_ITEMS {
        // SAFETY: NULL-terminated array; we stop at the terminator.
        let p = unsafe { *arr.add(i) };
        if p.is_null() {
            return Ok(out);
        }
        // SAFETY: each element is a C string.
        out.push(unsafe { read_cstr(p, "an attribute name") }?);
    }
    Err(invalid("attributeNames is not NULL-terminated"))
}

/// A value of declared type `t` at `p` (for a search filter); NULL means "any value".
///
/// # Safety
/// As for [`read_attr`], for one value.
pub unsafe fn read_filter_value(t: ValueType, p: *const c_void) -> Result<Option<Value>, ImmError> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: caller contract.
    unsafe { read_value(t, p) }.map(Some)
}

/// Storage for one value handed out.
enum Slot {
    Scalar(Box<u64>),
    Str(#[allow(dead_code)] CString, Box<*mut c_char>),
    Name(OwnedName),
    Any(#[allow(dead_code)] Vec<u8>, Box<SaAnyT>),
}

/// Attribute arrays handed to C, with everything they point to.
pub struct CAttrs {
    _names: Vec<CString>,
    _slots: Vec<Slot>,
    _value_arrays: Vec<Vec<SaImmAttrValueT>>,
    _attrs: Vec<SaImmAttrValuesT_2>,
    ptrs: Vec<*mut SaImmAttrValuesT_2>,
    /// The object's name as handed out (long names point into it).
    pub object_name: Option<OwnedName>,
}

// SAFETY: CAttrs owns every allocation its raw pointers point into; it is only moved
// between threads inside a Mutex, never shared while C reads it concurrently with a change.
unsafe impl Send for CAttrs {}

impl CAttrs {
    pub fn build(attrs: &[(String, ValueType, Vec<Value>)]) -> CAttrs {
        let mut names = Vec::with_capacity(attrs.len());
        let mut slots = Vec::new();
        let mut value_arrays = Vec::with_capacity(attrs.len());
        let mut attr_structs = Vec::with_capacity(attrs.len());
        for (name, t, vals) in attrs {
            let cname = CString::new(name.as_str()).unwrap_or_default();
            let mut arr: Vec<SaImmAttrValueT> = Vec::with_capacity(vals.len());
            for v in vals {
                let slot = match v {
                    Value::Int32(x) => Slot::Scalar(Box::new(u64::from(*x as u32))),
                    Value::Uint32(x) => Slot::Scalar(Box::new(u64::from(*x))),
                    Value::Int64(x) | Value::Time(x) => Slot::Scalar(Box::new(*x as u64)),
                    Value::Uint64(x) => Slot::Scalar(Box::new(*x)),
                    Value::Float(x) => Slot::Scalar(Box::new(u64::from(x.to_bits()))),
                    Value::Double(x) => Slot::Scalar(Box::new(x.to_bits())),
                    Value::String(s) => {
                        let c = CString::new(s.replace('\0', "")).unwrap_or_default();
                        let p = Box::new(c.as_ptr().cast_mut());
                        Slot::Str(c, p)
                    }
                    Value::Name(s) => Slot::Name(OwnedName::new(s)),
                    Value::Any(b) => {
                        let mut bytes = b.clone();
                        let any = Box::new(SaAnyT {
                            bufferSize: bytes.len() as u64,
                            bufferAddr: if bytes.is_empty() {
                                std::ptr::null_mut()
                            } else {
                                bytes.as_mut_ptr()
                            },
                        });
                        Slot::Any(bytes, any)
                    }
                };
                // Box contents and CString buffers do not move when the owning Vec grows,
                // so these pointers stay valid as long as `slots` lives.
                let p: *mut c_void = match &slot {
                    Slot::Scalar(b) => (&**b as *const u64).cast_mut().cast(),
                    Slot::Str(_, p) => (&**p as *const *mut c_char).cast_mut().cast(),
                    Slot::Name(n) => n.as_ptr().cast_mut().cast(),
                    Slot::Any(_, a) => (&**a as *const SaAnyT).cast_mut().cast(),
                };
                arr.push(p);
                slots.push(slot);
            }
            let a = SaImmAttrValuesT_2 {
                attrName: cname.as_ptr().cast_mut(),
                attrValueType: SaImmValueTypeT(t.as_u32()),
                attrValuesNumber: vals.len() as u32,
                attrValues: if arr.is_empty() {
                    std::ptr::null_mut()
                } else {
                    arr.as_mut_ptr()
                },
            };
            names.push(cname);
            value_arrays.push(arr);
            attr_structs.push(a);
        }
        // Taken after the last push: the Vec's buffer no longer moves.
        let mut ptrs: Vec<*mut SaImmAttrValuesT_2> = attr_structs
            .iter_mut()
            .map(|b| b as *mut SaImmAttrValuesT_2)
            .collect();
        ptrs.push(std::ptr::null_mut());
        CAttrs {
            _names: names,
            _slots: slots,
            _value_arrays: value_arrays,
            _attrs: attr_structs,
            ptrs,
            object_name: None,
        }
    }

    /// The NULL-terminated array for `SaImmAttrValuesT_2 ***attributes`.
    pub fn as_ptr(&mut self) -> *mut *mut SaImmAttrValuesT_2 {
        self.ptrs.as_mut_ptr()
    }
}

/// The `(name, type, values)` triple for `SaImmValueTypeT` conversions in tests.
pub fn vtype_of(t: SaImmValueTypeT) -> Option<ValueType> {
    ValueType::from_u32(t.0)
}
