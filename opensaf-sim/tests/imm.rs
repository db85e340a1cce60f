//! IMM OI and OM through the C ABI of the built library: implementer names, runtime
//! object rules (with the codes measured on real OpenSAF), searches, accessors, long DNs,
//! admin operations and injected faults.

// `call!` (tests/common) expands the test's argument expressions in its unsafe block.
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::ffi::{c_char, CStr, CString};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::*;
use opensaf_sys::*;

const NODE: &str = "macSyncNodeId=SC-1";

fn setup(env: &Env, implementer: &str) -> u64 {
    env.load_xml("../samples/macsync-classes.xml");
    let oi = oi_init(env, None);
    assert_eq!(impl_set(env, oi, implementer), OK);
    let b = node_attrs(env, NODE, 0, 0);
    assert_eq!(rt_create(env, oi, "MacSyncNode", None, &b), OK);
    oi
}

fn ifdn(name: &str) -> String {
    format!("macSyncInterfaceId={name},{NODE}")
}

fn get(env: &Env, dn: &str) -> Result<Obj, SaAisErrorT> {
    let om = om_init(env);
    let r = search(env, om, Some(dn), 1, 0x100, None, None).map(|mut v| v.remove(0));
    assert_eq!(call!(env.om().saImmOmFinalize, om), OK);
    r
}

#[test]
fn oi_initialize_and_handles() {
    isolated("oi_initialize_and_handles", &[], |env| {
        let table: &[((u8, u8, u8), u32)] = &[
            ((b'A', 2, 1), 1),
            ((b'A', 2, 17), 1),
            ((b'A', 1, 1), 3),
            ((b'A', 3, 1), 3),
            ((b'B', 2, 1), 3),
        ];
        for &((r, ma, mi), code) in table {
            let mut h = 0;
            let mut v = version(r, ma, mi);
            assert_eq!(
                call!(
                    env.oi().saImmOiInitialize_2,
                    &mut h,
                    std::ptr::null(),
                    &mut v
                ),
                err(code)
            );
            assert_eq!((v.releaseCode, v.majorVersion), (b'A', 2));
            let mut v = version(r, ma, mi);
            assert_eq!(
                call!(env.om().saImmOmInitialize, &mut h, std::ptr::null(), &mut v),
                err(code)
            );
        }
        let mut v = version(b'A', 2, 1);
        assert_eq!(
            call!(
                env.oi().saImmOiInitialize_2,
                std::ptr::null_mut(),
                std::ptr::null(),
                &mut v
            ),
            err(7)
        );
        let h = oi_init(env, None);
        let mut fd = 0;
        assert_eq!(call!(env.oi().saImmOiSelectionObjectGet, h, &mut fd), OK);
        assert!(!readable(fd, 0));
        assert_eq!(
            call!(env.oi().saImmOiSelectionObjectGet, h, std::ptr::null_mut()),
            err(7)
        );
        assert_eq!(
            call!(env.oi().saImmOiDispatch, h, SaDispatchFlagsT(9)),
            err(7)
        );
        assert_eq!(call!(env.oi().saImmOiDispatch, h, SaDispatchFlagsT(2)), OK);
        assert_eq!(call!(env.oi().saImmOiFinalize, h), OK);
        assert_eq!(call!(env.oi().saImmOiFinalize, h), err(9));
        assert_eq!(
            call!(env.oi().saImmOiDispatch, h, SaDispatchFlagsT(1)),
            err(9)
        );
        let om = om_init(env);
        assert_eq!(call!(env.om().saImmOmFinalize, om), OK);
        assert_eq!(call!(env.om().saImmOmFinalize, om), err(9));
    });
}

#[test]
fn implementer_names() {
    isolated("implementer_names", &[], |env| {
        let a = oi_init(env, None);
        let b = oi_init(env, None);
        assert_eq!(
            call!(env.oi().saImmOiImplementerSet, a, std::ptr::null_mut()),
            err(7)
        );
        assert_eq!(impl_set(env, a, ""), err(7));
        assert_eq!(impl_set(env, a, "macsync-SC-1"), OK);
        assert_eq!(impl_set(env, a, "other"), err(14), "a handle has one name");
        assert_eq!(
            impl_set(env, b, "macsync-SC-1"),
            err(14),
            "held by a live handle"
        );
        assert_eq!(call!(env.oi().saImmOiImplementerClear, a), OK);
        assert_eq!(call!(env.oi().saImmOiImplementerClear, a), err(20));
        assert_eq!(impl_set(env, b, "macsync-SC-1"), OK);
        assert_eq!(impl_set(env, a, "macsync-SC-1"), err(14));
        assert_eq!(
            call!(env.oi().saImmOiFinalize, b),
            OK,
            "finalize releases the name"
        );
        assert_eq!(impl_set(env, a, "macsync-SC-1"), OK);
        assert_eq!(call!(env.oi().saImmOiImplementerClear, 4242), err(9));
    });
}

