//! The AMF component side: initialize at B.04.01, register, healthcheck, respond.
//!
//! The callbacks run inside [`Amf::dispatch`] and reach the caller's [`AmfHandler`]
//! (`callbacks`: what they deliver, how to answer them).

mod callbacks;

use std::mem::ManuallyDrop;
use std::os::fd::RawFd;

use opensaf_sys::*;

pub use callbacks::{AmfHandler, AmfResponder, CsiDescriptor, HaState, Invocation};

use super::dispatch;
use super::error::{AisCodeExt, Error};
use super::handle::{self, Version};
use super::names::NameFns;
use super::retry::RetryPolicy;

const AMF_VERSION: Version = (b'B', 4, 1);

/// Recovery AMF should apply on a failed healthcheck or error report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovery(pub SaAmfRecommendedRecoveryT);

impl Recovery {
    pub const COMPONENT_RESTART: Recovery =
        Recovery(SaAmfRecommendedRecoveryT::SA_AMF_COMPONENT_RESTART);
    pub const COMPONENT_FAILOVER: Recovery =
        Recovery(SaAmfRecommendedRecoveryT::SA_AMF_COMPONENT_FAILOVER);
}

/// An initialized AMF handle. Drop finalizes it; [`Amf::finalize`] reports the answer.
pub struct Amf {
    api: &'static AmfApi,
    handle: SaAmfHandleT,
    names: NameFns,
}

impl Amf {
    /// `saAmfInitialize_4` at B.04.01 (retried on TRY_AGAIN: AMF may still be starting).
    pub fn initialize(api: &'static AmfApi, policy: &RetryPolicy) -> Result<Amf, Error> {
        let callbacks = callbacks::table();
        let handle = handle::initialize("saAmfInitialize_4", AMF_VERSION, policy, |h, v| {
            // SAFETY: all pointers are to live locals; AMF copies the callbacks struct.
            unsafe { (api.saAmfInitialize_4)(h, &callbacks, v) }
        })?;
        Ok(Amf {
            api,
            handle,
            names: NameFns::new(api.saAisNameLend, api.saAisNameBorrow),
        })
    }

    /// What a callback answers AMF with (also from another thread).
    fn responder(&self) -> AmfResponder {
        AmfResponder {
            api: self.api,
            handle: self.handle,
        }
    }

    /// The fd to poll; readable when a callback is pending.
    pub fn selection_fd(&self) -> Result<RawFd, Error> {
        handle::selection_fd("saAmfSelectionObjectGet", |fd| {
            // SAFETY: live handle, pointer to the caller's local.
            unsafe { (self.api.saAmfSelectionObjectGet)(self.handle, fd) }
        })
    }

    /// `saAmfComponentNameGet` (from SA_AMF_COMPONENT_NAME, set by AMF for the instantiate script).
    pub fn component_name(&self) -> Result<String, Error> {
        let mut name = SaNameT::default();
        // SAFETY: live handle, writes into a local SaNameT.
        unsafe { (self.api.saAmfComponentNameGet)(self.handle, &mut name) }
            .check("saAmfComponentNameGet")?;
        self.names
            .read(&name)
            .ok_or_else(|| Error::Invalid("AMF returned an empty component name".into()))
    }

    /// `saAmfComponentRegister(name, NULL proxy)`.
    pub fn register(&self, comp: &str, policy: &RetryPolicy) -> Result<(), Error> {
        let name = self.names.make(comp)?;
        policy.run("saAmfComponentRegister", || {
            // SAFETY: live handle, `name` outlives the call; NULL proxy is how an SA-aware
            // (non-proxied) component registers.
            unsafe {
                (self.api.saAmfComponentRegister)(self.handle, name.as_ptr(), std::ptr::null())
            }
            .into_result()
        })
    }

    /// `saAmfHealthcheckStart`, AMF-invoked. The key is at most 32 bytes (31 recommended).
    pub fn healthcheck_start(
        &self,
        comp: &str,
        key: &str,
        recovery: Recovery,
        policy: &RetryPolicy,
    ) -> Result<(), Error> {
        let name = self.names.make(comp)?;
        let k = hc_key(key)?;
        policy.run("saAmfHealthcheckStart", || {
            // SAFETY: live handle, pointers to live locals.
            unsafe {
                (self.api.saAmfHealthcheckStart)(
                    self.handle,
                    name.as_ptr(),
                    &k,
                    SaAmfHealthcheckInvocationT::SA_AMF_HEALTHCHECK_AMF_INVOKED,
                    recovery.0,
                )
            }
            .into_result()
        })
    }

