//! Property tests of the parsers: arbitrary, truncated and mutated input never panics (in safe
//! Rust, a panic is what an out-of-bounds read would turn into), and real dump bytes parse to
//! exactly what the snapshot returns. Seeded and reproducible (MACSYNC_TEST_SEED).

mod common;

use common::*;
use macsync::netlink::cache::LinkCache;
use macsync::netlink::wire::{
    self, IfInfo, MessageBuilder, IFLA_ADDRESS, IFLA_OPERSTATE, NLMSG_DONE, NLMSG_ERROR,
    NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_MULTI, RTM_DELLINK, RTM_NEWLINK,
};
use macsync::netlink::{parse_dump, Link, Snapshotter};

/// Runs every parser entry point over `bytes`; checks the invariants that must hold whatever
/// the input.
fn exercise(bytes: &[u8]) {
    let mut out = vec![Link {
        ifindex: 999,
        name: b"sentinel".to_vec(),
        mac: vec![],
        link_type: 0,
        oper_state: 0,
    }];
    if let Ok(p) = parse_dump(bytes, &mut out) {
        assert_eq!(out.len(), 1 + p.links, "links counted as appended");
        assert!(p.links + p.skipped + p.stale <= p.messages);
        assert!(out[1..].iter().all(|l| l.ifindex > 0));
    }
    // At most one message per 16 bytes, so the iterator always terminates.
    assert!(wire::messages(bytes).count() <= bytes.len() / 16 + 1);
    for m in wire::messages(bytes).flatten() {
        assert!(m.payload.len() <= bytes.len());
        let _ = wire::parse_link(&m);
        let _ = wire::parse_error(&m);
        for a in wire::attrs(m.payload, 0).flatten() {
            assert!(a.payload.len() <= m.payload.len());
        }
    }
    let mut cache = LinkCache::new();
    let a = cache.apply_datagram(bytes);
    assert!(a.changes <= a.events);
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng::from_env(0x5eed_0001);
    for _ in 0..20_000 {
        let len = rng.below(600);
        let mut b = rng.bytes(len);
        // Plausible headers more often than chance would give, to get past the first check.
        if len >= 16 && rng.chance(2) {
            let l = (rng.below(len + 8) as u32).to_ne_bytes();
            b[0..4].copy_from_slice(&l);
            b[4..6].copy_from_slice(
                &[RTM_NEWLINK, RTM_DELLINK, NLMSG_DONE, NLMSG_ERROR][rng.below(4)].to_ne_bytes(),
            );
        }
        exercise(&b);
    }
}

/// Well-formed link messages with random attributes, then damaged.
#[test]
fn generated_messages_survive_damage() {
    let mut rng = Rng::from_env(0x5eed_0002);
    for _ in 0..10_000 {
        let mut dgram = Vec::new();
        for _ in 0..1 + rng.below(4) {
            let kind = [RTM_NEWLINK, RTM_DELLINK, NLMSG_ERROR, NLMSG_DONE][rng.below(4)];
            let flags = if rng.chance(3) {
                NLM_F_ACK_TLVS | NLM_F_CAPPED
            } else {
                NLM_F_MULTI
            };
            let mut b = MessageBuilder::new(kind, flags, rng.below(3) as u32, 0);
            if kind == NLMSG_ERROR || kind == NLMSG_DONE {
                b = b
                    .raw(&(-(rng.below(200) as i32)).to_ne_bytes())
                    .raw(&rng.some_bytes(40));
            } else {
                b = b.ifinfo(&IfInfo {
                    family: [0u8, 0, 7, 10][rng.below(4)],
                    link_type: rng.next_u64() as u16,
                    index: rng.below(20) as i32 - 2,
                    flags: 0,
                    change: 0,
                });
                for _ in 0..rng.below(6) {
                    let t = [1u16, 3, 16, 45, 0x8000 | 3, rng.next_u64() as u16][rng.below(6)];
                    let plen = rng.below(24);
                    b = b.attr(t, &rng.bytes(plen));
                }
                if rng.chance(2) {
                    b = b
                        .name_attr(b"eth0")
                        .attr(IFLA_ADDRESS, &[2, 0, 0, 0, 0, 1])
                        .attr(IFLA_OPERSTATE, &[6]);
                }
            }
            dgram.extend(b.finish());
        }
        exercise(&dgram);
        let mut damaged = dgram.clone();
        mutate(&mut rng, &mut damaged);
        exercise(&damaged);
        for cut in [0, 1, 15, 16, 17, dgram.len().saturating_sub(1)] {
            exercise(&dgram[..cut.min(dgram.len())]);
        }
    }
}