#[test]
fn runtime_object_create_rules() {
    isolated("runtime_object_create_rules", &[], |env| {
        // The creates are checked as real IMM checks them without any setting
        // (`imm_strict_create` is 1 by default).
        let oi = setup(env, "macsync-SC-1");
        let e = env;
        let s = |name: &str, v: &str| attr(e, name, T_STRING, &[V::Str(v)]);
        let rdn = |v: &str| s("macSyncInterfaceId", &format!("macSyncInterfaceId={v}"));
        let long_rdn = "x".repeat(70);
        struct Row {
            what: &'static str,
            class: &'static str,
            parent: Option<String>,
            attrs: Vec<AttrBuf>,
            code: u32,
        }
        let row = |what, class, parent: Option<&str>, attrs, code| Row {
            what,
            class,
            parent: parent.map(str::to_owned),
            attrs,
            code,
        };
        let table = vec![
            row(
                "create",
                "MacSyncInterface",
                Some(NODE),
                if_attrs(e, "macSyncInterfaceId=eth0", "aa:bb:cc:dd:ee:ff"),
                1,
            ),
            row(
                "existing DN",
                "MacSyncInterface",
                Some(NODE),
                vec![rdn("eth0")],
                14,
            ),
            row(
                "unknown class",
                "NoSuchClass",
                Some(NODE),
                vec![rdn("eth1")],
                12,
            ),
            row(
                "missing parent",
                "MacSyncInterface",
                Some("macSyncNodeId=nope"),
                vec![rdn("eth1")],
                12,
            ),
            row(
                "unescaped comma",
                "MacSyncInterface",
                Some(NODE),
                vec![rdn("a,b")],
                7,
            ),
            row(
                "escaped comma",
                "MacSyncInterface",
                Some(NODE),
                if_attrs(e, r"macSyncInterfaceId=a\,b", "x"),
                1,
            ),
            row("space", "MacSyncInterface", Some(NODE), vec![rdn("a b")], 7),
            row(
                "non-printable",
                "MacSyncInterface",
                Some(NODE),
                vec![rdn("a\u{1}b")],
                7,
            ),
            row(
                "RDN over 64",
                "MacSyncInterface",
                Some(NODE),
                vec![rdn(&long_rdn)],
                7,
            ),
            row(
                "RDN of another attribute",
                "MacSyncInterface",
                Some(NODE),
                vec![s("macSyncInterfaceId", "foo=bar")],
                7,
            ),
            row(
                "no RDN",
                "MacSyncInterface",
                Some(NODE),
                vec![s("macAddress", "x")],
                7,
            ),
            row(
                "zero values",
                "MacSyncInterface",
                Some(NODE),
                vec![rdn("eth2"), attr(e, "macAddress", T_STRING, &[])],
                7,
            ),
            row(
                "wrong type",
                "MacSyncInterface",
                Some(NODE),
                vec![rdn("eth2"), attr(e, "macAddress", T_U32, &[V::U32(1)])],
                7,
            ),
            row(
                "two values, single-valued",
                "MacSyncInterface",
                Some(NODE),
                vec![
                    rdn("eth2"),
                    attr(e, "ifIndex", T_U32, &[V::U32(1), V::U32(2)]),
                ],
                7,
            ),
            row(
                "unknown attribute",
                "MacSyncInterface",
                Some(NODE),
                vec![rdn("eth2"), s("bogus", "1")],
                12,
            ),
            row(
                "system attribute",
                "MacSyncInterface",
                Some(NODE),
                vec![rdn("eth2"), s("SaImmAttrImplementerName", "x")],
                7,
            ),
            row(
                "configuration class",
                "SaAmfApplication",
                None,
                vec![s("safApp", "safApp=x")],
                7,
            ),
            row(
                "top level, no parent",
                "MacSyncInterface",
                None,
                if_attrs(e, "macSyncInterfaceId=top", "x"),
                1,
            ),
            // As measured on OpenSAF 5.21.03: every cached attribute without a default
            // is given (operState left out here, then macAddress); a MAC given as ""
            // is taken.
            row(
                "cached attribute left out",
                "MacSyncInterface",
                Some(NODE),
                if_attrs(e, "macSyncInterfaceId=eth3", "x")
                    .into_iter()
                    .take(3)
                    .collect(),
                7,
            ),
            row(
                "macAddress left out",
                "MacSyncInterface",
                Some(NODE),
                if_attrs(e, "macSyncInterfaceId=eth3", "x")
                    .into_iter()
                    .enumerate()
                    .filter_map(|(i, a)| (i != 1).then_some(a))
                    .collect(),
                7,
            ),
            row(
                "empty macAddress",
                "MacSyncInterface",
                Some(NODE),
                if_attrs(e, "macSyncInterfaceId=eth4", ""),
                1,
            ),
        ];
        for r in &table {
            let got = rt_create(env, oi, r.class, r.parent.as_deref(), &r.attrs);
            assert_eq!(got, err(r.code), "{}", r.what);
        }
        // Not strict (read at the next initialize): the create is taken.
        env.cli_ok(&["config", "imm_strict_create=0"]);
        let _reload = oi_init(env, None);
        let partial: Vec<AttrBuf> = if_attrs(env, "macSyncInterfaceId=eth3", "x")
            .into_iter()
            .take(3)
            .collect();
        let got = rt_create(env, oi, "MacSyncInterface", Some(NODE), &partial);
        assert_eq!(got, OK, "imm_strict_create=0");
        // NULL arguments.
        let mut empty = attr_list(&[]);
        assert_eq!(
            call!(
                env.oi().saImmOiRtObjectCreate_2,
                oi,
                std::ptr::null_mut(),
                std::ptr::null(),
                empty.as_mut_ptr()
            ),
            err(7)
        );
        let cls = CString::new("MacSyncInterface").unwrap();
        assert_eq!(
            call!(
                env.oi().saImmOiRtObjectCreate_2,
                oi,
                cls.as_ptr().cast_mut(),
                std::ptr::null(),
                std::ptr::null_mut()
            ),
            err(7)
        );
        // A DN over 255 characters with RDNs under 64: NAME_TOO_LONG.
        let mut parent = NODE.to_string();
        let mut last = OK;
        for i in 0..5 {
            let v = format!("{i}{}", "p".repeat(40));
            let attrs = if_attrs(env, &format!("macSyncInterfaceId={v}"), "x");
            last = rt_create(env, oi, "MacSyncInterface", Some(&parent), &attrs);
            if last != OK {
                break;
            }
            parent = format!("macSyncInterfaceId={v},{parent}");
        }
        assert_eq!(last, err(13), "DN limit");
        // The escaped comma is stored (and found) as written.
        let found = env.cli_ok(&["immfind", "-c", "MacSyncInterface"]);
        assert!(
            found
                .lines()
                .any(|l| l == r"macSyncInterfaceId=a\,b,macSyncNodeId=SC-1"),
            "{found}"
        );
        // The RDN attribute holds the whole attr=value string.
        let o = get(env, &ifdn("eth0")).unwrap();
        assert_eq!(
            o.get("macSyncInterfaceId").unwrap(),
            &vec!["macSyncInterfaceId=eth0".to_string()]
        );
        assert_eq!(
            o.get("macAddress").unwrap(),
            &vec!["aa:bb:cc:dd:ee:ff".to_string()]
        );
        assert_eq!(
            o.get("SaImmAttrImplementerName").unwrap(),
            &vec!["macsync-SC-1".to_string()]
        );
        assert_eq!(
            o.get("SaImmAttrClassName").unwrap(),
            &vec!["MacSyncInterface".to_string()]
        );
    });
}

