//! immcfg, immlist, immfind, immadm and compact.

use std::path::Path;
use std::time::Duration;

use opensaf_sys::SaAisErrorT as Ais;

use crate::cli_server;
use crate::imm::load;
use crate::imm::model::{flags, Category, Value};
use crate::imm::shown::Visibility;
use crate::imm::store::Store;
use crate::process::process_alive;

pub(super) fn open(dir: &Path) -> Result<Store, String> {
    Store::open(dir).map_err(|e| format!("cannot open the IMM store in {}: {e}", dir.display()))
}

fn long_dns_env() -> bool {
    std::env::var("SA_ENABLE_EXTENDED_NAMES").is_ok_and(|v| v == "1")
}

pub fn immcfg(dir: &Path, args: &[String]) -> Result<(), String> {
    let mut files = Vec::new();
    let mut sets: Vec<(String, String)> = Vec::new();
    let mut delete = Vec::new();
    let mut dns = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-f" | "--file" => files.push(it.next().ok_or("-f needs a file")?.clone()),
            "-a" | "--attribute" => {
                let kv = it.next().ok_or("-a needs attr=value")?;
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| format!("'{kv}' is not attr=value"))?;
                sets.push((k.to_string(), v.to_string()));
            }
            "-d" | "--delete" => delete.push(it.next().ok_or("-d needs a DN")?.clone()),
            s if s.starts_with('-') => return Err(format!("immcfg: unknown option {s}")),
            _ => dns.push(a.clone()),
        }
    }
    let mut store = open(dir)?;
    for f in &files {
        let text = std::fs::read_to_string(f).map_err(|e| format!("{f}: {e}"))?;
        let n = store
            .write(|st| {
                let ops = load::load_xml(st, &text, long_dns_env()).map_err(|e| {
                    crate::imm::ImmError::new(Ais::INVALID_PARAM, format!("{f}: {e}"))
                })?;
                let n = ops.len();
                Ok((ops, n))
            })
            .map_err(|e| e.msg)?;
        store.sync().map_err(|e| e.to_string())?;
        eprintln!("immcfg: {f}: {n} classes/objects loaded");
    }
    if !sets.is_empty() {
        if dns.is_empty() {
            return Err("immcfg -a needs a DN".into());
        }
        for dn in &dns {
            store
                .write(|st| {
                    let mut ops = Vec::new();
                    for (k, v) in &sets {
                        let raw = if v.is_empty() {
                            vec![]
                        } else {
                            vec![v.clone()]
                        };
                        ops.push(
                            load::modify_config(st, dn, k, &raw)
                                .map_err(|e| crate::imm::ImmError::new(Ais::BAD_OPERATION, e))?,
                        );
                    }
                    Ok((ops, ()))
                })
                .map_err(|e| e.msg)?;
        }
        store.sync().map_err(|e| e.to_string())?;
    }
    for dn in &delete {
        store
            .write(|st| {
                let op = load::delete_config(st, dn)
                    .map_err(|e| crate::imm::ImmError::new(Ais::BAD_OPERATION, e))?;
                Ok((vec![op], ()))
            })
            .map_err(|e| e.msg)?;
        store.sync().map_err(|e| e.to_string())?;
    }
    if files.is_empty() && sets.is_empty() && delete.is_empty() {
        return Err("immcfg: nothing to do (use -f, -a or -d)".into());
    }
    Ok(())
}

fn print_values(vals: &[Value]) -> String {
    if vals.is_empty() {
        "<Empty>".to_string()
    } else {
        vals.iter()
            .map(Value::display)
            .collect::<Vec<_>>()
            .join(":")
    }
}

pub fn immlist(dir: &Path, args: &[String]) -> Result<(), String> {
    let mut attrs = Vec::new();
    let mut class = None;
    let mut dns = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-a" | "--attribute" => attrs.push(it.next().ok_or("-a needs a name")?.clone()),
            "-c" | "--class" => class = Some(it.next().ok_or("-c needs a class")?.clone()),
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(format!("immlist: unknown option {s}"))
            }
            _ => dns.push(a.clone()),
        }
    }
    let mut store = open(dir)?;
    if let Some(c) = class {
        return store
            .read(|st| {
                let c = st
                    .classes
                    .get(&c)
                    .ok_or_else(|| format!("class {c} does not exist"))?;
                println!("{:<50} {}", "Class Name", c.name);
                let cat = if c.category == Category::Config {
                    "CONFIG"
                } else {
                    "RUNTIME"
                };
                println!("{:<50} {cat}", "Class Category");
                println!();
                for a in &c.attrs {
                    let fl: Vec<&str> = flags::NAMES
                        .iter()
                        .filter(|(_, v)| a.flags & v != 0)
                        .map(|(n, _)| *n)
                        .collect();
                    let def = a
                        .default
                        .as_ref()
                        .map(|d| format!(" default={}", d.plain()))
                        .unwrap_or_default();
                    println!(
                        "{:<50} {:<12} {}{def}",
                        a.name,
                        a.vtype.xml_name(),
                        fl.join(" | ")
                    );
                }
                Ok(())
            })
            .map_err(|e| e.msg)?;
    }
    if dns.is_empty() {
        return Err("immlist: give a DN".into());
    }
    let detach_ms = crate::config::Config::load(dir).0.imm_detach_ms;
    store
        .read(|st| {
            let vis = Visibility::new(st, dir, detach_ms);
            let mut failed = None;
            for (n, dn) in dns.iter().enumerate() {
                let Some(o) = st.objects.get(dn) else {
                    failed = Some(format!("object {dn} does not exist (SA_AIS_ERR_NOT_EXIST)"));
                    continue;
                };
                let o = vis.show(o);
                if !attrs.is_empty() {
                    for a in &attrs {
                        match o.attr(a) {
                            Some((_, vals)) => println!(
                                "{a}={}",
                                if vals.is_empty() {
                                    "<Empty>".to_string()
                                } else {
                                    vals.iter().map(Value::plain).collect::<Vec<_>>().join(":")
                                }
                            ),
                            None => {
                                failed = Some(format!(
                                    "{dn} has no attribute {a} (SA_AIS_ERR_NOT_EXIST)"
                                ))
                            }
                        }
                    }
                    continue;
                }
                if n > 0 {
                    println!();
                }
                println!("{:<50} {:<12} Value(s)", "Name", "Type");
                println!("{}", "=".repeat(72));
                for (name, t, vals) in o.all_attrs() {
                    println!("{name:<50} {:<12} {}", t.xml_name(), print_values(&vals));
                }
            }
            match failed {
                Some(e) => Err(e),
                None => Ok(()),
            }
        })
        .map_err(|e| e.msg)?
}

