use std::collections::BTreeMap;

use super::*;

/// A machine with the given variables, files and host name.
#[derive(Default)]
struct Fake {
    vars: BTreeMap<&'static str, &'static str>,
    files: BTreeMap<&'static str, &'static str>,
    host: Option<&'static str>,
}

impl Host for Fake {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).map(|v| v.to_string())
    }
    fn read(&self, path: &Path) -> Option<String> {
        self.files.get(path.to_str()?).map(|v| v.to_string())
    }
    fn host_name(&self) -> Option<String> {
        self.host.map(str::to_string)
    }
}

fn fake(
    vars: &[(&'static str, &'static str)],
    files: &[(&'static str, &'static str)],
    host: Option<&'static str>,
) -> Fake {
    Fake {
        vars: vars.iter().copied().collect(),
        files: files.iter().copied().collect(),
        host,
    }
}

/// The first lines of the osafdir.conf an OpenSAF 5.21.03 install under /opt/opensaf has.
const INSTALLED: &str = r#"#!/bin/sh
# do not edit! generated automatically!
prefix="/opt/opensaf"
exec_prefix="/opt/opensaf"
sysconfdir="/opt/opensaf/etc"
pkgsysconfdir="/opt/opensaf/etc/opensaf"
pkglocalstatedir="/opt/opensaf/var/lib/opensaf"
"#;

#[test]
fn pkgsysconfdir_is_read_as_a_shell_would_set_it() {
    assert_eq!(
        pkgsysconfdir(INSTALLED),
        Some(PathBuf::from("/opt/opensaf/etc/opensaf"))
    );
    // Unexpanded autoconf style, single quotes, bare words, export, the last one wins.
    let text =
        "prefix=/usr/local\nsysconfdir=\"${prefix}/etc\"\npkgsysconfdir=\"$sysconfdir/opensaf\"\n";
    assert_eq!(
        pkgsysconfdir(text),
        Some(PathBuf::from("/usr/local/etc/opensaf"))
    );
    assert_eq!(
        pkgsysconfdir("pkgsysconfdir='/a/$b'\n"),
        Some(PathBuf::from("/a/$b"))
    );
    assert_eq!(
        pkgsysconfdir("export pkgsysconfdir=/x\npkgsysconfdir=/y\n"),
        Some(PathBuf::from("/y"))
    );
    // Whatever a shell would have to run or know is refused rather than guessed.
    for text in [
        "pkgsysconfdir=\"$(dirname $0)/etc\"\n",
        "pkgsysconfdir=\"${unknown}/etc\"\n",
        "pkgsysconfdir=`pwd`\n",
        "pkgsysconfdir=/a /b\n",
        "pkgsysconfdir=\"/unterminated\n",
        "pkgsysconfdir=\"\"\n",
        "# pkgsysconfdir=/commented\n",
        "sysconfdir=/etc\n",
        "",
    ] {
        assert_eq!(pkgsysconfdir(text), None, "{text:?}");
    }
}

#[test]
fn conf_dir_follows_the_install() {
    assert_eq!(
        conf_dir(&fake(&[], &[], None)),
        PathBuf::from("/etc/opensaf")
    );
    // An install under /opt/opensaf (the sandbox's and the containers').
    let opt = [("/opt/opensaf/etc/opensaf/osafdir.conf", INSTALLED)];
    assert_eq!(
        conf_dir(&fake(&[], &opt, None)),
        PathBuf::from("/opt/opensaf/etc/opensaf")
    );
    // /etc/opensaf/osafdir.conf comes before /opt.
    let both = [
        ("/etc/opensaf/osafdir.conf", "pkgsysconfdir=/etc/opensaf\n"),
        opt[0],
    ];
    assert_eq!(
        conf_dir(&fake(&[], &both, None)),
        PathBuf::from("/etc/opensaf")
    );
    // $OPENSAF_PREFIX comes first; an unreadable or useless one is skipped.
    let prefixed = [
        (
            "/srv/osaf/etc/opensaf/osafdir.conf",
            "pkgsysconfdir=\"/srv/osaf/etc/opensaf\"\n",
        ),
        both[0],
    ];
    assert_eq!(
        conf_dir(&fake(&[("OPENSAF_PREFIX", "/srv/osaf")], &prefixed, None)),
        PathBuf::from("/srv/osaf/etc/opensaf")
    );
    assert_eq!(
        conf_dir(&fake(&[("OPENSAF_PREFIX", "/nowhere")], &opt, None)),
        PathBuf::from("/opt/opensaf/etc/opensaf")
    );
    // OPENSAF_CONF_DIR wins over every osafdir.conf.
    assert_eq!(
        conf_dir(&fake(
            &[
                ("OPENSAF_CONF_DIR", "/cfg"),
                ("OPENSAF_PREFIX", "/srv/osaf")
            ],
            &prefixed,
            None
        )),
        PathBuf::from("/cfg")
    );
}