#[test]
fn runtime_object_update_delete_rules() {
    isolated("runtime_object_update_delete_rules", &[], |env| {
        let oi = setup(env, "macsync-SC-1");
        assert_eq!(
            create_if(
                env,
                oi,
                NODE,
                "macSyncInterfaceId=eth0",
                "aa:aa:aa:aa:aa:aa"
            ),
            OK
        );
        let eth0 = ifdn("eth0");
        let e = env;
        let mac = |v: &str| attr(e, "macAddress", T_STRING, &[V::Str(v)]);
        type Row<'a> = (&'a str, &'a str, Vec<(u32, AttrBuf)>, u32);
        let table: Vec<Row> = vec![
            ("replace", &eth0, vec![(3, mac("bb:bb:bb:bb:bb:bb"))], 1),
            (
                "missing object",
                "macSyncInterfaceId=nope,macSyncNodeId=SC-1",
                vec![(3, mac("x"))],
                12,
            ),
            (
                "wrong type",
                &eth0,
                vec![(3, attr(e, "macAddress", T_U32, &[V::U32(1)]))],
                7,
            ),
            ("add to a set single value", &eth0, vec![(1, mac("cc"))], 7),
            (
                "replace with none clears",
                &eth0,
                vec![(3, attr(e, "operState", T_U32, &[]))],
                1,
            ),
            (
                "add with no values",
                &eth0,
                vec![(1, attr(e, "operState", T_U32, &[]))],
                7,
            ),
            (
                "unknown attribute",
                &eth0,
                vec![(3, attr(e, "bogus", T_U32, &[V::U32(1)]))],
                12,
            ),
            ("bad modType", &eth0, vec![(9, mac("x"))], 7),
            (
                "RDN",
                &eth0,
                vec![(
                    3,
                    attr(
                        e,
                        "macSyncInterfaceId",
                        T_STRING,
                        &[V::Str("macSyncInterfaceId=x")],
                    ),
                )],
                7,
            ),
            (
                "add to empty",
                &eth0,
                vec![(1, attr(e, "operState", T_U32, &[V::U32(6)]))],
                1,
            ),
            (
                "delete value",
                &eth0,
                vec![(2, attr(e, "operState", T_U32, &[V::U32(6)]))],
                1,
            ),
            (
                "replace with none clears",
                &eth0,
                vec![(3, attr(e, "ifIndex", T_U32, &[]))],
                1,
            ),
        ];
        for (what, dn, mods, code) in table {
            assert_eq!(rt_update(env, oi, dn, &mods), err(code), "{what}");
        }
        let o = get(env, &eth0).unwrap();
        assert_eq!(
            o.get("macAddress").unwrap(),
            &vec!["bb:bb:bb:bb:bb:bb".to_string()]
        );
        assert!(o.get("operState").unwrap().is_empty());
        assert!(o.get("ifIndex").unwrap().is_empty());
        // Another implementer, and a handle without one: BAD_OPERATION.
        let other = oi_init(env, None);
        let bare = oi_init(env, None);
        assert_eq!(impl_set(env, other, "someone-else"), OK);
        assert_eq!(rt_update(env, other, &eth0, &[(3, mac("x"))]), err(20));
        assert_eq!(rt_delete(env, other, &eth0), err(20));
        assert_eq!(rt_delete(env, bare, &eth0), err(20));
        assert_eq!(rt_update(env, bare, &eth0, &[(3, mac("x"))]), err(20));
        assert_eq!(
            create_if(env, bare, NODE, "macSyncInterfaceId=eth9", "x"),
            err(20)
        );
        assert_eq!(rt_delete(env, 777, &eth0), err(9));
        // Delete: missing -> NOT_EXIST; a parent takes its runtime children with it,
        // unless one belongs to another implementer.
        assert_eq!(
            rt_delete(env, oi, "macSyncInterfaceId=nope,macSyncNodeId=SC-1"),
            err(12)
        );
        assert_eq!(create_if(env, oi, NODE, "macSyncInterfaceId=eth1", "x"), OK);
        assert_eq!(
            create_if(env, other, NODE, "macSyncInterfaceId=foreign", "x"),
            OK
        );
        assert_eq!(rt_delete(env, oi, NODE), err(20));
        assert_eq!(rt_delete(env, other, &ifdn("foreign")), OK);
        assert_eq!(rt_delete(env, oi, NODE), OK);
        assert_eq!(get(env, &eth0).unwrap_err(), err(12));
        let om = om_init(env);
        assert!(
            search(env, om, None, 3, 0x200, Some("MacSyncInterface"), None)
                .unwrap()
                .is_empty()
        );
        let n = Name::new(env, NODE);
        assert_eq!(
            call!(env.oi().saImmOiRtObjectDelete, oi, std::ptr::null()),
            err(7)
        );
        assert_eq!(
            call!(
                env.oi().saImmOiRtObjectUpdate_2,
                oi,
                n.ptr(),
                std::ptr::null_mut()
            ),
            err(7)
        );
    });
}