/// One to four random edits aimed at what a parser trusts: length fields, types, sizes.
fn mutate(rng: &mut Rng, b: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(4) {
        if b.is_empty() {
            b.extend(rng.some_bytes(32));
            continue;
        }
        let at = rng.below(b.len());
        match rng.below(8) {
            0 => b[at] ^= 1 << rng.below(8),
            1 => b[at] = rng.next_u64() as u8,
            2 => {
                // A 16-bit length-like value at an aligned offset (rta_len, nlmsg_len low half).
                let at = at & !3;
                let v = [0u16, 1, 3, 4, 5, 0x7fff, 0xffff, rng.next_u64() as u16][rng.below(8)];
                if at + 2 <= b.len() {
                    b[at..at + 2].copy_from_slice(&v.to_ne_bytes());
                }
            }
            3 => {
                let at = at & !3;
                let v = [
                    0u32,
                    15,
                    16,
                    17,
                    u32::MAX,
                    b.len() as u32 + 4,
                    rng.next_u64() as u32,
                ][rng.below(7)];
                if at + 4 <= b.len() {
                    b[at..at + 4].copy_from_slice(&v.to_ne_bytes());
                }
            }
            4 => b.truncate(at),
            5 => {
                let n = rng.below(16).min(b.len() - at);
                b.drain(at..at + n);
            }
            6 => {
                let junk = rng.some_bytes(16);
                b.splice(at..at, junk);
            }
            _ => {
                let end = (at + rng.below(64)).min(b.len());
                let copy = b[at..end].to_vec();
                b.splice(at..at, copy);
            }
        }
    }
}

#[test]
fn real_dump_bytes_parse_like_the_snapshot_and_survive_mutation() {
    enter_netns();
    add_veth_pairs("p", 150);
    ip(&["link", "add", "br0", "type", "bridge"]);
    ip(&["link", "set", "pa0", "master", "br0"]);
    ip(&["tuntap", "add", "dev", "tun0", "mode", "tun"]);

    let mut snap = Snapshotter::new().unwrap();
    let raw = snap.dump_raw().expect("raw dump");
    let links = snap.dump().expect("dump");
    assert!(
        raw.len() > 1,
        "expected a multi-datagram dump, got {}",
        raw.len()
    );

    // Parsing the captured bytes gives exactly the snapshot.
    let mut parsed = Vec::new();
    let mut done = false;
    for d in &raw {
        let p = parse_dump(d, &mut parsed).expect("real dump parses");
        assert!(p.error.is_none() && !p.interrupted);
        done |= p.done;
    }
    assert!(done, "no NLMSG_DONE in the captured dump");
    assert_eq!(parsed, links);
    assert_eq!(links.len(), 303);
    // Several messages per datagram: reading only the first would lose most links.
    assert!(parsed.len() > 2 * raw.len());

    let mut rng = Rng::from_env(0x5eed_0003);
    // Prefixes of one datagram: every length over the first messages, then a stride.
    let d = &raw[0];
    for cut in (0..=d.len().min(4096)).chain((4096..d.len()).step_by(97)) {
        exercise(&d[..cut]);
    }
    // A prefix cut at a message boundary parses to a prefix of the links.
    let mut boundary = 0;
    for m in wire::messages(d).take(3) {
        boundary = m.unwrap().offset;
    }
    let mut prefix = Vec::new();
    parse_dump(&d[..boundary], &mut prefix).unwrap();
    assert_eq!(prefix[..], parsed[..prefix.len()]);

    for _ in 0..10_000 {
        let mut b = raw[rng.below(raw.len())].clone();
        mutate(&mut rng, &mut b);
        exercise(&b);
    }
    // Datagrams glued together and cut at random points.
    for _ in 0..500 {
        let mut b: Vec<u8> = raw.concat();
        let cut = rng.below(b.len());
        b.truncate(cut);
        exercise(&b);
    }
}
