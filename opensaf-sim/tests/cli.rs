//! The `opensaf-sim` binary: immlist/immfind output, immcfg -a/-d, events, config,
//! status, errors.

// `call!` (tests/common) expands the test's argument expressions in its unsafe block.
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

const NODE: &str = "macSyncNodeId=SC-1";

#[test]
fn immlist_and_immfind_print_like_the_real_tools() {
    isolated(
        "immlist_and_immfind_print_like_the_real_tools",
        &[],
        |env| {
            env.load_xml("../samples/macsync-classes.xml");
            let oi = oi_init(env, None);
            assert_eq!(impl_set(env, oi, "macsync-SC-1"), OK);
            let b = node_attrs(env, NODE, 3, 10_000_000_000_000);
            assert_eq!(rt_create(env, oi, "MacSyncNode", None, &b), OK);
            assert_eq!(
                create_if(
                    env,
                    oi,
                    NODE,
                    "macSyncInterfaceId=eth0",
                    "aa:bb:cc:dd:ee:ff"
                ),
                OK
            );
            assert_eq!(
                create_if(
                    env,
                    oi,
                    NODE,
                    r"macSyncInterfaceId=a\,b",
                    "00:00:00:00:00:01"
                ),
                OK
            );
            let eth0 = format!("macSyncInterfaceId=eth0,{NODE}");
            let none = attr(env, "operState", T_U32, &[]);
            assert_eq!(rt_update(env, oi, &eth0, &[(3, none)]), OK);
            let out = env.cli_ok(&["immlist", &eth0]);
            let line = |name: &str| {
                out.lines()
                    .find(|l| l.starts_with(name))
                    .unwrap_or_else(|| panic!("{name} in {out}"))
                    .to_string()
            };
            let cols = |l: String| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
            assert_eq!(
                cols(line("macAddress")),
                vec!["macAddress", "SA_STRING_T", "aa:bb:cc:dd:ee:ff"]
            );
            assert_eq!(
                cols(line("ifIndex")),
                vec!["ifIndex", "SA_UINT32_T", "7", "(0x7)"]
            );
            assert_eq!(
                cols(line("operState")),
                vec!["operState", "SA_UINT32_T", "<Empty>"]
            );
            assert_eq!(
                cols(line("SaImmAttrImplementerName")),
                vec!["SaImmAttrImplementerName", "SA_STRING_T", "macsync-SC-1"]
            );
            assert_eq!(
                cols(line("SaImmAttrClassName")),
                vec!["SaImmAttrClassName", "SA_STRING_T", "MacSyncInterface"]
            );
            let out = env.cli_ok(&["immlist", NODE]);
            assert!(
                out.contains("lastSyncTime")
                    && out.contains("10000000000000 (0x9184e72a000, Thu Jan  1 02:46:40 1970)"),
                "{out}"
            );
            let out = env.cli_ok(&[
                "immlist",
                "-a",
                "macAddress",
                &format!(r"macSyncInterfaceId=a\,b,{NODE}"),
            ]);
            assert_eq!(out, "macAddress=00:00:00:00:00:01\n");
            let found = env.cli_ok(&["immfind", "-c", "MacSyncInterface"]);
            assert_eq!(
                found,
                format!("macSyncInterfaceId=a\\,b,{NODE}\nmacSyncInterfaceId=eth0,{NODE}\n")
            );
            let found = env.cli_ok(&["immfind", NODE]);
            assert_eq!(found.lines().next(), Some(NODE), "the root comes first");
            assert_eq!(found.lines().count(), 3);
            assert_eq!(
                env.cli_ok(&["immfind", NODE, "-s", "one"]),
                format!("{NODE}\n")
            );
            // Errors: unknown object, unknown root.
            let o = env.cli(&["immlist", "macSyncNodeId=nope"]);
            assert_eq!(o.status.code(), Some(1));
            assert!(String::from_utf8_lossy(&o.stderr).contains("SA_AIS_ERR_NOT_EXIST"));
            assert_eq!(
                env.cli(&["immfind", "macSyncNodeId=nope"]).status.code(),
                Some(1)
            );
            // Runtime objects cannot be changed with immcfg.
            assert!(!env.cli(&["immcfg", "-a", "syncs=4", NODE]).status.success());
            assert!(!env.cli(&["immcfg", "-d", NODE]).status.success());
        },
    );
}

