//! Reading IMM with the OM API: searches and single-object reads.

use std::ffi::{c_char, c_void};

use opensaf_sys::*;

use super::dn::Dn;
use super::error::{AisCode, AisCodeExt, Error};
use super::handle::{self, Version};
use super::names::NameFns;
use super::retry::RetryPolicy;
use super::values::{cstring, decode_attrs, Attr};

const OM_VERSION: Version = (b'A', 2, 11);

/// How far below the root a search reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only the root object.
    One,
    /// The root's direct children.
    Sublevel,
    /// The whole subtree.
    Subtree,
}

/// An object as a search or accessor returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImmObject {
    pub dn: String,
    pub attrs: Vec<Attr>,
}

impl ImmObject {
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }
}

/// An initialized OM handle. Drop finalizes it (and every search and accessor under it).
pub struct ImmOm {
    api: &'static ImmOmApi,
    handle: SaImmHandleT,
    names: NameFns,
    policy: RetryPolicy,
}

impl ImmOm {
    /// `saImmOmInitialize`. OM has no SaNameT helpers of its own: `names_from` is the OI
    /// library, which exports them.
    pub fn initialize(
        api: &'static ImmOmApi,
        names_from: &'static ImmOiApi,
        policy: RetryPolicy,
    ) -> Result<ImmOm, Error> {
        let handle = handle::initialize("saImmOmInitialize", OM_VERSION, &policy, |h, v| {
            // SAFETY: pointers to live locals; NULL callbacks: no async admin operations.
            unsafe { (api.saImmOmInitialize)(h, std::ptr::null(), v) }
        })?;
        Ok(ImmOm {
            api,
            handle,
            names: NameFns::new(names_from.saAisNameLend, names_from.saAisNameBorrow),
            policy,
        })
    }

