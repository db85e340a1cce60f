//! A simulator of the parts of OpenSAF 5.21.03 that macsync uses: the AMF component API
//! (B.04.01), the IMM OM/OI APIs (A.02) and CLM (B.04.01), with the error codes, callback
//! order and timing of the real services (see `shared/opensaf-notes.md`).
//!
//! Built as a cdylib exporting the same C symbols as `libSaAmf.so.0`, `libSaImmOm.so.0`,
//! `libSaImmOi.so.0` and `libSaClm.so.0`: [`install_lib_dir`] makes a directory whose
//! sonames point at it, so a component loads it through `OPENSAF_LIB_DIR` exactly as it loads OpenSAF.
//! [`apis`] gives the same functions as `opensaf_sys` tables for in-process use.
//!
//! State lives in the directory named by `OPENSAF_SIM_DIR` (or [`use_state_dir`]): the IMM
//! store (a journal shared by every process using the directory), `config`, the event log
//! and the CLI servers' registrations. The `opensaf-sim` binary is the command-line
//! side (immcfg, immlist, immfind, immadm, events, amf, clm, fault).

pub mod amf;
pub mod cli;
pub mod cli_server;
pub mod clm;
pub mod clock;
pub mod config;
pub mod dispatch;
pub mod eventfd;
pub mod events;
pub mod faults;
pub mod ffi;
pub mod ids;
pub mod imm;
pub mod instance;
pub mod mutex;
pub mod names;
pub mod process;

use std::io;
use std::path::Path;

use opensaf_sys::{AmfApi, Apis, ClmApi, ImmOiApi, ImmOmApi};

pub use config::DIR_VAR;

/// The sonames a component loads, all served by this one library.
pub const SONAMES: [&str; 4] = [
    "libSaAmf.so.0",
    "libSaImmOm.so.0",
    "libSaImmOi.so.0",
    "libSaClm.so.0",
];

/// Makes `dir` a library directory for `OPENSAF_LIB_DIR`: each OpenSAF soname becomes a
/// symlink to `cdylib` (the built `libopensaf_sim.so`). Existing links are replaced.
pub fn install_lib_dir(dir: &Path, cdylib: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let target = if cdylib.is_absolute() {
        cdylib.to_path_buf()
    } else {
        std::env::current_dir()?.join(cdylib)
    };
    if !target.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "{} does not exist (build the opensaf-sim cdylib first)",
                target.display()
            ),
        ));
    }
    for so in SONAMES {
        let link = dir.join(so);
        match std::fs::remove_file(&link) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        std::os::unix::fs::symlink(&target, &link)?;
    }
    Ok(())
}

/// Fixes this process's state directory before its first AIS call (instead of
/// `OPENSAF_SIM_DIR`); fails if another directory is already in use.
pub fn use_state_dir(dir: &Path) -> io::Result<()> {
    instance::use_dir(dir)?;
    if let Some(inst) = instance::current() {
        cli_server::start(inst);
    }
    Ok(())
}

static AMF_API: AmfApi = AmfApi {
    saAisNameLend: ffi::names::saAisNameLend,
    saAisNameBorrow: ffi::names::saAisNameBorrow,
    saAmfInitialize_4: ffi::amf::saAmfInitialize_4,
    saAmfSelectionObjectGet: ffi::amf::saAmfSelectionObjectGet,
    saAmfDispatch: ffi::amf::saAmfDispatch,
    saAmfFinalize: ffi::amf::saAmfFinalize,
    saAmfComponentNameGet: ffi::amf::saAmfComponentNameGet,
    saAmfComponentRegister: ffi::amf::saAmfComponentRegister,
    saAmfComponentUnregister: ffi::amf::saAmfComponentUnregister,
    saAmfHealthcheckStart: ffi::amf::saAmfHealthcheckStart,
    saAmfHealthcheckStop: ffi::amf::saAmfHealthcheckStop,
    saAmfResponse_4: ffi::amf::saAmfResponse_4,
    saAmfCSIQuiescingComplete: ffi::amf::saAmfCSIQuiescingComplete,
    saAmfComponentErrorReport_4: ffi::amf::saAmfComponentErrorReport_4,
};

static IMM_OM_API: ImmOmApi = ImmOmApi {
    saImmOmInitialize: ffi::imm_om::saImmOmInitialize,
    saImmOmFinalize: ffi::imm_om::saImmOmFinalize,
    saImmOmSearchInitialize_2: ffi::imm_om::saImmOmSearchInitialize_2,
    saImmOmSearchNext_2: ffi::imm_om::saImmOmSearchNext_2,
    saImmOmSearchFinalize: ffi::imm_om::saImmOmSearchFinalize,
    saImmOmAccessorInitialize: ffi::imm_om::saImmOmAccessorInitialize,
    saImmOmAccessorGet_2: ffi::imm_om::saImmOmAccessorGet_2,
    saImmOmAccessorFinalize: ffi::imm_om::saImmOmAccessorFinalize,
};

static IMM_OI_API: ImmOiApi = ImmOiApi {
    saAisNameLend: ffi::names::saAisNameLend,
    saAisNameBorrow: ffi::names::saAisNameBorrow,
    saImmOiInitialize_2: ffi::imm_oi::saImmOiInitialize_2,
    saImmOiSelectionObjectGet: ffi::imm_oi::saImmOiSelectionObjectGet,
    saImmOiDispatch: ffi::imm_oi::saImmOiDispatch,
    saImmOiFinalize: ffi::imm_oi::saImmOiFinalize,
    saImmOiImplementerSet: ffi::imm_oi::saImmOiImplementerSet,
    saImmOiImplementerClear: ffi::imm_oi::saImmOiImplementerClear,
    saImmOiRtObjectCreate_2: ffi::imm_oi::saImmOiRtObjectCreate_2,
    saImmOiRtObjectDelete: ffi::imm_oi::saImmOiRtObjectDelete,
    saImmOiRtObjectUpdate_2: ffi::imm_oi::saImmOiRtObjectUpdate_2,
    saImmOiAdminOperationResult: ffi::imm_oi::saImmOiAdminOperationResult,
};

static CLM_API: ClmApi = ClmApi {
    saClmInitialize_4: ffi::clm::saClmInitialize_4,
    saClmSelectionObjectGet: ffi::clm::saClmSelectionObjectGet,
    saClmDispatch: ffi::clm::saClmDispatch,
    saClmFinalize: ffi::clm::saClmFinalize,
    saClmClusterTrack_4: ffi::clm::saClmClusterTrack_4,
    saClmClusterTrackStop: ffi::clm::saClmClusterTrackStop,
    saClmClusterNotificationFree_4: ffi::clm::saClmClusterNotificationFree_4,
    saClmClusterNodeGet_4: ffi::clm::saClmClusterNodeGet_4,
};

/// The simulator's own functions as `opensaf_sys` tables (for `macsync --sim`). Building
/// them as struct literals also checks every signature against the C declarations.
pub fn apis() -> Apis {
    Apis {
        amf: &AMF_API,
        imm_om: &IMM_OM_API,
        imm_oi: &IMM_OI_API,
        clm: &CLM_API,
    }
}