#[test]
fn immcfg_modify_and_delete_configuration() {
    isolated("immcfg_modify_and_delete_configuration", &[], |env| {
        env.load_xml("tests/data/amf-model.xml");
        let hct = "safHealthcheckKey=macsync,safVersion=1,safCompType=macsync";
        env.cli_ok(&[
            "immcfg",
            "-a",
            "saAmfHctDefPeriod=5000000000",
            "-a",
            "saAmfHctDefMaxDuration=3000000000",
            hct,
        ]);
        assert_eq!(
            env.cli_ok(&["immlist", "-a", "saAmfHctDefPeriod", hct]),
            "saAmfHctDefPeriod=5000000000\n"
        );
        assert!(!env
            .cli(&["immcfg", "-a", "saAmfHctDefPeriod=abc", hct])
            .status
            .success());
        assert!(!env.cli(&["immcfg", "-a", "nosuch=1", hct]).status.success());
        assert!(!env
            .cli(&["immcfg", "-a", "saAmfHctDefPeriod=1", "safApp=nope"])
            .status
            .success());
        env.cli_ok(&["immcfg", "-d", "safApp=macsync"]);
        assert_eq!(env.cli_ok(&["immfind", "-c", "SaAmfComp"]), "");
    });
}

#[test]
fn events_follow_until() {
    isolated("events_follow_until", &[], |env| {
        let mut follower = Command::new(cli())
            .arg("--dir")
            .arg(&env.dir)
            .args([
                "events",
                "--follow",
                "--until",
                "amf-initialize",
                "--timeout",
                "10",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(200));
        let mut h = 0;
        let mut v = version(b'B', 4, 1);
        assert_eq!(
            call!(
                env.amf().saAmfInitialize_4,
                &mut h,
                std::ptr::null(),
                &mut v
            ),
            OK
        );
        let status = follower.wait().unwrap();
        assert!(status.success());
        let out = env.cli_ok(&["events", "--json"]);
        assert!(out
            .lines()
            .any(|l| l.contains("\"event\":\"amf-initialize\"") && l.contains("\"time\":")));
        let out = env.cli_ok(&["events"]);
        assert!(out.contains("amf-initialize"));
        let o = env.cli(&[
            "events",
            "--follow",
            "--until",
            "never-happens",
            "--timeout",
            "0.2",
        ]);
        assert_eq!(o.status.code(), Some(1));
    });
}

#[test]
fn config_status_and_usage() {
    isolated("config_status_and_usage", &[], |env| {
        let out = env.cli_ok(&[
            "config",
            "imm_latency_us=250",
            "csi_name=safCsi=x,safSi=y,safApp=z",
        ]);
        assert!(
            out.contains("imm_latency_us=250")
                && out.contains("csi_name=safCsi=x,safSi=y,safApp=z"),
            "{out}"
        );
        assert!(!env.cli(&["config", "bogus=1"]).status.success());
        env.load_xml("../samples/macsync-classes.xml");
        let oi = oi_init(env, None);
        assert_eq!(impl_set(env, oi, "macsync-SC-1"), OK);
        let out = env.cli_ok(&["status"]);
        assert!(
            out.contains("implementer macsync-SC-1") && out.contains("live"),
            "{out}"
        );
        assert!(
            out.contains(&format!("pid={}", std::process::id())),
            "{out}"
        );
        let out = env.cli_ok(&["help"]);
        assert!(out.contains("immcfg -f FILE.xml"));
        assert_eq!(env.cli(&["frobnicate"]).status.code(), Some(1));
        let o = Command::new(cli())
            .arg("immlist")
            .arg("x")
            .env_remove("OPENSAF_SIM_DIR")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
    });
}

#[test]
fn services_down_without_state_dir() {
    isolated(
        "services_down_without_state_dir",
        &[("OPENSAF_SIM_DIR", "")],
        |env| {
            // Without OPENSAF_SIM_DIR the simulated node directors are "down".
            let mut h = 0;
            let mut v = version(b'B', 4, 1);
            assert_eq!(
                call!(
                    env.amf().saAmfInitialize_4,
                    &mut h,
                    std::ptr::null(),
                    &mut v
                ),
                err(6)
            );
            let mut v = version(b'A', 2, 1);
            assert_eq!(
                call!(env.om().saImmOmInitialize, &mut h, std::ptr::null(), &mut v),
                err(6)
            );
            assert_eq!(
                call!(
                    env.oi().saImmOiInitialize_2,
                    &mut h,
                    std::ptr::null(),
                    &mut v
                ),
                err(6)
            );
        },
    );
}
