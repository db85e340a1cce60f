//! The tests of `json.rs` (kept apart so the suites that include it do not run them again).

use super::json::{parse, Value};

#[test]
fn parses_the_shapes_the_record_uses() {
    let v = parse(r#" {"a": [1, -2, {"b": "x\"\\\u00e9\n"}], "c": true, "d": null} "#).unwrap();
    let m = v.as_object().unwrap();
    let a = m["a"].as_array().unwrap();
    assert_eq!(a[0], Value::Int(1));
    assert_eq!(a[1], Value::Int(-2));
    assert_eq!(
        a[2].as_object().unwrap()["b"],
        Value::Str("x\"\\\u{e9}\n".into())
    );
    assert_eq!(m["c"], Value::Bool(true));
    assert_eq!(m["d"], Value::Null);
}

#[test]
fn rejects_what_would_hide_facts() {
    for bad in [
        r#"{"a": 1, "a": 2}"#,
        r#"{"a": 1} x"#,
        r#"{"a": 1.5}"#,
        r#"{"a": 1,}"#,
        r#"{"a": "x"#,
        "",
    ] {
        assert!(parse(bad).is_err(), "{bad:?} must not parse");
    }
}

#[test]
fn reads_ip_link_json() {
    let text = r#"[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP"],"mtu":65536,
        "link_type":"loopback","address":"00:00:00:00:00:00"},
        {"ifindex":7,"ifname":"tun0","flags":["POINTOPOINT"],"link_type":"none"}]"#;
    let v = parse(text).unwrap();
    let links = v.as_array().unwrap();
    assert_eq!(links[0].get("ifindex").and_then(Value::as_int), Some(1));
    assert_eq!(
        links[0].get("address").and_then(Value::as_str),
        Some("00:00:00:00:00:00")
    );
    assert_eq!(links[1].get("ifname").and_then(Value::as_str), Some("tun0"));
    assert_eq!(links[1].get("address"), None);
    assert_eq!(v.get("ifindex"), None, "an array has no members");
}