#[test]
fn search_and_accessor() {
    isolated("search_and_accessor", &[], |env| {
        let oi = setup(env, "macsync-SC-1");
        for i in 0..3 {
            assert_eq!(
                create_if(
                    env,
                    oi,
                    NODE,
                    &format!("macSyncInterfaceId=eth{i}"),
                    &format!("00:00:00:00:00:0{i}")
                ),
                OK
            );
        }
        let om = om_init(env);
        let dns = |v: Vec<Obj>| v.into_iter().map(|o| o.dn).collect::<Vec<_>>();
        // Whole tree with the class filter.
        let all = search(env, om, None, 3, 0x100, Some("MacSyncInterface"), None).unwrap();
        assert_eq!(
            dns(all.clone()),
            vec![ifdn("eth0"), ifdn("eth1"), ifdn("eth2")]
        );
        let o = &all[1];
        assert_eq!(
            o.get("macAddress").unwrap(),
            &vec!["00:00:00:00:00:01".to_string()]
        );
        assert_eq!(o.get("ifIndex").unwrap(), &vec!["7".to_string()]);
        assert_eq!(
            o.get("SaImmAttrClassName").unwrap(),
            &vec!["MacSyncInterface".to_string()]
        );
        assert_eq!(
            o.get("SaImmAttrImplementerName").unwrap(),
            &vec!["macsync-SC-1".to_string()]
        );
        // Scopes: ONE is the root; SUBLEVEL the root and its children; SUBTREE everything.
        assert_eq!(
            dns(search(env, om, Some(NODE), 1, 0x200, None, None).unwrap()),
            vec![NODE.to_string()]
        );
        assert_eq!(
            search(env, om, Some(NODE), 2, 0x200, None, None)
                .unwrap()
                .len(),
            4
        );
        assert_eq!(
            search(
                env,
                om,
                Some(NODE),
                2,
                0x200,
                Some("MacSyncInterface"),
                None
            )
            .unwrap()
            .len(),
            3
        );
        assert_eq!(
            search(env, om, Some(NODE), 3, 0x200, Some("MacSyncNode"), None)
                .unwrap()
                .len(),
            1
        );
        // GET_SOME / GET_NO.
        let some = search(
            env,
            om,
            Some(NODE),
            2,
            0x400,
            Some("MacSyncInterface"),
            Some(&["macAddress"]),
        )
        .unwrap();
        assert_eq!(some[0].attrs.len(), 1);
        assert_eq!(some[0].attrs[0].0, "macAddress");
        let none = search(
            env,
            om,
            Some(NODE),
            2,
            0x200,
            Some("MacSyncInterface"),
            None,
        )
        .unwrap();
        assert!(none[0].attrs.is_empty());
        // Errors.
        assert_eq!(
            search(env, om, Some("macSyncNodeId=nope"), 2, 0x100, None, None).unwrap_err(),
            err(12)
        );
        assert_eq!(
            search(env, om, Some(NODE), 4, 0x100, None, None).unwrap_err(),
            err(7)
        );
        assert_eq!(
            search(env, om, Some(NODE), 2, 0x400, None, None).unwrap_err(),
            err(7)
        );
        assert_eq!(
            search(env, om, Some(NODE), 2, 0x100, None, Some(&["x"])).unwrap_err(),
            err(7)
        );
        assert_eq!(
            search(env, om, Some(NODE), 2, 0x300, None, None).unwrap_err(),
            err(7)
        );
        let mut sh = 0;
        assert_eq!(
            call!(
                env.om().saImmOmSearchInitialize_2,
                om,
                std::ptr::null(),
                SaImmScopeT(3),
                0x101,
                std::ptr::null(),
                std::ptr::null(),
                &mut sh
            ),
            err(7)
        );
        assert_eq!(
            call!(
                env.om().saImmOmSearchInitialize_2,
                999,
                std::ptr::null(),
                SaImmScopeT(3),
                0x100,
                std::ptr::null(),
                std::ptr::null(),
                &mut sh
            ),
            err(9)
        );
        // A search is a snapshot taken at initialize; results stay valid until the next call.
        let root = Name::new(env, NODE);
        assert_eq!(
            call!(
                env.om().saImmOmSearchInitialize_2,
                om,
                root.ptr(),
                SaImmScopeT(2),
                0x100,
                std::ptr::null(),
                std::ptr::null(),
                &mut sh
            ),
            OK
        );
        assert_eq!(rt_delete(env, oi, &ifdn("eth2")), OK);
        let mut n = SaNameT::default();
        let mut attrs: *mut *mut SaImmAttrValuesT_2 = std::ptr::null_mut();
        let mut seen = Vec::new();
        while call!(env.om().saImmOmSearchNext_2, sh, &mut n, &mut attrs) == OK {
            let a = read_attrs(env, attrs);
            seen.push((borrow(env, &n), a.len()));
        }
        assert_eq!(
            seen.len(),
            4,
            "snapshot includes the object deleted after initialize"
        );
        assert_eq!(
            call!(env.om().saImmOmSearchNext_2, sh, &mut n, &mut attrs),
            err(12)
        );
        assert_eq!(
            call!(
                env.om().saImmOmSearchNext_2,
                sh,
                std::ptr::null_mut(),
                &mut attrs
            ),
            err(7)
        );
        assert_eq!(call!(env.om().saImmOmSearchFinalize, sh), OK);
        assert_eq!(call!(env.om().saImmOmSearchFinalize, sh), err(9));
        assert_eq!(
            call!(env.om().saImmOmSearchNext_2, sh, &mut n, &mut attrs),
            err(9)
        );
        // Accessor.
        let mut ah = 0;
        assert_eq!(call!(env.om().saImmOmAccessorInitialize, om, &mut ah), OK);
        let dn = Name::new(env, &ifdn("eth1"));
        assert_eq!(
            call!(
                env.om().saImmOmAccessorGet_2,
                ah,
                dn.ptr(),
                std::ptr::null(),
                &mut attrs
            ),
            OK
        );
        let a = read_attrs(env, attrs);
        assert!(a.iter().any(|(n, t, v)| n == "macAddress"
            && *t == 9
            && v == &vec!["00:00:00:00:00:01".to_string()]));
        assert!(a.iter().any(|(n, _, _)| n == "SaImmAttrImplementerName"));
        let one = CString::new("ifIndex").unwrap();
        let bogus = CString::new("bogus").unwrap();
        let names = [one.as_ptr().cast_mut(), std::ptr::null_mut::<c_char>()];
        assert_eq!(
            call!(
                env.om().saImmOmAccessorGet_2,
                ah,
                dn.ptr(),
                names.as_ptr(),
                &mut attrs
            ),
            OK
        );
        assert_eq!(
            read_attrs(env, attrs),
            vec![("ifIndex".to_string(), 2, vec!["7".to_string()])]
        );
        let names = [bogus.as_ptr().cast_mut(), std::ptr::null_mut::<c_char>()];
        assert_eq!(
            call!(
                env.om().saImmOmAccessorGet_2,
                ah,
                dn.ptr(),
                names.as_ptr(),
                &mut attrs
            ),
            err(12)
        );
        let gone = Name::new(env, &ifdn("eth2"));
        assert_eq!(
            call!(
                env.om().saImmOmAccessorGet_2,
                ah,
                gone.ptr(),
                std::ptr::null(),
                &mut attrs
            ),
            err(12)
        );
        assert_eq!(call!(env.om().saImmOmAccessorFinalize, ah), OK);
        assert_eq!(call!(env.om().saImmOmAccessorFinalize, ah), err(9));
        assert_eq!(call!(env.om().saImmOmFinalize, om), OK);
    });
}

