//! The system model a fresh store starts with, as a real OpenSAF cluster's IMM holds it
//! after installation: the AMF, SMF and CLM classes (written from the AMF B.04.01
//! information model; attributes a configuration file may set) and the base objects of a
//! four-node cluster (SC-1, SC-2, PL-3, PL-4), all four CLM members, plus the IMM service
//! object with `longDnsAllowed`.

use super::journal::Op;
use super::model::{flags, AttrDef, Category, ClassDef, ValueType};
use super::state::{ImmState, IMM_SERVICE_DN};

/// The nodes of the built-in cluster.
pub const NODES: &[&str] = &["SC-1", "SC-2", "PL-3", "PL-4"];

// Attribute spec: "name:T[flags]" with T one of I(int32) U(uint32) L(int64) Q(uint64)
// T(time) N(name) S(string) F(float) D(double) A(any); flags: m multi-value,
// r cached runtime, p persistent; otherwise a writable configuration attribute.
type Spec = (&'static str, &'static str, &'static [&'static str]);

const CLASSES: &[Spec] = &[
    ("SaAmfAppBaseType", "safAppType:S", &[]),
    ("SaAmfAppType", "safVersion:S", &["saAmfApptSGTypes:Nm"]),
    ("SaAmfSGBaseType", "safSgType:S", &[]),
    (
        "SaAmfSGType",
        "safVersion:S",
        &[
            "saAmfSgtRedundancyModel:U",
            "saAmfSgtValidSuTypes:Nm",
            "saAmfSgtDefAutoRepair:U",
            "saAmfSgtDefAutoAdjust:U",
            "saAmfSgtDefAutoAdjustProb:T",
            "saAmfSgtDefCompRestartProb:T",
            "saAmfSgtDefCompRestartMax:U",
            "saAmfSgtDefSuRestartProb:T",
            "saAmfSgtDefSuRestartMax:U",
        ],
    ),
    ("SaAmfSUBaseType", "safSuType:S", &[]),
    (
        "SaAmfSUType",
        "safVersion:S",
        &[
            "saAmfSutIsExternal:U",
            "saAmfSutDefSUFailover:U",
            "saAmfSutProvidesSvcTypes:Nm",
        ],
    ),
    ("SaAmfCompBaseType", "safCompType:S", &[]),
    (
        "SaAmfCompType",
        "safVersion:S",
        &[
            "saAmfCtCompCategory:U",
            "saAmfCtSwBundle:N",
            "saAmfCtDefCmdEnv:Sm",
            "saAmfCtDefClcCliTimeout:T",
            "saAmfCtDefCallbackTimeout:T",
            "saAmfCtRelPathInstantiateCmd:S",
            "saAmfCtDefInstantiateCmdArgv:Sm",
            "saAmfCtDefInstantiationLevel:U",
            "saAmfCtRelPathTerminateCmd:S",
            "saAmfCtDefTerminateCmdArgv:Sm",
            "saAmfCtRelPathCleanupCmd:S",
            "saAmfCtDefCleanupCmdArgv:Sm",
            "saAmfCtRelPathAmStartCmd:S",
            "saAmfCtDefAmStartCmdArgv:Sm",
            "saAmfCtRelPathAmStopCmd:S",
            "saAmfCtDefAmStopCmdArgv:Sm",
            "saAmfCtDefQuiescingCompleteTimeout:T",
            "saAmfCtDefRecoveryOnError:U",
            "saAmfCtDefDisableRestart:U",
            "osafAmfCtRelPathHcCmd:S",
            "osafAmfCtDefHcCmdArgv:Sm",
        ],
    ),
    ("SaAmfCSBaseType", "safCSType:S", &[]),
    ("SaAmfCSType", "safVersion:S", &["saAmfCSAttrName:Sm"]),
    ("SaAmfSvcBaseType", "safSvcType:S", &[]),
    (
        "SaAmfSvcType",
        "safVersion:S",
        &["saAmfSvcDefActiveWeight:Sm", "saAmfSvcDefStandbyWeight:Sm"],
    ),
    (
        "SaAmfSvcTypeCSTypes",
        "safMemberCSType:N",
        &["saAmfSvctMaxNumCSIs:U"],
    ),
    (
        "SaAmfSutCompType",
        "safMemberCompType:N",
        &["saAmfSutMaxNumComponents:U", "saAmfSutMinNumComponents:U"],
    ),
    (
        "SaAmfCtCsType",
        "safSupportedCsType:N",
        &[
            "saAmfCtCompCapability:U",
            "saAmfCtDefNumMaxActiveCSIs:U",
            "saAmfCtDefNumMaxStandbyCSIs:U",
        ],
    ),
    (
        "SaAmfHealthcheckType",
        "safHealthcheckKey:S",
        &["saAmfHctDefPeriod:T", "saAmfHctDefMaxDuration:T"],
    ),
    (
        "SaAmfApplication",
        "safApp:S",
        &[
            "saAmfAppType:N",
            "saAmfApplicationAdminState:U",
            "saAmfApplicationCurrNumSGs:Ur",
        ],
    ),
    (
        "SaAmfSG",
        "safSg:S",
        &[
            "saAmfSGType:N",
            "saAmfSGSuHostNodeGroup:N",
            "saAmfSGAutoRepair:U",
            "saAmfSGAutoAdjust:U",
            "saAmfSGNumPrefActiveSUs:U",
            "saAmfSGNumPrefStandbySUs:U",
            "saAmfSGNumPrefInserviceSUs:U",
            "saAmfSGNumPrefAssignedSUs:U",
            "saAmfSGMaxActiveSIsperSU:U",
            "saAmfSGMaxStandbySIsperSU:U",
            "saAmfSGAutoAdjustProb:T",
            "saAmfSGCompRestartProb:T",
            "saAmfSGCompRestartMax:U",
            "saAmfSGSuRestartProb:T",
            "saAmfSGSuRestartMax:U",
            "saAmfSGAdminState:U",
        ],
    ),
    (
        "SaAmfSI",
        "safSi:S",
        &[
            "saAmfSvcType:N",
            "saAmfSIProtectedbySG:N",
            "saAmfSIRank:U",
            "saAmfSIActiveWeight:Sm",
            "saAmfSIStandbyWeight:Sm",
            "saAmfSIPrefActiveAssignments:U",
            "saAmfSIPrefStandbyAssignments:U",
            "saAmfSIAdminState:U",
        ],
    ),
    (
        "SaAmfCSI",
        "safCsi:S",
        &["saAmfCSType:N", "saAmfCSIDependencies:Nm"],
    ),
    (
        "SaAmfCSIAttribute",
        "safCsiAttr:S",
        &["saAmfCSIAttriValue:Sm"],
    ),
    ("SaAmfSIRankedSU", "safRankedSu:N", &["saAmfRank:U"]),
    (
        "SaAmfSIDependency",
        "safDepend:N",
        &["saAmfToleranceTime:T"],
    ),
    (
        "SaAmfSU",
        "safSu:S",
        &[
            "saAmfSUType:N",
            "saAmfSURank:U",
            "saAmfSUHostNodeOrNodeGroup:N",
            "saAmfSUFailover:U",
            "saAmfSUMaintenanceCampaign:N",
            "saAmfSUAdminState:U",
            "saAmfSUHostedByNode:Nr",
        ],
    ),
    (
        "SaAmfComp",
        "safComp:S",
        &[
            "saAmfCompType:N",
            "saAmfCompCmdEnv:Sm",
            "saAmfCompInstantiateCmdArgv:Sm",
            "saAmfCompInstantiateTimeout:T",
            "saAmfCompInstantiationLevel:U",
            "saAmfCompNumMaxInstantiateWithoutDelay:U",
            "saAmfCompNumMaxInstantiateWithDelay:U",
            "saAmfCompDelayBetweenInstantiateAttempts:T",
            "saAmfCompTerminateCmdArgv:Sm",
            "saAmfCompTerminateTimeout:T",
            "saAmfCompCleanupCmdArgv:Sm",
            "saAmfCompCleanupTimeout:T",
            "saAmfCompAmStartCmdArgv:Sm",
            "saAmfCompAmStartTimeout:T",
            "saAmfCompNumMaxAmStartAttempts:U",
            "saAmfCompAmStopCmdArgv:Sm",
            "saAmfCompAmStopTimeout:T",
            "saAmfCompNumMaxAmStopAttempts:U",
            "saAmfCompCSISetCallbackTimeout:T",
            "saAmfCompCSIRmvCallbackTimeout:T",
            "saAmfCompQuiescingCompleteTimeout:T",
            "saAmfCompRecoveryOnError:U",
            "saAmfCompDisableRestart:U",
            "saAmfCompProxyCsi:N",
            "saAmfCompContainerCsi:N",
            "osafAmfCompHcCmdArgv:Sm",
        ],
    ),
    (
        "SaAmfCompCsType",
        "safSupportedCsType:N",
        &[
            "saAmfCompNumMaxActiveCSIs:U",
            "saAmfCompNumMaxStandbyCSIs:U",
        ],
    ),
    (
        "SaAmfHealthcheck",
        "safHealthcheckKey:S",
        &["saAmfHealthcheckPeriod:T", "saAmfHealthcheckMaxDuration:T"],
    ),
    (
        "SaAmfNode",
        "safAmfNode:S",
        &[
            "saAmfNodeClmNode:N",
            "saAmfNodeSuFailOverProb:T",
            "saAmfNodeSuFailoverMax:U",
            "saAmfNodeAutoRepair:U",
            "saAmfNodeFailfastOnTerminationFailure:U",
            "saAmfNodeFailfastOnInstantiationFailure:U",
            "saAmfNodeAdminState:U",
            "saAmfNodeCapacity:Sm",
        ],
    ),
    (
        "SaAmfNodeGroup",
        "safAmfNodeGroup:S",
        &["saAmfNGNodeList:Nm", "saAmfNGAdminState:U"],
    ),
    (
        "SaAmfCluster",
        "safAmfCluster:S",
        &[
            "saAmfClusterStartupTimeout:T",
            "saAmfClusterClmCluster:N",
            "saAmfClusterAdminState:U",
        ],
    ),
    (
        "SaAmfNodeSwBundle",
        "safInstalledSwBundle:N",
        &["saAmfNodeSwBundlePathPrefix:S"],
    ),
    (
        "SaSmfSwBundle",
        "safSmfBundle:S",
        &[
            "saSmfBundleRemoveOfflineScope:U",
            "saSmfBundleRemoveOnlineScope:U",
            "saSmfBundleInstallOfflineScope:U",
            "saSmfBundleInstallOnlineScope:U",
            "saSmfBundleDefaultCmdTimeout:T",
            "saSmfBundleInstallOnlineCmdUri:S",
            "saSmfBundleInstallOnlineCmdArgs:S",
            "saSmfBundleInstallOfflineCmdUri:S",
            "saSmfBundleInstallOfflineCmdArgs:S",
            "saSmfBundleRemoveOnlineCmdUri:S",
            "saSmfBundleRemoveOnlineCmdArgs:S",
            "saSmfBundleRemoveOfflineCmdUri:S",
            "saSmfBundleRemoveOfflineCmdArgs:S",
        ],
    ),
    (
        "SaAmfCompGlobalAttributes",
        "safRdn:S",
        &[
            "saAmfNumMaxInstantiateWithoutDelay:U",
            "saAmfNumMaxInstantiateWithDelay:U",
            "saAmfNumMaxAmStartAttempts:U",
            "saAmfNumMaxAmStopAttempts:U",
            "saAmfDelayBetweenInstantiateAttempts:T",
        ],
    ),
    // The CLM classes as `immlist -c` shows them on OpenSAF 5.21.03.
    (
        "SaClmCluster",
        "safCluster:S",
        &["saClmClusterNumNodes:Ur", "saClmClusterInitTimestamp:Tr"],
    ),
    (
        "SaClmNode",
        "safNode:S",
        &[
            "saClmNodeLockCallbackTimeout:T",
            "saClmNodeIsMember:Ur",
            "saClmNodeInitialViewNumber:Qr",
            "saClmNodeID:Ur",
            "saClmNodeEE:N",
            "saClmNodeDisableReboot:U",
            "saClmNodeCurrAddressFamily:Ur",
            "saClmNodeCurrAddress:Sr",
            "saClmNodeBootTimeStamp:Tr",
            "saClmNodeAdminState:Urp",
            "saClmNodeAddressFamily:U",
            "saClmNodeAddress:S",
        ],
    ),
    (
        "OpensafImm",
        "opensafImm:S",
        &["longDnsAllowed:U", "opensafImmSyncBatchSize:U"],
    ),
];