pub fn immfind(dir: &Path, args: &[String]) -> Result<(), String> {
    let mut class = None;
    let mut scope = "subtree".to_string();
    let mut root = String::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-c" | "--class" => class = Some(it.next().ok_or("-c needs a class")?.clone()),
            "-s" | "--scope" => scope = it.next().ok_or("-s needs a scope")?.clone(),
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(format!("immfind: unknown option {s}"))
            }
            _ => root = a.clone(),
        }
    }
    let mut store = open(dir)?;
    store
        .read(|st| {
            if !root.is_empty() && !st.objects.contains_key(&root) {
                return Err(format!(
                    "root object {root} does not exist (SA_AIS_ERR_NOT_EXIST)"
                ));
            }
            let dns: Vec<String> = match scope.as_str() {
                "one" => vec![root.clone()],
                "sublevel" => {
                    let mut v: Vec<String> = if root.is_empty() {
                        vec![]
                    } else {
                        vec![root.clone()]
                    };
                    v.extend(st.children_of(&root).cloned());
                    v
                }
                "subtree" => st.subtree(&root),
                other => return Err(format!("unknown scope '{other}'")),
            };
            for dn in dns {
                if let Some(o) = st.objects.get(&dn) {
                    if class.as_ref().is_none_or(|c| *c == o.class.name) {
                        println!("{dn}");
                    }
                }
            }
            Ok(())
        })
        .map_err(|e| e.msg)?
}

pub fn immadm(dir: &Path, args: &[String]) -> Result<(), String> {
    let mut op_id = None;
    let mut params = Vec::new();
    let mut timeout = Duration::from_secs(10);
    let mut dn = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-o" | "--operation-id" => {
                let v = it.next().ok_or("-o needs an operation id")?;
                op_id = Some(
                    v.parse::<u64>()
                        .map_err(|_| format!("'{v}' is not an operation id"))?,
                );
            }
            "-p" | "--parameter" => {
                let p = it.next().ok_or("-p needs name:type:value")?;
                cli_server::parse_param(p)?;
                params.push(p.clone());
            }
            "-t" | "--timeout" => {
                let v = it.next().ok_or("-t needs seconds")?;
                timeout = Duration::from_secs_f64(
                    v.parse::<f64>()
                        .map_err(|_| format!("'{v}' is not a number"))?,
                );
            }
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(format!("immadm: unknown option {s}"))
            }
            _ => dn = Some(a.clone()),
        }
    }
    let op_id = op_id.ok_or("immadm: -o ID is required")?;
    let dn = dn.ok_or("immadm: give a DN")?;
    let fail = |code: u32| format!("saImmOmAdminOperationInvoke_2 FAILED: {}", Ais(code));
    let mut store = open(dir)?;
    let target = store
        .read(|st| {
            let o = st.objects.get(&dn)?;
            let name = o.implementer.clone()?;
            st.implementers.get(&name).cloned()
        })
        .map_err(|e| e.msg)?;
    let Some(holder) = target.filter(|h| process_alive(h.pid, h.start)) else {
        return Err(fail(Ais::NOT_EXIST.0));
    };
    let mut line = format!(
        "admin-op {} {} {op_id} {dn}",
        holder.token,
        timeout.as_millis()
    );
    for p in &params {
        line.push('\t');
        line.push_str(p);
    }
    let answer = cli_server::send(dir, holder.pid, &line, timeout + Duration::from_secs(2))
        .map_err(|e| format!("{} ({e})", fail(Ais::TIMEOUT.0)))?;
    let code: u32 = answer
        .trim()
        .parse()
        .map_err(|_| format!("bad answer '{answer}'"))?;
    match code {
        1 => {
            println!("admin-op result: {}", Ais(code));
            Ok(())
        }
        5 | 12 | 9 => Err(fail(code)),
        _ => Err(format!(
            "saImmOmAdminOperationInvoke_2 admin-op RETURNED: {}",
            Ais(code)
        )),
    }
}

pub fn compact(dir: &Path) -> Result<(), String> {
    open(dir)?.compact_now().map_err(|e| e.msg)
}