#[test]
fn long_dns_need_environment_and_store_flag() {
    isolated(
        "long_dns_need_environment_and_store_flag",
        &[("SA_ENABLE_EXTENDED_NAMES", "1")],
        |env| {
            let oi = setup(env, "macsync-SC-1");
            let mut parent = NODE.to_string();
            for i in 0..4 {
                let v = format!("macSyncInterfaceId={i}{}", "q".repeat(40));
                let r = rt_create(
                    env,
                    oi,
                    "MacSyncInterface",
                    Some(&parent),
                    &if_attrs(env, &v, "x"),
                );
                if parent.len() + v.len() + 1 > 255 {
                    assert_eq!(r, err(13), "longDnsAllowed=0");
                    break;
                }
                assert_eq!(r, OK);
                parent = format!("{v},{parent}");
            }
            env.cli_ok(&[
                "immcfg",
                "-a",
                "longDnsAllowed=1",
                "opensafImm=opensafImm,safApp=safImmService",
            ]);
            let v = format!("macSyncInterfaceId=9{}", "q".repeat(40));
            let r = rt_create(
                env,
                oi,
                "MacSyncInterface",
                Some(&parent),
                &if_attrs(env, &v, "x"),
            );
            assert_eq!(r, OK);
            let dn = format!("{v},{parent}");
            assert!(dn.len() > 255);
            let o = get(env, &dn).unwrap();
            assert_eq!(o.dn, dn, "long names come back by pointer");
        },
    );
}

