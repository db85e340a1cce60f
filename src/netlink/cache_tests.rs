//! The cache's change rule, changed set and validity, fed built datagrams.

use super::*;
use crate::netlink::wire::{IfInfo, MessageBuilder, AF_BRIDGE, IFLA_ADDRESS, IFLA_OPERSTATE};

fn msg(kind: u16, family: u8, index: i32, name: &[u8], mac: &[u8]) -> Vec<u8> {
    msg_oper(kind, family, index, name, mac, None)
}

fn msg_oper(
    kind: u16,
    family: u8,
    index: i32,
    name: &[u8],
    mac: &[u8],
    oper: Option<u8>,
) -> Vec<u8> {
    let info = IfInfo {
        family,
        link_type: 1,
        index,
        ..IfInfo::default()
    };
    let b = MessageBuilder::new(kind, 0, 0, 0)
        .ifinfo(&info)
        .name_attr(name)
        .attr(IFLA_ADDRESS, mac);
    match oper {
        Some(o) => b.attr(IFLA_OPERSTATE, &[o]).finish(),
        None => b.finish(),
    }
}

fn seeded() -> LinkCache {
    let mut c = LinkCache::new();
    c.seed(HashMap::new());
    c
}

fn changed(c: &mut LinkCache) -> Vec<(u32, Option<LinkState>)> {
    let mut v = Vec::new();
    c.take_changed(&mut v).unwrap();
    v.sort_by_key(|e| e.0);
    v
}

#[test]
fn change_rules() {
    let mut c = seeded();
    let add = msg(RTM_NEWLINK, AF_UNSPEC, 3, b"v0", &[2, 0, 0, 0, 0, 1]);
    assert_eq!(c.apply_datagram(&add).changes, 1);
    // Same state again (up/down, stats): no change.
    let a = c.apply_datagram(&add);
    assert_eq!((a.events, a.changes), (1, 0));
    // MAC change.
    let mac = msg(RTM_NEWLINK, AF_UNSPEC, 3, b"v0", &[2, 0, 0, 0, 0, 2]);
    assert_eq!(c.apply_datagram(&mac).changes, 1);
    // Rename.
    let ren = msg(RTM_NEWLINK, AF_UNSPEC, 3, b"w0", &[2, 0, 0, 0, 0, 2]);
    assert_eq!(c.apply_datagram(&ren).changes, 1);
    let s = c.get(3).unwrap();
    assert_eq!((s.name(), s.mac()), (&b"w0"[..], &[2u8, 0, 0, 0, 0, 2][..]));
    // Bridge-family messages never count.
    let br = msg(RTM_DELLINK, AF_BRIDGE, 3, b"w0", &[9; 6]);
    let a = c.apply_datagram(&br);
    assert_eq!((a.events, a.changes, a.unparsable), (1, 0, 0));
    assert_eq!(c.len(), 1);
    // Delete.
    let del = msg(RTM_DELLINK, AF_UNSPEC, 3, b"w0", &[2, 0, 0, 0, 0, 2]);
    assert_eq!(c.apply_datagram(&del).changes, 1);
    assert!(c.is_empty());
    // Unknown delete still counts.
    assert_eq!(c.apply_datagram(&del).changes, 1);
}

#[test]
fn every_change_marks_its_link_until_taken_with_the_state_at_take_time() {
    let mut c = seeded();
    c.apply_datagram(&msg(RTM_NEWLINK, AF_UNSPEC, 3, b"a", &[2, 0, 0, 0, 0, 1]));
    c.apply_datagram(&msg(RTM_NEWLINK, AF_UNSPEC, 4, b"b", &[]));
    c.apply_datagram(&msg(RTM_DELLINK, AF_UNSPEC, 4, b"b", &[]));
    c.apply_datagram(&msg(RTM_DELLINK, AF_UNSPEC, 9, b"never-seen", &[]));
    let v = changed(&mut c);
    let ids: Vec<_> = v
        .iter()
        .map(|(i, s)| (*i, s.map(|s| s.name().to_vec())))
        .collect();
    assert_eq!(ids, [(3, Some(b"a".to_vec())), (4, None), (9, None)]);
    assert!(changed(&mut c).is_empty(), "taken once");
    // Operational state alone marks the link too (IMM mirrors it), and is no change.
    let up = msg_oper(
        RTM_NEWLINK,
        AF_UNSPEC,
        3,
        b"a",
        &[2, 0, 0, 0, 0, 1],
        Some(6),
    );
    let a = c.apply_datagram(&up);
    assert_eq!((a.changes, a.oper_changes), (0, 1));
    assert_eq!(changed(&mut c)[0].1.unwrap().oper_state, 6);
    // A message without operstate keeps the known one and changes nothing.
    let a = c.apply_datagram(&msg(RTM_NEWLINK, AF_UNSPEC, 3, b"a", &[2, 0, 0, 0, 0, 1]));
    assert_eq!((a.changes, a.oper_changes), (0, 0));
    assert!(changed(&mut c).is_empty());
    assert_eq!(c.get(3).unwrap().oper_state, 6);
}