#[test]
fn offline_sources_in_order() {
    let opt = [
        ("/opt/opensaf/etc/opensaf/osafdir.conf", INSTALLED),
        ("/opt/opensaf/etc/opensaf/node_name", "PL-3\n"),
    ];
    let host = fake(&[], &opt, Some("vm.example.com\n"));
    let id = offline("SC-9", &host).unwrap();
    assert_eq!(id, configured("SC-9"));
    assert!(id.to_string().contains("--node / MACSYNC_NODE"), "{id}");
    let id = offline("", &host).unwrap();
    assert_eq!(id.name, "PL-3");
    assert_eq!(
        id.source,
        Source::NodeNameFile("/opt/opensaf/etc/opensaf/node_name".into())
    );
    assert!(id
        .to_string()
        .contains("/opt/opensaf/etc/opensaf/node_name"));
    // OpenSAF reads the first word only.
    let words = fake(
        &[],
        &[("/etc/opensaf/node_name", "  SC-2 trailing\n")],
        None,
    );
    assert_eq!(offline("", &words).unwrap().name, "SC-2");
    // No file (or an empty one): the short host name, as OpenSAF defaults it.
    for files in [&[][..], &[("/etc/opensaf/node_name", " \n")][..]] {
        let id = offline("", &fake(&[], files, Some("vm.example.com\n"))).unwrap();
        assert_eq!((id.name.as_str(), &id.source), ("vm", &Source::HostName));
        assert!(id.to_string().contains("host name"), "{id}");
    }
    let e = offline("", &fake(&[], &[], Some("\n"))).unwrap_err();
    assert!(
        e.contains("--node") && e.contains("/etc/opensaf/node_name"),
        "{e}"
    );
    assert!(!e.contains('\n'));
}

#[test]
fn the_su_and_the_amf_node_come_from_dns() {
    assert_eq!(
        su_of("safComp=macsync,safSu=SC-1,safSg=macsync,safApp=macsync")
            .unwrap()
            .as_str(),
        "safSu=SC-1,safSg=macsync,safApp=macsync"
    );
    // An escaped comma in the component RDN does not end it.
    assert_eq!(
        su_of("safComp=a\\,b,safSu=PL-3,safSg=g,safApp=a")
            .unwrap()
            .as_str(),
        "safSu=PL-3,safSg=g,safApp=a"
    );
    for bad in ["", "safComp=x", "safComp=x,safSg=g,safApp=a", "no equals"] {
        let e = su_of(bad).unwrap_err();
        assert!(e.contains("component name"), "{bad:?}: {e}");
    }
    assert_eq!(
        amf_node_name("safAmfNode=SC-1,safAmfCluster=myAmfCluster").unwrap(),
        "SC-1"
    );
    assert_eq!(
        amf_node_name("safAmfNode=odd\\,name,safAmfCluster=c").unwrap(),
        "odd,name"
    );
    for bad in ["", "safNode=SC-1,safCluster=myClmCluster", "x"] {
        assert!(amf_node_name(bad).is_err(), "{bad:?}");
    }
}