#[test]
fn long_names_rejected_without_environment() {
    isolated("long_names_rejected_without_environment", &[], |env| {
        let oi = setup(env, "macsync-SC-1");
        let long_parent = format!("macSyncNodeId={}", "z".repeat(300));
        assert_eq!(
            create_if(env, oi, &long_parent, "macSyncInterfaceId=a", "x"),
            err(7)
        );
    });
}

/// (invocation, object, operation id, parameters) of each admin-operation callback.
type AdminCall = (u64, String, u64, Vec<String>);
static ADMIN: Mutex<Vec<AdminCall>> = Mutex::new(Vec::new());
static OI_API: OnceLock<&'static ImmOiApi> = OnceLock::new();
static ANSWER: Mutex<u32> = Mutex::new(1);

unsafe extern "C" fn admin_cb(
    h: SaImmOiHandleT,
    inv: SaInvocationT,
    name: *const SaNameT,
    op: SaImmAdminOperationIdT,
    params: *mut *const SaImmAdminOperationParamsT_2,
) {
    let api = OI_API.get().unwrap();
    let b = call!(api.saAisNameBorrow, name);
    // SAFETY: Borrow gives a C string valid during the callback.
    let dn = unsafe { CStr::from_ptr(b) }.to_str().unwrap().to_string();
    let mut ps = Vec::new();
    let mut i = 0;
    loop {
        // SAFETY: NULL-terminated parameter array valid during the callback.
        let p = unsafe { *params.add(i) };
        if p.is_null() {
            break;
        }
        // SAFETY: as above; a SA_UINT32_T parameter's buffer holds a u32.
        let (n, v) = unsafe {
            (
                CStr::from_ptr((*p).paramName).to_str().unwrap().to_string(),
                *((*p).paramBuffer as *const u32),
            )
        };
        ps.push(format!("{n}={v}"));
        i += 1;
    }
    ADMIN.lock().unwrap().push((inv, dn, op, ps));
    let answer = *ANSWER.lock().unwrap();
    if answer != 0 {
        assert_eq!(
            call!(api.saImmOiAdminOperationResult, h, inv, SaAisErrorT(answer)),
            OK
        );
    }
}