#[test]
fn a_failed_take_is_put_back_and_merges_with_newer_changes() {
    let mut c = seeded();
    c.apply_datagram(&msg(RTM_NEWLINK, AF_UNSPEC, 3, b"a", &[]));
    let taken = changed(&mut c);
    c.apply_datagram(&msg(RTM_NEWLINK, AF_UNSPEC, 4, b"b", &[]));
    c.put_back(taken.iter().map(|e| e.0));
    let ids: Vec<_> = changed(&mut c).iter().map(|e| e.0).collect();
    assert_eq!(ids, [3, 4]);
}

#[test]
fn the_full_table_covers_the_changed_set_and_an_invalid_cache_gives_nothing() {
    let mut c = seeded();
    c.apply_datagram(&msg(RTM_NEWLINK, AF_UNSPEC, 3, b"a", &[]));
    c.apply_datagram(&msg(RTM_NEWLINK, AF_UNSPEC, 5, b"b", &[]));
    let mut all = Vec::new();
    c.take_all(&mut all).unwrap();
    all.sort_by_key(|e| e.0);
    assert_eq!(all.iter().map(|e| e.0).collect::<Vec<_>>(), [3, 5]);
    assert_eq!(c.changed_len(), 0);

    c.apply_datagram(&msg(RTM_NEWLINK, AF_UNSPEC, 6, b"c", &[]));
    c.invalidate();
    assert!(!c.is_valid() && c.is_empty() && c.changed_len() == 0);
    assert_eq!(c.take_all(&mut all), Err(NotSeeded));
    assert!(all.is_empty());
    let mut ch = Vec::new();
    assert_eq!(c.take_changed(&mut ch), Err(NotSeeded));
    c.put_back([3]);
    assert_eq!(
        c.changed_len(),
        0,
        "nothing to put back into an invalid cache"
    );

    let gen = c.generation();
    let links = [Link {
        ifindex: 8,
        name: b"d".to_vec(),
        mac: vec![],
        link_type: 1,
        oper_state: 2,
    }];
    c.seed(LinkCache::map_of(&links).unwrap());
    assert!(c.is_valid() && c.generation() == gen + 1 && c.changed_len() == 0);
    c.take_all(&mut all).unwrap();
    assert_eq!(all, [(8, LinkState::of(&links[0]).unwrap())]);
}

#[test]
fn garbage_needs_resync() {
    let mut c = seeded();
    let mut b = msg(RTM_NEWLINK, AF_UNSPEC, 3, b"v0", &[1]);
    b.truncate(b.len() - 1);
    assert!(c.apply_datagram(&b).needs_resync());
    let ov = MessageBuilder::new(NLMSG_OVERRUN, 0, 0, 0).finish();
    assert!(c.apply_datagram(&ov).needs_resync());
    let nameless = MessageBuilder::new(RTM_NEWLINK, 0, 0, 0)
        .ifinfo(&IfInfo {
            index: 4,
            ..IfInfo::default()
        })
        .finish();
    assert!(c.apply_datagram(&nameless).needs_resync());
    let long_name = msg(RTM_NEWLINK, AF_UNSPEC, 5, &[b'x'; 17], &[]);
    assert!(c.apply_datagram(&long_name).needs_resync());
    assert_eq!(c.changed_len(), 0);
}

#[test]
fn multi_message_datagram() {
    let mut c = seeded();
    let mut b = msg(RTM_NEWLINK, AF_UNSPEC, 1, b"a", &[]);
    b.extend(msg(RTM_NEWLINK, AF_UNSPEC, 2, b"b", &[]));
    b.extend(msg(RTM_NEWLINK, AF_UNSPEC, 1, b"a", &[]));
    let a = c.apply_datagram(&b);
    assert_eq!((a.events, a.changes), (3, 2));
}