    pub fn healthcheck_stop(&self, comp: &str, key: &str) -> Result<(), Error> {
        let name = self.names.make(comp)?;
        let k = hc_key(key)?;
        // SAFETY: live handle, pointers to live locals.
        unsafe { (self.api.saAmfHealthcheckStop)(self.handle, name.as_ptr(), &k) }
            .check("saAmfHealthcheckStop")
    }

    /// `saAmfComponentErrorReport_4`. AMF requires non-NULL correlation ids with root and
    /// parent set to SA_NTF_IDENTIFIER_UNUSED.
    pub fn error_report(&self, comp: &str, recovery: Recovery) -> Result<(), Error> {
        let name = self.names.make(comp)?;
        let mut ids = SaNtfCorrelationIdsT {
            rootCorrelationId: SA_NTF_IDENTIFIER_UNUSED,
            parentCorrelationId: SA_NTF_IDENTIFIER_UNUSED,
            notificationId: SA_NTF_IDENTIFIER_UNUSED,
        };
        let report = self.api.saAmfComponentErrorReport_4;
        // SAFETY: live handle, pointers to live locals. Detection time 0 means "now" to AMF.
        unsafe { report(self.handle, name.as_ptr(), 0, recovery.0, &mut ids) }
            .check("saAmfComponentErrorReport_4")
    }

    /// `saAmfDispatch`, routing the callbacks to `handler`. A handler panic is re-raised here.
    pub fn dispatch(
        &self,
        flags: SaDispatchFlagsT,
        handler: &mut dyn AmfHandler,
    ) -> Result<(), Error> {
        let mut lent = dispatch::Lent {
            handler,
            responder: self.responder(),
            names: self.names,
        };
        // SAFETY: live handle; the callbacks re-enter Rust only through the trampolines of
        // `callbacks`, which reach `lent` through `dispatch::run` and catch panics.
        callbacks::run(&mut lent, || unsafe {
            (self.api.saAmfDispatch)(self.handle, flags)
        })
    }

    /// `saAmfFinalize` for the shutdown path, with its answer (dropping an `Amf` finalizes
    /// too, but can only log a failure).
    pub fn finalize(self) -> Result<(), Error> {
        let this = ManuallyDrop::new(self);
        // SAFETY: the handle came from saAmfInitialize_4; `this` is never dropped, so it is
        // finalized exactly once.
        unsafe { (this.api.saAmfFinalize)(this.handle) }.check("saAmfFinalize")
    }
}

impl Drop for Amf {
    fn drop(&mut self) {
        // SAFETY: the handle came from saAmfInitialize_4 and is finalized exactly once.
        let rc = unsafe { (self.api.saAmfFinalize)(self.handle) };
        handle::log_finalize("saAmfFinalize", rc);
    }
}

fn hc_key(key: &str) -> Result<SaAmfHealthcheckKeyT, Error> {
    // keyLen counts the bytes, but AMF compares keys as C strings: keep room for a NUL.
    if key.is_empty() || key.len() >= SA_AMF_HEALTHCHECK_KEY_MAX || key.contains('\0') {
        return Err(Error::Invalid(format!(
            "healthcheck key {key:?} must be 1 to {} bytes without NUL",
            SA_AMF_HEALTHCHECK_KEY_MAX - 1
        )));
    }
    let mut k = SaAmfHealthcheckKeyT::default();
    k.key[..key.len()].copy_from_slice(key.as_bytes());
    k.keyLen = key.len() as SaUint16T;
    Ok(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthcheck_keys_are_zero_padded_and_bounded() {
        let k = hc_key("macsync").unwrap();
        assert_eq!(&k.key[..7], b"macsync");
        assert!(k.key[7..].iter().all(|&b| b == 0));
        assert_eq!(k.keyLen, 7);
        assert!(hc_key("").is_err());
        assert!(hc_key(&"k".repeat(31)).is_ok());
        assert!(hc_key(&"k".repeat(32)).is_err());
    }
}
