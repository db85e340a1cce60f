//! Per-call cost of runtime object create / update / delete with no emulated latency
//! (macsync writes 10 000 objects in one sync). Prints the figures; the bound is loose so
//! that an unoptimized build on a loaded CI machine passes.

// `call!` (tests/common) expands the test's argument expressions in its unsafe block.
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::time::{Duration, Instant};

use common::*;

const NODE: &str = "macSyncNodeId=SC-1";

#[test]
fn ten_thousand_objects() {
    isolated("ten_thousand_objects", &[], |env| {
        env.load_xml("../samples/macsync-classes.xml");
        let oi = oi_init(env, None);
        assert_eq!(impl_set(env, oi, "macsync-SC-1"), OK);
        let b = node_attrs(env, NODE, 0, 0);
        assert_eq!(rt_create(env, oi, "MacSyncNode", None, &b), OK);
        let n = 10_000u32;
        // Arguments are built before timing so only the library call is measured.
        let creates: Vec<Vec<AttrBuf>> = (0..n)
            .map(|i| {
                if_attrs(
                    env,
                    &format!("macSyncInterfaceId=eth{i}"),
                    "02:00:00:00:00:01",
                )
            })
            .collect();
        let parent = Name::new(env, NODE);
        let class = std::ffi::CString::new("MacSyncInterface").unwrap();
        let t0 = Instant::now();
        for c in &creates {
            let mut list = attr_list(c);
            let r = call!(
                env.oi().saImmOiRtObjectCreate_2,
                oi,
                class.as_ptr().cast_mut(),
                parent.ptr(),
                list.as_mut_ptr()
            );
            assert_eq!(r, OK);
        }
        let create = t0.elapsed() / n;
        let names: Vec<Name> = (0..n)
            .map(|i| Name::new(env, &format!("macSyncInterfaceId=eth{i},{NODE}")))
            .collect();
        let mac = attr(env, "macAddress", T_STRING, &[V::Str("02:00:00:00:00:02")]);
        let m = opensaf_sys::SaImmAttrModificationT_2 {
            modType: opensaf_sys::SaImmAttrModificationTypeT(3),
            modAttr: *mac.attr,
        };
        let mut mods = [
            &m as *const opensaf_sys::SaImmAttrModificationT_2,
            std::ptr::null(),
        ];
        let t0 = Instant::now();
        for nm in &names {
            assert_eq!(
                call!(
                    env.oi().saImmOiRtObjectUpdate_2,
                    oi,
                    nm.ptr(),
                    mods.as_mut_ptr()
                ),
                OK
            );
        }
        let update = t0.elapsed() / n;
        let t0 = Instant::now();
        for nm in &names {
            assert_eq!(call!(env.oi().saImmOiRtObjectDelete, oi, nm.ptr()), OK);
        }
        let delete = t0.elapsed() / n;
        println!("per call: create {create:?} update {update:?} delete {delete:?}");
        let journal = std::fs::metadata(env.dir.join("imm.journal"))
            .unwrap()
            .len();
        println!("journal after 30 000 operations: {journal} bytes");
        for d in [create, update, delete] {
            assert!(d < Duration::from_micros(500), "{d:?}");
        }
    });
}