#[test]
fn admin_operations_from_immadm() {
    isolated("admin_operations_from_immadm", &[], |env| {
        OI_API.get_or_init(|| env.oi());
        env.load_xml("../samples/macsync-classes.xml");
        let cbs = SaImmOiCallbacksT_2 {
            saImmOiAdminOperationCallback: Some(admin_cb),
            ..Default::default()
        };
        let oi = oi_init(env, Some(&cbs));
        assert_eq!(impl_set(env, oi, "macsync-SC-1"), OK);
        let b = node_attrs(env, NODE, 0, 0);
        assert_eq!(rt_create(env, oi, "MacSyncNode", None, &b), OK);
        let mut fd = 0;
        assert_eq!(call!(env.oi().saImmOiSelectionObjectGet, oi, &mut fd), OK);
        let api = env.oi();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop2 = stop.clone();
        let t = std::thread::spawn(move || {
            while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
                if readable(fd, 20) {
                    assert_eq!(call!(api.saImmOiDispatch, oi, SaDispatchFlagsT(2)), OK);
                }
            }
        });
        let out = env.cli_ok(&["immadm", "-o", "5", "-p", "level:SA_UINT32_T:3", NODE]);
        assert!(out.contains("SA_AIS_OK"), "{out}");
        assert_eq!(ADMIN.lock().unwrap()[0].1, NODE);
        assert_eq!(ADMIN.lock().unwrap()[0].2, 5);
        assert_eq!(ADMIN.lock().unwrap()[0].3, vec!["level=3".to_string()]);
        *ANSWER.lock().unwrap() = 21;
        let o = env.cli(&["immadm", "-o", "6", NODE]);
        assert!(!o.status.success());
        assert!(String::from_utf8_lossy(&o.stderr).contains("SA_AIS_ERR_FAILED_OPERATION"));
        *ANSWER.lock().unwrap() = 0;
        let t0 = Instant::now();
        let o = env.cli(&["immadm", "-o", "7", "-t", "0.3", NODE]);
        assert!(!o.status.success());
        assert!(String::from_utf8_lossy(&o.stderr).contains("SA_AIS_ERR_TIMEOUT"));
        assert!(t0.elapsed() < Duration::from_secs(3));
        // No implementer: configuration objects and unknown DNs.
        let o = env.cli(&["immadm", "-o", "1", "safApp=safImmService"]);
        assert!(String::from_utf8_lossy(&o.stderr).contains("SA_AIS_ERR_NOT_EXIST"));
        let o = env.cli(&["immadm", "-o", "1", "safApp=nothing"]);
        assert!(!o.status.success());
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        t.join().unwrap();
        assert_eq!(env.events_named("imm-admin-op").len(), 3);
    });
}

#[test]
fn fault_try_again_and_timeout() {
    isolated("fault_try_again_and_timeout", &[], |env| {
        let oi = setup(env, "macsync-SC-1");
        env.cli_ok(&["fault", "try-again", "--count", "2"]);
        let t = |n: &str| create_if(env, oi, NODE, &format!("macSyncInterfaceId={n}"), "x");
        assert_eq!(t("a"), err(6));
        assert_eq!(t("a"), err(6));
        assert_eq!(t("a"), OK, "the third call goes through");
        // TIMEOUT: the call took effect, the caller cannot know; a retry answers EXIST.
        env.cli_ok(&["fault", "timeout", "--count", "1"]);
        assert_eq!(t("b"), err(5));
        assert_eq!(t("b"), err(14));
        // A window of TRY_AGAIN.
        env.cli_ok(&["fault", "try-again", "--ms", "300"]);
        let t0 = Instant::now();
        let mut tries = 0;
        while t("c") == err(6) {
            tries += 1;
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            t0.elapsed() >= Duration::from_millis(280) && tries >= 5,
            "{:?} {tries}",
            t0.elapsed()
        );
        // Delay.
        env.cli_ok(&["fault", "delay", "--ms", "150", "--count", "1"]);
        let t0 = Instant::now();
        assert_eq!(t("d"), OK);
        assert!(t0.elapsed() >= Duration::from_millis(150));
        let t0 = Instant::now();
        assert_eq!(t("e"), OK);
        assert!(t0.elapsed() < Duration::from_millis(100));
        env.cli_ok(&["fault", "try-again", "--count", "5"]);
        env.cli_ok(&["fault", "clear"]);
        assert_eq!(t("f"), OK);
        assert!(!env.events_named("imm-fault").is_empty());
    });
}

#[test]
fn fault_refuse_one_object_leaves_the_others_alone() {
    isolated(
        "fault_refuse_one_object_leaves_the_others_alone",
        &[],
        |env| {
            let oi = setup(env, "macsync-SC-1");
            let (bad, bad_dn) = (
                "macSyncInterfaceId=a\\,1",
                "macSyncInterfaceId=a\\,1,macSyncNodeId=SC-1",
            );
            let dn = bad_dn.to_string();
            env.cli_ok(&[
                "fault", "refuse", "--op", "create", "--dn", &dn, "--code", "7",
            ]);
            env.cli_ok(&[
                "fault",
                "refuse",
                "--op",
                "update",
                "--dn",
                &ifdn("u"),
                "--code",
                "13",
            ]);
            assert_eq!(create_if(env, oi, NODE, bad, "x"), err(7));
            assert_eq!(create_if(env, oi, NODE, bad, "x"), err(7), "every time");
            assert_eq!(get(env, bad_dn).err(), Some(err(12)), "nothing created");
            assert_eq!(create_if(env, oi, NODE, "macSyncInterfaceId=b", "x"), OK);
            // An update refusal refuses updates only.
            assert_eq!(create_if(env, oi, NODE, "macSyncInterfaceId=u", "x"), OK);
            let mac = |v: &str| vec![(3, attr(env, "macAddress", T_STRING, &[V::Str(v)]))];
            assert_eq!(rt_update(env, oi, &ifdn("u"), &mac("y")), err(13));
            assert_eq!(rt_update(env, oi, &ifdn("b"), &mac("y")), OK);
            let hits: Vec<String> = env
                .events_named("imm-fault")
                .iter()
                .map(|e| {
                    let f = |k| e.str(k).unwrap_or("?");
                    format!("{} {} {}", f("call"), f("dn"), f("result"))
                })
                .collect();
            let create = format!("saImmOiRtObjectCreate_2 {bad_dn} SA_AIS_ERR_INVALID_PARAM");
            let update = format!(
                "saImmOiRtObjectUpdate_2 {} SA_AIS_ERR_NAME_TOO_LONG",
                ifdn("u")
            );
            assert_eq!(hits, [create.clone(), create, update]);
            env.cli_ok(&["fault", "clear"]);
            assert_eq!(create_if(env, oi, NODE, bad, "x"), OK);
            assert_eq!(rt_update(env, oi, &ifdn("u"), &mac("y")), OK);
            let o = env.cli(&[
                "fault", "refuse", "--op", "delete", "--dn", &dn, "--code", "7",
            ]);
            assert!(!o.status.success(), "only create and update can be refused");
        },
    );
}

