//! CLM's answers in C: the notification items of a track, written into the caller's buffer,
//! into one the library allocates, or passed to the track callback.

use opensaf_sys::{
    SaAisErrorT as Ais, SaBoolT, SaClmChangeStepT, SaClmClusterChangesT, SaClmClusterNodeT_4,
    SaClmClusterNotificationBufferT_4, SaClmClusterNotificationT_4, SaClmClusterTrackCallbackT_4,
    SaClmNodeAddressFamilyT, SaClmNodeAddressT, SaNtfCorrelationIdsT, SA_TRACK_CHANGES_ONLY,
    SA_TRACK_LOCAL,
};

use super::membership::Node;
use super::NO_CHANGE;
use crate::names;

/// One node of a notification and what happened to it.
#[derive(Debug, Clone)]
pub struct Item {
    pub node: Node,
    pub change: u32,
}

/// A queued track callback.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub view: u64,
    /// `numberOfMembers`: the members of the view.
    pub members: u32,
    pub items: Vec<Item>,
    /// The node whose change this reports (None: a current membership).
    pub cause: Option<String>,
}

/// The items of a change notification for a handle tracking with `flags`: with
/// SA_TRACK_CHANGES every member plus the changed node, with SA_TRACK_CHANGES_ONLY (or
/// SA_TRACK_LOCAL) only the changed node.
pub fn change_items(nodes: &[Node], changed: &Node, change: u32, flags: u8) -> Vec<Item> {
    if flags & (SA_TRACK_CHANGES_ONLY | SA_TRACK_LOCAL) != 0 {
        return vec![Item {
            node: changed.clone(),
            change,
        }];
    }
    let mut items: Vec<Item> = nodes
        .iter()
        .filter(|n| n.member && n.dn != changed.dn)
        .map(|n| Item {
            node: n.clone(),
            change: NO_CHANGE,
        })
        .collect();
    items.push(Item {
        node: changed.clone(),
        change,
    });
    items.sort_by(|a, b| a.node.dn.cmp(&b.node.dn));
    items
}

/// A node as CLM hands it out (`saClmClusterNodeGet_4`, notification items).
pub fn c_node(n: &Node) -> SaClmClusterNodeT_4 {
    let mut address = SaClmNodeAddressT {
        family: SaClmNodeAddressFamilyT(n.address_family),
        ..Default::default()
    };
    let len = n.address.len().min(address.value.len());
    address.value[..len].copy_from_slice(&n.address.as_bytes()[..len]);
    address.length = len as u16;
    SaClmClusterNodeT_4 {
        nodeId: n.id,
        nodeAddress: address,
        nodeName: names::kept(&n.dn),
        executionEnvironment: names::kept(&n.ee),
        member: if n.member {
            SaBoolT::SA_TRUE
        } else {
            SaBoolT::SA_FALSE
        },
        bootTimestamp: n.boot_timestamp,
        initialViewNumber: n.initial_view,
    }
}

fn c_items(items: &[Item]) -> Vec<SaClmClusterNotificationT_4> {
    items
        .iter()
        .map(|i| SaClmClusterNotificationT_4 {
            clusterNode: c_node(&i.node),
            clusterChange: SaClmClusterChangesT(i.change),
        })
        .collect()
}

/// The caller's `SaClmClusterNotificationBufferT_4` of a synchronous track.
pub struct CallerBuffer(*mut SaClmClusterNotificationBufferT_4);

impl CallerBuffer {
    /// # Safety
    /// `buf` points to a writable buffer struct; when its `notification` is not NULL, that
    /// array has `numberOfItems` writable entries. Both stay valid while this value lives.
    pub unsafe fn new(buf: *mut SaClmClusterNotificationBufferT_4) -> CallerBuffer {
        CallerBuffer(buf)
    }
}

/// Fills the caller's buffer with `items`. Into its own array if it gave one (an array of
/// no entries is INVALID_PARAM, as on OpenSAF 5.21.03; one too small NO_SPACE with the
/// number needed in `numberOfItems`, as the specification says); otherwise into an array
/// allocated here, which is returned so the library can keep it until it is freed.
pub fn fill(
    buf: CallerBuffer,
    view: u64,
    items: &[Item],
) -> Result<Option<Box<[SaClmClusterNotificationT_4]>>, Ais> {
    let c = c_items(items);
    // SAFETY: `CallerBuffer::new`'s contract: the struct is writable.
    let b = unsafe { &mut *buf.0 };
    let needed = c.len() as u32;
    if b.notification.is_null() {
        let mut array = c.into_boxed_slice();
        b.notification = array.as_mut_ptr();
        b.numberOfItems = needed;
        b.viewNumber = view;
        return Ok(Some(array));
    }
    if b.numberOfItems == 0 {
        return Err(Ais::INVALID_PARAM);
    }
    if b.numberOfItems < needed {
        b.numberOfItems = needed;
        return Err(Ais::NO_SPACE);
    }
    // SAFETY: the caller's array has `numberOfItems` >= `needed` writable entries
    // (`CallerBuffer::new`'s contract); `c` is a separate allocation.
    unsafe { std::ptr::copy_nonoverlapping(c.as_ptr(), b.notification, c.len()) };
    b.numberOfItems = needed;
    b.viewNumber = view;
    Ok(None)
}

