//! The safe OpenSAF layer on its own, against the simulator in-process: IMM OI writes with
//! typed values and escaped DNs, OM reads, the error codes the component relies on, and
//! new handles after BAD_HANDLE (an IMM node director restart); and the AMF calls the
//! component does not exercise end to end (healthcheck stop, error report).

use std::path::Path;

use macsync::model::Counters;
use macsync::osaf::{
    AisCode, Amf, Attr, AttrValue, Dn, ImmOi, ImmOm, Recovery, RetryPolicy, Scope, MAX_DN,
};

fn sim(dir: &Path, args: &[&str]) {
    let mut argv = vec![
        "opensaf-sim".to_string(),
        "--dir".into(),
        dir.display().to_string(),
    ];
    argv.extend(args.iter().map(|s| s.to_string()));
    assert_eq!(opensaf_sim::cli::run(argv), 0, "opensaf-sim {args:?}");
}

#[test]
fn amf_calls_imm_writes_reads_errors_and_new_handles_after_bad_handle() {
    let dir = std::env::temp_dir().join(format!("macsync-osaf-layer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let classes = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/macsync-classes.xml");
    let amf_model = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/macsync-amf.xml");
    sim(
        &dir,
        &[
            "immcfg",
            "-f",
            classes.to_str().unwrap(),
            "-f",
            amf_model.to_str().unwrap(),
        ],
    );
    // Creates as real IMM checks them: every cached attribute without a default is given.
    sim(&dir, &["config", "imm_strict_create=1"]);
    let comp = "safComp=macsync,safSu=SC-1,safSg=macsync,safApp=macsync";
    // As AMF sets it for the instantiate script; before any AIS call, on the only thread.
    std::env::set_var("SA_AMF_COMPONENT_NAME", comp);
    opensaf_sim::use_state_dir(&dir).unwrap();
    let apis = opensaf_sim::apis();
    let quick = RetryPolicy {
        total: std::time::Duration::from_secs(2),
        ..Default::default()
    };

    let amf = Amf::initialize(apis.amf, &quick).unwrap();
    assert_eq!(amf.component_name().unwrap(), comp);
    amf.register(comp, &quick).unwrap();
    amf.healthcheck_start(comp, "macsync", Recovery::COMPONENT_RESTART, &quick)
        .unwrap();
    let again = amf.healthcheck_start(comp, "macsync", Recovery::COMPONENT_RESTART, &quick);
    assert_eq!(again.unwrap_err().code(), Some(AisCode::EXIST));
    amf.healthcheck_stop(comp, "macsync").unwrap();
    // AMF insists on non-NULL correlation ids with root and parent unused.
    amf.error_report(comp, Recovery::COMPONENT_RESTART).unwrap();
    let reports: Vec<_> = opensaf_sim::events::read_all(&dir)
        .into_iter()
        .filter(|e| e.name() == "error-report")
        .collect();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].str("comp"), Some(comp));
    drop(amf);

    let mut oi = ImmOi::initialize(apis.imm_oi, false, quick.clone()).unwrap();
    // Any runtime operation before ImplementerSet is BAD_OPERATION.
    let node = Dn::parse("macSyncNodeId=T-1", MAX_DN).unwrap();
    let mut node_attrs = vec![Attr::one(
        "macSyncNodeId",
        AttrValue::Str(node.rdn().into()),
    )];
    let counters = Counters {
        syncs: 7,
        ..Default::default()
    };
    node_attrs.extend(counters.attrs(1_700_000_000_000_000_000));
    let e = oi.create("MacSyncNode", None, &node_attrs).unwrap_err();
    assert_eq!(e.code(), Some(AisCode::BAD_OPERATION), "{e}");
    oi.implementer_set("macsync-T-1").unwrap();
    oi.create("MacSyncNode", None, &node_attrs).unwrap();
    assert_eq!(
        oi.create("MacSyncNode", None, &node_attrs)
            .unwrap_err()
            .code(),
        Some(AisCode::EXIST)
    );

    let ifdn = Dn::child(Some(&node), "macSyncInterfaceId", b"a,b=c", MAX_DN).unwrap();
    let if_attrs = [
        Attr::one("macSyncInterfaceId", AttrValue::Str(ifdn.rdn().into())),
        Attr::one("macAddress", AttrValue::Str("02:00:00:00:00:01".into())),
        Attr::one("ifIndex", AttrValue::U32(42)),
        Attr::one("operState", AttrValue::U32(6)),
    ];
    let e = oi
        .create("MacSyncInterface", Some(&node), &if_attrs[..3])
        .unwrap_err();
    assert_eq!(
        e.code(),
        Some(AisCode::INVALID_PARAM),
        "operState left out: {e}"
    );
    oi.create("MacSyncInterface", Some(&node), &if_attrs)
        .unwrap();
    let missing_parent = Dn::parse("macSyncNodeId=nowhere", MAX_DN).unwrap();
    let e = oi
        .create("MacSyncInterface", Some(&missing_parent), &if_attrs)
        .unwrap_err();
    assert_eq!(e.code(), Some(AisCode::NOT_EXIST), "missing parent: {e}");
    let e = oi
        .create("NoSuchClass", Some(&node), &if_attrs)
        .unwrap_err();
    assert_eq!(e.code(), Some(AisCode::NOT_EXIST), "unknown class: {e}");

    // OM sees what OI wrote, typed, under the escaped DN.
    let om = ImmOm::initialize(apis.imm_om, apis.imm_oi, quick.clone()).unwrap();
    let found = om
        .search(
            Some(&node),
            Scope::Sublevel,
            Some("MacSyncInterface"),
            Some(&["macAddress", "ifIndex"]),
        )
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].dn,
        "macSyncInterfaceId=a\\,b\\=c,macSyncNodeId=T-1"
    );
    assert_eq!(
        found[0].attr("ifIndex").unwrap().values,
        vec![AttrValue::U32(42)]
    );
    let n = om
        .get(&node, Some(&["syncs", "lastSyncTime"]))
        .unwrap()
        .unwrap();
    assert_eq!(n.attr("syncs").unwrap().values, vec![AttrValue::U64(7)]);
    assert_eq!(
        n.attr("lastSyncTime").unwrap().values,
        vec![AttrValue::Time(1_700_000_000_000_000_000)]
    );
    assert_eq!(om.get(&missing_parent, None).unwrap(), None);

    // IMM's node director restarts: every handle is dead; a new one, with the implementer
    // set again, owns the objects again.
    sim(&dir, &["fault", "bad-handle"]);
    let update = [Attr::one("ifIndex", AttrValue::U32(43))];
    let e = oi.update(&ifdn, &update).unwrap_err();
    assert!(e.is_bad_handle(), "{e}");
    // As the sync worker does: the dead handle is finalized first (if only the OM handle had
    // died, the OI handle would still hold the name), then a new one takes the name.
    drop(oi);
    let mut oi = ImmOi::initialize(apis.imm_oi, false, quick.clone()).unwrap();
    oi.implementer_set("macsync-T-1").unwrap();
    assert_eq!(oi.implementer(), Some("macsync-T-1"));
    oi.update(&ifdn, &update).unwrap();
    assert!(om.get(&ifdn, None).unwrap_err().is_bad_handle());
    let om = ImmOm::initialize(apis.imm_om, apis.imm_oi, quick).unwrap();
    let got = om.get(&ifdn, Some(&["ifIndex"])).unwrap().unwrap();
    assert_eq!(
        got.attr("ifIndex").unwrap().values,
        vec![AttrValue::U32(43)]
    );

    // Deleting the node deletes its runtime children; deleting again is NOT_EXIST.
    oi.delete(&node).unwrap();
    assert_eq!(om.get(&ifdn, None).unwrap(), None);
    assert_eq!(
        oi.delete(&node).unwrap_err().code(),
        Some(AisCode::NOT_EXIST)
    );
    drop((oi, om));
    let _ = std::fs::remove_dir_all(&dir);
}