#[test]
fn fault_pending_before_any_process() {
    isolated("fault_pending_before_any_process", &[], |env| {
        let o = env.cli_ok(&["fault", "try-again", "--count", "1"]);
        assert!(o.contains("next initialize"), "{o}");
        let mut h = 0;
        let mut v = version(b'A', 2, 1);
        assert_eq!(
            call!(env.om().saImmOmInitialize, &mut h, std::ptr::null(), &mut v),
            err(6)
        );
        assert_eq!(
            call!(env.om().saImmOmInitialize, &mut h, std::ptr::null(), &mut v),
            OK
        );
    });
}

#[test]
fn fault_bad_handle() {
    isolated("fault_bad_handle", &[], |env| {
        let oi = setup(env, "macsync-SC-1");
        assert_eq!(create_if(env, oi, NODE, "macSyncInterfaceId=eth0", "x"), OK);
        let om = om_init(env);
        let mut fd = 0;
        assert_eq!(call!(env.oi().saImmOiSelectionObjectGet, oi, &mut fd), OK);
        let api = env.oi();
        let blocking =
            std::thread::spawn(move || call!(api.saImmOiDispatch, oi, SaDispatchFlagsT(3)));
        std::thread::sleep(Duration::from_millis(50));
        let out = env.cli_ok(&["fault", "bad-handle"]);
        assert!(out.contains("stale"), "{out}");
        assert_eq!(
            blocking.join().unwrap(),
            err(9),
            "a blocking dispatch learns at once"
        );
        assert!(readable(fd, 100), "the selection object fires");
        assert_eq!(
            call!(env.oi().saImmOiDispatch, oi, SaDispatchFlagsT(2)),
            err(9)
        );
        assert_eq!(
            create_if(env, oi, NODE, "macSyncInterfaceId=eth1", "x"),
            err(9)
        );
        assert_eq!(
            rt_update(
                env,
                oi,
                &ifdn("eth0"),
                &[(3, attr(env, "macAddress", T_STRING, &[V::Str("y")]))]
            ),
            err(9)
        );
        assert_eq!(
            search(env, om, None, 3, 0x100, None, None).unwrap_err(),
            err(9)
        );
        assert_eq!(
            call!(env.oi().saImmOiFinalize, oi),
            OK,
            "a stale handle can be finalized"
        );
        assert_eq!(call!(env.om().saImmOmFinalize, om), OK);
        assert_eq!(call!(env.om().saImmOmFinalize, om), err(9));
        // Recovery: a new handle takes the same name and owns the objects again.
        let oi2 = oi_init(env, None);
        assert_eq!(impl_set(env, oi2, "macsync-SC-1"), OK);
        assert_eq!(
            rt_update(
                env,
                oi2,
                &ifdn("eth0"),
                &[(3, attr(env, "macAddress", T_STRING, &[V::Str("y")]))]
            ),
            OK
        );
        let om2 = om_init(env);
        assert_eq!(
            search(
                env,
                om2,
                Some(NODE),
                2,
                0x100,
                Some("MacSyncInterface"),
                None
            )
            .unwrap()
            .len(),
            1
        );
    });
}

#[test]
fn emulated_latency() {
    isolated(
        "emulated_latency",
        &[("OPENSAF_SIM_IMM_LATENCY_US", "250")],
        |env| {
            let oi = setup(env, "macsync-SC-1");
            let n = 200;
            let t0 = Instant::now();
            for i in 0..n {
                assert_eq!(
                    create_if(env, oi, NODE, &format!("macSyncInterfaceId=e{i}"), "x"),
                    OK
                );
            }
            let per = t0.elapsed() / n;
            assert!(
                per >= Duration::from_micros(250) && per < Duration::from_micros(1500),
                "{per:?}"
            );
        },
    );
}