/// Calls the application's track callback with `d` (step COMPLETED: the simulator offers
/// no START or VALIDATE step, so there is nothing to respond to).
pub fn call(cb: SaClmClusterTrackCallbackT_4, d: &Delivery) {
    let Some(cb) = cb else { return };
    let mut items = c_items(&d.items);
    let buffer = SaClmClusterNotificationBufferT_4 {
        viewNumber: d.view,
        numberOfItems: items.len() as u32,
        notification: items.as_mut_ptr(),
    };
    let cause = names::kept(d.cause.as_deref().unwrap_or(""));
    let ids = SaNtfCorrelationIdsT::default();
    // SAFETY: `cb` is the application's callback of the declared type; the buffer, its
    // items, the root-cause name and the correlation ids live until it returns, and no
    // simulator lock is held, so it may call back into the library.
    unsafe {
        cb(
            &buffer,
            d.members,
            0,
            &cause,
            &ids,
            SaClmChangeStepT::SA_CLM_CHANGE_COMPLETED,
            0,
            Ais::OK,
        )
    };
}

#[cfg(test)]
mod tests {
    use super::super::{JOINED, LEFT};
    use super::*;
    use opensaf_sys::SA_TRACK_CHANGES;

    fn node(name: &str, member: bool) -> Node {
        Node {
            dn: format!("safNode={name},safCluster=c"),
            id: 1,
            member,
            boot_timestamp: 0,
            initial_view: 1,
            address_family: 1,
            address: "127.0.0.1".into(),
            ee: String::new(),
        }
    }

    fn names_and_changes(items: &[Item]) -> Vec<(&str, u32)> {
        items
            .iter()
            .map(|i| (i.node.short_name(), i.change))
            .collect()
    }

    #[test]
    fn changes_lists_every_member_plus_the_changed_node_changes_only_just_it() {
        let nodes = [node("A", true), node("B", false), node("C", true)];
        let all = change_items(&nodes, &nodes[1], LEFT, SA_TRACK_CHANGES);
        assert_eq!(
            names_and_changes(&all),
            [("A", NO_CHANGE), ("B", LEFT), ("C", NO_CHANGE)]
        );
        let only = change_items(&nodes, &nodes[1], LEFT, SA_TRACK_CHANGES_ONLY);
        assert_eq!(names_and_changes(&only), [("B", LEFT)]);
        // A joined node is a member already: listed once, as JOINED.
        let joined = change_items(&nodes, &nodes[2], JOINED, SA_TRACK_CHANGES);
        assert_eq!(
            names_and_changes(&joined),
            [("A", NO_CHANGE), ("C", JOINED)]
        );
    }

    #[test]
    fn a_small_caller_buffer_gets_no_space_and_the_size_needed() {
        let items: Vec<Item> = ["A", "B"]
            .iter()
            .map(|n| Item {
                node: node(n, true),
                change: NO_CHANGE,
            })
            .collect();
        let mut one = [SaClmClusterNotificationT_4::default()];
        let mut b = SaClmClusterNotificationBufferT_4 {
            viewNumber: 0,
            numberOfItems: 1,
            notification: one.as_mut_ptr(),
        };
        // SAFETY: `b` is writable and points to `one`, which has numberOfItems entries.
        let r = fill(unsafe { CallerBuffer::new(&mut b) }, 7, &items);
        assert_eq!(r.unwrap_err(), Ais::NO_SPACE);
        assert_eq!(b.numberOfItems, 2);
        b.notification = std::ptr::null_mut();
        // SAFETY: `b` is writable; NULL asks the library to allocate.
        let array = fill(unsafe { CallerBuffer::new(&mut b) }, 7, &items)
            .unwrap()
            .unwrap();
        assert_eq!((b.viewNumber, b.numberOfItems), (7, 2));
        assert_eq!(b.notification, array.as_ptr().cast_mut());
        assert_eq!(array[1].clusterNode.nodeAddress.length, 9);
    }
}