fn attr(spec: &str, rdn: bool) -> AttrDef {
    let (name, code) = spec.split_once(':').expect("built-in spec has a type");
    let mut chars = code.chars();
    let vtype = match chars.next() {
        Some('I') => ValueType::Int32,
        Some('U') => ValueType::Uint32,
        Some('L') => ValueType::Int64,
        Some('Q') => ValueType::Uint64,
        Some('T') => ValueType::Time,
        Some('N') => ValueType::Name,
        Some('F') => ValueType::Float,
        Some('D') => ValueType::Double,
        Some('A') => ValueType::Any,
        _ => ValueType::String,
    };
    let mods: String = chars.collect();
    let mut f = if mods.contains('r') {
        flags::RUNTIME | flags::CACHED
    } else if rdn {
        flags::CONFIG
    } else {
        flags::CONFIG | flags::WRITABLE
    };
    if rdn {
        f |= flags::RDN;
    }
    if mods.contains('m') {
        f |= flags::MULTI_VALUE;
    }
    if mods.contains('p') {
        f |= flags::PERSISTENT;
    }
    AttrDef {
        name: name.to_string(),
        vtype,
        flags: f,
        default: None,
    }
}

fn base_xml() -> String {
    let mut x = String::from("<imm:IMM-contents xmlns:imm=\"http://www.saforum.org/IMMSchema\">\n");
    let obj = |x: &mut String, class: &str, dn: &str, attrs: &[(&str, &[String])]| {
        x.push_str(&format!("<object class=\"{class}\"><dn>{dn}</dn>"));
        for (n, vals) in attrs {
            x.push_str(&format!("<attr><name>{n}</name>"));
            for v in vals.iter() {
                x.push_str(&format!("<value>{v}</value>"));
            }
            x.push_str("</attr>");
        }
        x.push_str("</object>\n");
    };
    obj(&mut x, "SaClmCluster", "safCluster=myClmCluster", &[]);
    obj(
        &mut x,
        "SaAmfCluster",
        "safAmfCluster=myAmfCluster",
        &[
            (
                "saAmfClusterClmCluster",
                &["safCluster=myClmCluster".to_string()],
            ),
            ("saAmfClusterStartupTimeout", &["10000000000".to_string()]),
        ],
    );
    let mut members = Vec::new();
    for n in NODES {
        obj(
            &mut x,
            "SaClmNode",
            &format!("safNode={n},safCluster=myClmCluster"),
            &[],
        );
        let dn = format!("safAmfNode={n},safAmfCluster=myAmfCluster");
        obj(
            &mut x,
            "SaAmfNode",
            &dn,
            &[(
                "saAmfNodeClmNode",
                &[format!("safNode={n},safCluster=myClmCluster")],
            )],
        );
        members.push(dn);
    }
    obj(
        &mut x,
        "SaAmfNodeGroup",
        "safAmfNodeGroup=AllNodes,safAmfCluster=myAmfCluster",
        &[("saAmfNGNodeList", &members)],
    );
    obj(&mut x, "SaAmfApplication", "safApp=safImmService", &[]);
    obj(
        &mut x,
        "OpensafImm",
        IMM_SERVICE_DN,
        &[("longDnsAllowed", &["0".to_string()])],
    );
    x.push_str("</imm:IMM-contents>\n");
    x
}

/// The built-in classes.
pub fn classes() -> Vec<ClassDef> {
    CLASSES
        .iter()
        .map(|(name, rdn, attrs)| {
            let mut v = vec![attr(rdn, true)];
            v.extend(attrs.iter().map(|a| attr(a, false)));
            ClassDef::new(name.to_string(), Category::Config, v)
        })
        .collect()
}

/// The operations that create the system model in an empty store.
pub fn system_ops() -> Vec<Op> {
    let mut st = ImmState::default();
    let mut ops: Vec<Op> = classes().into_iter().map(Op::DefineClass).collect();
    for op in &ops {
        st.apply(op);
    }
    let objs = super::load::load_xml(&st, &base_xml(), false).expect("built-in model is valid");
    for op in &objs {
        st.apply(op);
    }
    ops.extend(objs);
    let now_ns = crate::clock::unix_now().as_nanos() as i64;
    ops.extend(crate::clm::membership::initial_ops(&st, now_ns));
    ops
}

#[cfg(test)]
mod tests {
    #[test]
    fn builtin_classes_are_valid() {
        for c in super::classes() {
            super::super::rules::check_class(&c).unwrap();
        }
        assert!(super::system_ops().len() > 40);
    }
}
