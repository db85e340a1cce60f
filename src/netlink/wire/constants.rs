//! The rtnetlink numbers macsync reads or sends (linux/netlink.h, linux/rtnetlink.h,
//! linux/if_link.h, linux/if_arp.h).

pub const NLMSG_HDRLEN: usize = 16;
pub const IFINFOMSG_LEN: usize = 16;
pub const RTA_HDRLEN: usize = 4;

pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLMSG_OVERRUN: u16 = 4;

pub const RTM_NEWLINK: u16 = 16;
pub const RTM_DELLINK: u16 = 17;
pub const RTM_GETLINK: u16 = 18;
pub const RTM_SETLINK: u16 = 19;

pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_MULTI: u16 = 0x2;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_DUMP_INTR: u16 = 0x10;
pub const NLM_F_DUMP: u16 = 0x300;
/// In an NLMSG_ERROR: the echoed request was cut down to its header.
pub const NLM_F_CAPPED: u16 = 0x100;
/// In an NLMSG_ERROR: extended-ack attributes follow the echoed request.
pub const NLM_F_ACK_TLVS: u16 = 0x200;

pub const NLMSGERR_ATTR_MSG: u16 = 1;

pub const IFLA_ADDRESS: u16 = 1;
pub const IFLA_IFNAME: u16 = 3;
pub const IFLA_OPERSTATE: u16 = 16;
pub const IFLA_EXT_MASK: u16 = 29;
pub const IFLA_LINK_NETNSID: u16 = 37;
pub const IFLA_NEW_NETNSID: u16 = 45;
pub const IFLA_NEW_IFINDEX: u16 = 49;
pub const IFLA_PERM_ADDRESS: u16 = 54;

/// IFLA_EXT_MASK bit: leave IFLA_STATS/IFLA_STATS64 (and inet6 statistics) out of dumps.
pub const RTEXT_FILTER_SKIP_STATS: u32 = 1 << 3;

/// Strips NLA_F_NESTED and NLA_F_NET_BYTEORDER from an attribute type.
pub const NLA_TYPE_MASK: u16 = 0x3fff;

/// Longest hardware address the kernel stores (include/linux/netdevice.h).
pub const MAX_ADDR_LEN: usize = 32;

pub const AF_UNSPEC: u8 = 0;
pub const AF_BRIDGE: u8 = 7;

pub const ARPHRD_ETHER: u16 = 1;
pub const ARPHRD_LOOPBACK: u16 = 772;

pub const RTMGRP_LINK: u32 = 1;
