//! Shared test harness: every test runs in its own child process (the simulator's state
//! directory and component name are per-process environment, as with real OpenSAF), and
//! reaches the simulator only through the built cdylib, loaded by `opensaf_sys::loader`
//! from a directory made by `install_lib_dir`.

// Each test file uses a different subset; `call!` expands the test's own argument
// expressions inside its unsafe block on purpose.
#![allow(dead_code, clippy::macro_metavars_in_unsafe)]

use std::ffi::{c_char, CStr, CString};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use opensaf_sys::*;

pub const COMP: &str = "safComp=macsync,safSu=SU-SC-1,safSg=macsync,safApp=macsync";
pub const CHILD_VAR: &str = "OPENSAF_SIM_TEST_CHILD";
/// An `isolated` env value that removes the variable.
pub const UNSET: &str = "\u{0}unset";

/// The built cdylib. `cargo test` builds it into target/<profile>/deps/ beside the test
/// executable (only `cargo build` also copies it up to target/<profile>/).
pub fn cdylib() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let deps = exe.parent().expect("target/<profile>/deps");
    let candidates = [
        deps.join("libopensaf_sim.so"),
        deps.parent()
            .expect("target/<profile>")
            .join("libopensaf_sim.so"),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("the opensaf-sim cdylib was not built (looked at {candidates:?})")
        })
        .clone()
}

pub fn cli() -> &'static str {
    env!("CARGO_BIN_EXE_opensaf-sim")
}

/// What a test body gets in its child process.
pub struct Env {
    pub dir: PathBuf,
    pub apis: Apis,
}