    /// Objects under `root` (None: the whole tree) in `scope`, of `class` if given, with the
    /// attributes named in `attrs` (None: all).
    pub fn search(
        &self,
        root: Option<&Dn>,
        scope: Scope,
        class: Option<&str>,
        attrs: Option<&[&str]>,
    ) -> Result<Vec<ImmObject>, Error> {
        let init = self.api.saImmOmSearchInitialize_2;
        let next = self.api.saImmOmSearchNext_2;
        let fin = self.api.saImmOmSearchFinalize;

        let root = root.map(|r| self.names.make(r.as_str())).transpose()?;
        let root_ptr = root.as_ref().map_or(std::ptr::null(), |r| r.as_ptr());
        let class_attr = cstring("SaImmAttrClassName")?;
        let class_value = class.map(cstring).transpose()?;
        let mut class_ptr: *mut c_char = class_value
            .as_ref()
            .map_or(std::ptr::null_mut(), |c| c.as_ptr() as *mut c_char);
        let param = SaImmSearchParametersT_2 {
            searchOneAttr: SaImmSearchOneAttrT_2 {
                attrName: class_attr.as_ptr() as *mut c_char,
                attrValueType: SaImmValueTypeT::SA_IMM_ATTR_SASTRINGT,
                attrValue: &mut class_ptr as *mut *mut c_char as *mut c_void,
            },
        };
        let wanted = AttrNames::new(attrs)?;
        let mut options = if attrs.is_some() {
            SA_IMM_SEARCH_GET_SOME_ATTR
        } else {
            SA_IMM_SEARCH_GET_ALL_ATTR
        };
        if class.is_some() {
            options |= SA_IMM_SEARCH_ONE_ATTR;
        }
        let scope = match scope {
            Scope::One => SaImmScopeT::SA_IMM_ONE,
            Scope::Sublevel => SaImmScopeT::SA_IMM_SUBLEVEL,
            Scope::Subtree => SaImmScopeT::SA_IMM_SUBTREE,
        };
        let search = self.policy.run("saImmOmSearchInitialize_2", || {
            let mut sh: SaImmSearchHandleT = 0;
            // SAFETY: live handle; root name, search parameters (and the
            // strings they point at) and the NULL-terminated attribute-name list are live
            // locals that outlive the call.
            unsafe {
                init(
                    self.handle,
                    root_ptr,
                    scope,
                    options,
                    if class.is_some() {
                        &param
                    } else {
                        std::ptr::null()
                    },
                    wanted.as_ptr(),
                    &mut sh,
                )
            }
            .into_result()
            .map(|()| sh)
        });
        let search = match search {
            Ok(s) => s,
            // An empty search root is NOT_EXIST: nothing there.
            Err(e) if e.code() == Some(AisCode::NOT_EXIST) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let _fin = Finalize(search, fin);
        let mut out = Vec::new();
        loop {
            let mut name = SaNameT::default();
            let mut values: *mut *mut SaImmAttrValuesT_2 = std::ptr::null_mut();
            // SAFETY: live search handle, pointers to live locals; IMM keeps the returned
            // arrays valid until the next call on this search handle.
            let rc = unsafe { next(search, &mut name, &mut values) };
            match rc {
                AisCode::OK => {
                    let dn = self.names.read(&name).unwrap_or_default();
                    // SAFETY: IMM just returned this array for this search; read before the
                    // next call invalidates it.
                    let attrs = unsafe { decode_attrs(values, &self.names) };
                    out.push(ImmObject { dn, attrs });
                }
                AisCode::NOT_EXIST => return Ok(out),
                code => {
                    return Err(Error::Ais {
                        call: "saImmOmSearchNext_2",
                        code,
                    })
                }
            }
        }
    }

    /// One object's attributes (None: all), or None when it does not exist.
    pub fn get(&self, dn: &Dn, attrs: Option<&[&str]>) -> Result<Option<ImmObject>, Error> {
        let get = self.api.saImmOmAccessorGet_2;
        let mut acc: SaImmAccessorHandleT = 0;
        // SAFETY: live handle, pointer to a local.
        unsafe { (self.api.saImmOmAccessorInitialize)(self.handle, &mut acc) }
            .check("saImmOmAccessorInitialize")?;
        let fin = self.api.saImmOmAccessorFinalize;
        let _fin = Finalize(acc, fin);
        let name = self.names.make(dn.as_str())?;
        let wanted = AttrNames::new(attrs)?;
        let result = self.policy.run("saImmOmAccessorGet_2", || {
            let mut values: *mut *mut SaImmAttrValuesT_2 = std::ptr::null_mut();
            // SAFETY: live accessor; name and attribute list outlive the call; the returned
            // array is valid until the next call on the accessor.
            let rc = unsafe { get(acc, name.as_ptr(), wanted.as_ptr(), &mut values) };
            match rc {
                // SAFETY: as above, decoded before any other call on the accessor.
                AisCode::OK => Ok(Some(unsafe { decode_attrs(values, &self.names) })),
                AisCode::NOT_EXIST => Ok(None),
                c => Err(c),
            }
        })?;
        Ok(result.map(|attrs| ImmObject {
            dn: dn.as_str().to_string(),
            attrs,
        }))
    }
}

/// A NULL-terminated attribute-name list for IMM (`attrs` None: NULL, meaning "all").
struct AttrNames {
    _names: Vec<std::ffi::CString>,
    ptrs: Vec<SaImmAttrNameT>,
    all: bool,
}

impl AttrNames {
    fn new(attrs: Option<&[&str]>) -> Result<AttrNames, Error> {
        let names: Vec<_> = attrs
            .unwrap_or(&[])
            .iter()
            .map(|a| cstring(a))
            .collect::<Result<_, _>>()?;
        let mut ptrs: Vec<SaImmAttrNameT> =
            names.iter().map(|c| c.as_ptr() as SaImmAttrNameT).collect();
        ptrs.push(std::ptr::null_mut());
        Ok(AttrNames {
            _names: names,
            ptrs,
            all: attrs.is_none(),
        })
    }

    /// Valid while `self` lives: the CStrings' heap buffers do not move.
    fn as_ptr(&self) -> *const SaImmAttrNameT {
        if self.all {
            std::ptr::null()
        } else {
            self.ptrs.as_ptr()
        }
    }
}

/// Finalizes a search or accessor handle (both are SaUint64T) when the read is over.
struct Finalize(u64, unsafe extern "C" fn(u64) -> SaAisErrorT);

impl Drop for Finalize {
    fn drop(&mut self) {
        // SAFETY: the handle came from a successful SearchInitialize / AccessorInitialize
        // and this guard is its only owner, so it is finalized exactly once.
        unsafe { (self.1)(self.0) };
    }
}

impl Drop for ImmOm {
    fn drop(&mut self) {
        // SAFETY: the handle came from saImmOmInitialize and is finalized exactly once.
        let rc = unsafe { (self.api.saImmOmFinalize)(self.handle) };
        handle::log_finalize("saImmOmFinalize", rc);
    }
}