impl Env {
    pub fn amf(&self) -> &'static AmfApi {
        self.apis.amf
    }
    pub fn om(&self) -> &'static ImmOmApi {
        self.apis.imm_om
    }
    pub fn oi(&self) -> &'static ImmOiApi {
        self.apis.imm_oi
    }
    pub fn clm(&self) -> &'static ClmApi {
        self.apis.clm
    }

    /// Runs the CLI on this test's state directory.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(cli())
            .arg("--dir")
            .arg(&self.dir)
            .args(args)
            .output()
            .expect("run CLI")
    }

    /// Runs the CLI and requires success; returns stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let o = self.cli(args);
        assert!(
            o.status.success(),
            "opensaf-sim {args:?} failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    pub fn load_xml(&self, file: &str) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        self.cli_ok(&["immcfg", "-f", path.to_str().unwrap()]);
    }

    pub fn events(&self) -> Vec<opensaf_sim::events::Event> {
        opensaf_sim::events::read_all(&self.dir)
    }

    pub fn events_named(&self, name: &str) -> Vec<opensaf_sim::events::Event> {
        self.events()
            .into_iter()
            .filter(|e| e.name() == name)
            .collect()
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "osim-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `body` in a fresh child process with its own state directory.
/// `env` adds variables (SA_AMF_COMPONENT_NAME is set to [`COMP`] unless overridden).
pub fn isolated(name: &str, env: &[(&str, &str)], body: impl FnOnce(&Env)) {
    if std::env::var(CHILD_VAR).as_deref() == Ok(name) {
        let dir = PathBuf::from(std::env::var("OPENSAF_SIM_DIR").unwrap());
        let apis = Apis::load().expect("load the simulator through OPENSAF_LIB_DIR");
        body(&Env { dir, apis });
        return;
    }
    let root = temp_dir(name);
    let lib = root.join("lib");
    opensaf_sim::install_lib_dir(&lib, &cdylib()).unwrap();
    let state = root.join("state");
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD_VAR, name)
        .env("OPENSAF_SIM_DIR", &state)
        .env("OPENSAF_LIB_DIR", &lib)
        .env("SA_AMF_COMPONENT_NAME", COMP)
        .env_remove("SA_ENABLE_EXTENDED_NAMES");
    for (k, v) in env {
        if *v == UNSET {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    let out = run_bounded(cmd, std::time::Duration::from_secs(60));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    print!("{text}");
    assert!(out.status.success(), "child for {name} failed:\n{text}");
    assert!(
        text.contains("1 passed"),
        "child for {name} ran no test:\n{text}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// Runs a command, killing it if it takes longer than `limit` (a hung test must not hang
/// the suite).
fn run_bounded(mut cmd: Command, limit: std::time::Duration) -> Output {
    use std::io::Read;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let t2 = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let deadline = std::time::Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    Output {
        status,
        stdout: t1.join().unwrap(),
        stderr: t2.join().unwrap(),
    }
}

/// Calls a function from a loaded table. (Arguments are expressions the test writes to
/// satisfy the C contract, so expanding them inside the unsafe block is intended.)
#[macro_export]
macro_rules! call {
    ($f:expr $(, $a:expr)* $(,)?) => {
        // SAFETY: the table entry is the simulator's function of the declared type; the
        // arguments are built by the test to satisfy its C contract.
        unsafe { ($f)($($a),*) }
    };
}

/// A name lent through the C API (keeps the string alive for long names).
pub struct Name {
    pub n: Box<SaNameT>,
    _s: CString,
}

impl Name {
    pub fn new(env: &Env, s: &str) -> Name {
        let c = CString::new(s).unwrap();
        let mut n = Box::<SaNameT>::default();
        call!(env.amf().saAisNameLend, c.as_ptr(), &mut *n);
        Name { n, _s: c }
    }
    pub fn ptr(&self) -> *const SaNameT {
        &*self.n
    }
}

/// Reads a name through saAisNameBorrow.
pub fn borrow(env: &Env, n: *const SaNameT) -> String {
    let p = call!(env.amf().saAisNameBorrow, n);
    assert!(!p.is_null());
    // SAFETY: Borrow returned a NUL-terminated string inside (or pointed to by) `n`.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string()
}

pub const OK: SaAisErrorT = SaAisErrorT::SA_AIS_OK;

pub fn err(code: u32) -> SaAisErrorT {
    SaAisErrorT(code)
}

pub fn version(r: u8, ma: u8, mi: u8) -> SaVersionT {
    SaVersionT {
        releaseCode: r,
        majorVersion: ma,
        minorVersion: mi,
    }
}

/// Polls `fd` for readability.
pub fn readable(fd: u64, timeout_ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd: fd as i32,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut p, 1, timeout_ms) == 1 }
}

// ---- IMM value helpers -------------------------------------------------------------

/// Owned storage for one SaImmAttrValuesT_2 built from Rust values. The scalars are boxed
/// because pointers to them are taken while the vectors still grow.
#[allow(clippy::vec_box)]
pub struct AttrBuf {
    pub attr: Box<SaImmAttrValuesT_2>,
    _name: CString,
    _ptrs: Vec<SaImmAttrValueT>,
    _u32: Vec<Box<u32>>,
    _u64: Vec<Box<u64>>,
    _str: Vec<(CString, Box<*mut c_char>)>,
    _names: Vec<Name>,
}

pub enum V<'a> {
    U32(u32),
    U64(u64),
    I64(i64),
    Time(i64),
    Str(&'a str),
    Name(&'a str),
}

pub fn attr(env: &Env, name: &str, ty: u32, vals: &[V]) -> AttrBuf {
    let mut b = AttrBuf {
        attr: Box::new(SaImmAttrValuesT_2 {
            attrName: std::ptr::null_mut(),
            attrValueType: SaImmValueTypeT(ty),
            attrValuesNumber: vals.len() as u32,
            attrValues: std::ptr::null_mut(),
        }),
        _name: CString::new(name).unwrap(),
        _ptrs: Vec::new(),
        _u32: Vec::new(),
        _u64: Vec::new(),
        _str: Vec::new(),
        _names: Vec::new(),
    };
    for v in vals {
        let p: SaImmAttrValueT = match v {
            V::U32(x) => {
                b._u32.push(Box::new(*x));
                (&**b._u32.last().unwrap() as *const u32).cast_mut().cast()
            }
            V::U64(x) => {
                b._u64.push(Box::new(*x));
                (&**b._u64.last().unwrap() as *const u64).cast_mut().cast()
            }
            V::I64(x) | V::Time(x) => {
                b._u64.push(Box::new(*x as u64));
                (&**b._u64.last().unwrap() as *const u64).cast_mut().cast()
            }
            V::Str(s) => {
                let c = CString::new(*s).unwrap();
                let bp = Box::new(c.as_ptr().cast_mut());
                b._str.push((c, bp));
                (&*b._str.last().unwrap().1 as *const *mut c_char)
                    .cast_mut()
                    .cast()
            }
            V::Name(s) => {
                b._names.push(Name::new(env, s));
                b._names.last().unwrap().ptr().cast_mut().cast()
            }
        };
        b._ptrs.push(p);
    }
    b.attr.attrName = b._name.as_ptr().cast_mut();
    b.attr.attrValues = if b._ptrs.is_empty() {
        std::ptr::null_mut()
    } else {
        b._ptrs.as_mut_ptr()
    };
    b
}

pub const T_U32: u32 = 2;
pub const T_U64: u32 = 4;
pub const T_TIME: u32 = 5;
pub const T_NAME: u32 = 6;
pub const T_STRING: u32 = 9;

/// A NULL-terminated pointer array over attribute buffers.
pub fn attr_list(bufs: &[AttrBuf]) -> Vec<*const SaImmAttrValuesT_2> {
    let mut v: Vec<*const SaImmAttrValuesT_2> = bufs.iter().map(|b| &*b.attr as *const _).collect();
    v.push(std::ptr::null());
    v
}

/// Creates a runtime object; returns the code.
pub fn rt_create(
    env: &Env,
    oi: u64,
    class: &str,
    parent: Option<&str>,
    bufs: &[AttrBuf],
) -> SaAisErrorT {
    let c = CString::new(class).unwrap();
    let p = parent.map(|p| Name::new(env, p));
    let mut list = attr_list(bufs);
    call!(
        env.oi().saImmOiRtObjectCreate_2,
        oi,
        c.as_ptr().cast_mut(),
        p.as_ref().map_or(std::ptr::null(), |n| n.ptr()),
        list.as_mut_ptr()
    )
}

/// The attributes of `class` (in samples/macsync-classes.xml) a runtime object create must
/// give: the cached ones without a default, the RDN aside.
pub fn required_attrs(class: &str) -> Vec<(String, u32)> {
    use opensaf_sim::imm::{journal::Op, model::flags, state::ImmState};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/macsync-classes.xml");
    let text = std::fs::read_to_string(path).unwrap();
    let ops = opensaf_sim::imm::load::load_xml(&ImmState::default(), &text, false).unwrap();
    ops.iter()
        .find_map(|op| match op {
            Op::DefineClass(c) if c.name == class => Some(c),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no class {class}"))
        .attrs
        .iter()
        .filter(|a| a.is(flags::CACHED) && a.default.is_none() && !a.is(flags::RDN))
        .map(|a| (a.name.clone(), a.vtype.as_u32()))
        .collect()
}

/// A MacSyncNode's create attributes: the RDN (`macSyncNodeId=...`) and every attribute
/// [`required_attrs`] lists: `syncs` and the time (`lastSyncTime`) as given, the other
/// counters 0.
pub fn node_attrs(env: &Env, rdn: &str, syncs: u64, last_sync: i64) -> Vec<AttrBuf> {
    let mut v = vec![attr(env, "macSyncNodeId", T_STRING, &[V::Str(rdn)])];
    for (name, ty) in required_attrs("MacSyncNode") {
        let value = match (name.as_str(), ty) {
            ("syncs", _) => V::U64(syncs),
            (_, T_TIME) => V::Time(last_sync),
            (_, T_U64) => V::U64(0),
            other => panic!("no value for {other:?}"),
        };
        v.push(attr(env, &name, ty, &[value]));
    }
    v
}

/// A MacSyncInterface's create attributes: the RDN (`macSyncInterfaceId=...`), the MAC,
/// ifIndex 7 and operState 6 (every cached attribute, as IMM requires).
pub fn if_attrs(env: &Env, rdn: &str, mac: &str) -> Vec<AttrBuf> {
    vec![
        attr(env, "macSyncInterfaceId", T_STRING, &[V::Str(rdn)]),
        attr(env, "macAddress", T_STRING, &[V::Str(mac)]),
        attr(env, "ifIndex", T_U32, &[V::U32(7)]),
        attr(env, "operState", T_U32, &[V::U32(6)]),
    ]
}

/// An interface object create with the given RDN value and MAC.
pub fn create_if(env: &Env, oi: u64, parent: &str, rdn: &str, mac: &str) -> SaAisErrorT {
    rt_create(
        env,
        oi,
        "MacSyncInterface",
        Some(parent),
        &if_attrs(env, rdn, mac),
    )
}

pub fn rt_update(env: &Env, oi: u64, dn: &str, mods: &[(u32, AttrBuf)]) -> SaAisErrorT {
    let n = Name::new(env, dn);
    let ms: Vec<Box<SaImmAttrModificationT_2>> = mods
        .iter()
        .map(|(t, b)| {
            Box::new(SaImmAttrModificationT_2 {
                modType: SaImmAttrModificationTypeT(*t),
                modAttr: *b.attr,
            })
        })
        .collect();
    let mut ptrs: Vec<*const SaImmAttrModificationT_2> =
        ms.iter().map(|m| &**m as *const _).collect();
    ptrs.push(std::ptr::null());
    call!(
        env.oi().saImmOiRtObjectUpdate_2,
        oi,
        n.ptr(),
        ptrs.as_mut_ptr()
    )
}

pub fn rt_delete(env: &Env, oi: u64, dn: &str) -> SaAisErrorT {
    let n = Name::new(env, dn);
    call!(env.oi().saImmOiRtObjectDelete, oi, n.ptr())
}

pub fn oi_init(env: &Env, cbs: Option<&SaImmOiCallbacksT_2>) -> u64 {
    let mut h = 0;
    let mut v = version(b'A', 2, 1);
    let r = call!(
        env.oi().saImmOiInitialize_2,
        &mut h,
        cbs.map_or(std::ptr::null(), |c| c as *const _),
        &mut v
    );
    assert_eq!(r, OK);
    h
}

pub fn impl_set(env: &Env, oi: u64, name: &str) -> SaAisErrorT {
    let c = CString::new(name).unwrap();
    call!(env.oi().saImmOiImplementerSet, oi, c.as_ptr().cast_mut())
}

pub fn om_init(env: &Env) -> u64 {
    let mut h = 0;
    let mut v = version(b'A', 2, 1);
    assert_eq!(
        call!(env.om().saImmOmInitialize, &mut h, std::ptr::null(), &mut v),
        OK
    );
    h
}

/// One object as read back through the OM API.
#[derive(Debug, Clone)]
pub struct Obj {
    pub dn: String,
    pub attrs: Vec<(String, u32, Vec<String>)>,
}

impl Obj {
    pub fn get(&self, name: &str) -> Option<&Vec<String>> {
        self.attrs
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, v)| v)
    }
}

/// Converts a returned attribute array.
pub fn read_attrs(
    env: &Env,
    attrs: *mut *mut SaImmAttrValuesT_2,
) -> Vec<(String, u32, Vec<String>)> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        // SAFETY: the array returned by the simulator is NULL-terminated and valid until
        // the next call on the same handle.
        let a = unsafe { *attrs.add(i) };
        if a.is_null() {
            return out;
        }
        // SAFETY: as above.
        let a = unsafe { &*a };
        // SAFETY: attrName is a C string owned by the simulator.
        let name = unsafe { CStr::from_ptr(a.attrName) }
            .to_str()
            .unwrap()
            .to_string();
        let mut vals = Vec::new();
        for k in 0..a.attrValuesNumber as usize {
            // SAFETY: attrValues holds attrValuesNumber pointers to values of the type.
            let p = unsafe { *a.attrValues.add(k) };
            let s = unsafe {
                match a.attrValueType.0 {
                    1 => (*(p as *const i32)).to_string(),
                    2 => (*(p as *const u32)).to_string(),
                    3 | 5 => (*(p as *const i64)).to_string(),
                    4 => (*(p as *const u64)).to_string(),
                    6 => borrow(env, p as *const SaNameT),
                    9 => CStr::from_ptr(*(p as *const *const c_char))
                        .to_str()
                        .unwrap()
                        .to_string(),
                    t => format!("<type {t}>"),
                }
            };
            vals.push(s);
        }
        out.push((name, a.attrValueType.0, vals));
        i += 1;
    }
}

/// Runs a whole search; returns the objects or the first non-NOT_EXIST error of Next.
pub fn search(
    env: &Env,
    om: u64,
    root: Option<&str>,
    scope: u32,
    options: u64,
    class: Option<&str>,
    names: Option<&[&str]>,
) -> Result<Vec<Obj>, SaAisErrorT> {
    let root_n = root.map(|r| Name::new(env, r));
    let class_c = class.map(|c| CString::new(c).unwrap());
    let class_ptr: Box<*mut c_char> = Box::new(
        class_c
            .as_ref()
            .map_or(std::ptr::null_mut(), |c| c.as_ptr().cast_mut()),
    );
    let attr_name = CString::new("SaImmAttrClassName").unwrap();
    let mut param = SaImmSearchParametersT_2::default();
    param.searchOneAttr = SaImmSearchOneAttrT_2 {
        attrName: attr_name.as_ptr().cast_mut(),
        attrValueType: SaImmValueTypeT(T_STRING),
        attrValue: (&*class_ptr as *const *mut c_char).cast_mut().cast(),
    };
    let name_cs: Vec<CString> = names
        .unwrap_or(&[])
        .iter()
        .map(|n| CString::new(*n).unwrap())
        .collect();
    let mut name_ptrs: Vec<*mut c_char> = name_cs.iter().map(|c| c.as_ptr().cast_mut()).collect();
    name_ptrs.push(std::ptr::null_mut());
    let mut sh = 0;
    let opts = options | if class.is_some() { 1 } else { 0 };
    let r = call!(
        env.om().saImmOmSearchInitialize_2,
        om,
        root_n.as_ref().map_or(std::ptr::null(), |n| n.ptr()),
        SaImmScopeT(scope),
        opts,
        if class.is_some() {
            &param as *const _
        } else {
            std::ptr::null()
        },
        if names.is_some() {
            name_ptrs.as_ptr()
        } else {
            std::ptr::null()
        },
        &mut sh
    );
    if r != OK {
        return Err(r);
    }
    let mut out = Vec::new();
    loop {
        let mut n = SaNameT::default();
        let mut attrs: *mut *mut SaImmAttrValuesT_2 = std::ptr::null_mut();
        let r = call!(env.om().saImmOmSearchNext_2, sh, &mut n, &mut attrs);
        if r == err(12) {
            break;
        }
        if r != OK {
            call!(env.om().saImmOmSearchFinalize, sh);
            return Err(r);
        }
        out.push(Obj {
            dn: borrow(env, &n),
            attrs: read_attrs(env, attrs),
        });
    }
    assert_eq!(call!(env.om().saImmOmSearchFinalize, sh), OK);
    Ok(out)
}
