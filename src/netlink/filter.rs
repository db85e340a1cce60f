//! Which links are mirrored: a link-type filter plus include/exclude name globs.

use super::link::Link;
use super::wire::ARPHRD_ETHER;

/// Default (all fields empty/false): every Ethernet link, nothing else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkFilter {
    /// Name globs; when non-empty a link must match at least one.
    pub include: Vec<String>,
    /// Name globs; a matching link is rejected even if it matches `include`.
    pub exclude: Vec<String>,
    /// Accept every link type, not only ARPHRD_ETHER (loopback, tunnels, ...).
    pub all_types: bool,
}

impl LinkFilter {
    pub fn accepts(&self, l: &Link) -> bool {
        if !self.all_types && l.link_type != ARPHRD_ETHER {
            return false;
        }
        if !self.include.is_empty()
            && !self
                .include
                .iter()
                .any(|p| glob_match(p.as_bytes(), &l.name))
        {
            return false;
        }
        !self
            .exclude
            .iter()
            .any(|p| glob_match(p.as_bytes(), &l.name))
    }

    /// Keeps only accepted links, in place.
    pub fn retain(&self, links: &mut Vec<Link>) {
        links.retain(|l| self.accepts(l));
    }
}

/// Shell-style glob over bytes: `*` (any run), `?` (one byte), `[abc]`, `[a-z]`, `[!x]` (also
/// `[^x]`), and `\` to quote the next byte. A `[` without a closing `]` is a literal `[`, as in
/// fnmatch. Runs in O(pattern × name) at worst, without recursion, so a hostile pattern cannot
/// blow the stack or take exponential time.
pub fn glob_match(pat: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0usize, 0usize);
    // Where to resume after a mismatch: the pattern just after the last `*`, and the name
    // position that star currently extends to. Only the last star matters for glob.
    let mut resume: Option<(usize, usize)> = None;
    loop {
        match pat.get(p) {
            Some(b'*') => {
                p += 1;
                resume = Some((p, n));
                continue;
            }
            Some(_) => {
                if let Some(&c) = name.get(n) {
                    let (ok, next) = match_one(pat, p, c);
                    if ok {
                        p = next;
                        n += 1;
                        continue;
                    }
                }
            }
            None if n == name.len() => return true,
            None => {}
        }
        match resume {
            Some((rp, rn)) if rn < name.len() => {
                resume = Some((rp, rn + 1));
                p = rp;
                n = rn + 1;
            }
            _ => return false,
        }
    }
}

/// Matches the single-byte token at `pat[p]` (not `*`) against `c`; returns the result and
/// where the next token starts.
fn match_one(pat: &[u8], p: usize, c: u8) -> (bool, usize) {
    match pat.get(p) {
        Some(b'?') => (true, p + 1),
        Some(b'[') => match_class(pat, p, c).unwrap_or((c == b'[', p + 1)),
        Some(b'\\') => match pat.get(p + 1) {
            Some(&q) => (c == q, p + 2),
            None => (c == b'\\', p + 1),
        },
        Some(&lit) => (c == lit, p + 1),
        None => (false, p),
    }
}

/// `pat[p]` is `[`. None if the class is not closed.
fn match_class(pat: &[u8], p: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = p + 1;
    let negate = matches!(pat.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let first = i;
    let mut hit = false;
    loop {
        let mut lo = *pat.get(i)?;
        // A `]` right after `[` or `[!` is a member, not the end.
        if lo == b']' && i > first {
            return Some((hit != negate, i + 1));
        }
        if lo == b'\\' {
            i += 1;
            lo = *pat.get(i)?;
        }
        match (pat.get(i + 1), pat.get(i + 2)) {
            (Some(b'-'), Some(&hi)) if hi != b']' => {
                let (hi, skip) = if hi == b'\\' {
                    (*pat.get(i + 3)?, 4)
                } else {
                    (hi, 3)
                };
                hit |= lo <= c && c <= hi;
                i += skip;
            }
            _ => {
                hit |= c == lo;
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, n: &str) -> bool {
        glob_match(p.as_bytes(), n.as_bytes())
    }

    #[test]
    fn literals_and_wildcards() {
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("eth0", "eth0"));
        assert!(!m("eth0", "eth1"));
        assert!(!m("eth0", "eth00"));
        assert!(m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("eth*", "eth"));
        assert!(m("eth*", "eth12"));
        assert!(!m("eth*", "veth0"));
        assert!(m("*eth*", "veth0"));
        assert!(m("?", "a"));
        assert!(!m("?", ""));
        assert!(!m("?", "ab"));
        assert!(m("e?h?", "eth0"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(m("a*b*c", "abc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("*a", "aaaa"));
        assert!(m("**a**", "bab"));
        assert!(!m("a*", "ba"));
    }

    #[test]
    fn classes() {
        assert!(m("eth[0-3]", "eth2"));
        assert!(!m("eth[0-3]", "eth4"));
        assert!(m("eth[!0-3]", "eth4"));
        assert!(!m("eth[!0-3]", "eth0"));
        assert!(m("eth[^0]", "eth1"));
        assert!(m("[abc]x", "bx"));
        assert!(!m("[abc]x", "dx"));
        assert!(m("[]]", "]"));
        assert!(m("[!]]", "a"));
        assert!(!m("[!]]", "]"));
        assert!(m("[a-]", "-"));
        assert!(m("[a-]", "a"));
        assert!(!m("[z-a]", "[z-a]"));
        assert!(!m("[z-a]", "m"));
        // Unclosed: literal '['.
        assert!(m("a[b", "a[b"));
        assert!(!m("a[b", "ab"));
        assert!(m("[", "["));
        assert!(m("v[0-9][0-9]*", "v12abc"));
    }

    #[test]
    fn escapes() {
        assert!(m("a\\*", "a*"));
        assert!(!m("a\\*", "ab"));
        assert!(m("\\?", "?"));
        assert!(m("a\\", "a\\"));
        assert!(m("[\\]]", "]"));
        assert!(m("[\\!a]", "!"));
    }

    #[test]
    fn non_utf8_names() {
        assert!(glob_match(b"v*", &[b'v', 0xff, 0xfe]));
        assert!(glob_match(b"v?", &[b'v', 0xff]));
        assert!(glob_match(&[b'[', 0x80, b'-', 0xff, b']'], &[0x90]));
    }

    #[test]
    fn pathological_pattern_is_fast() {
        let name = vec![b'a'; 200];
        let mut pat = b"a*".repeat(50);
        pat.push(b'b');
        let t = std::time::Instant::now();
        assert!(!glob_match(&pat, &name));
        assert!(t.elapsed() < std::time::Duration::from_secs(1));
    }

    fn link(name: &str, link_type: u16) -> Link {
        Link {
            ifindex: 1,
            name: name.as_bytes().to_vec(),
            mac: vec![2, 0, 0, 0, 0, 1],
            link_type,
            oper_state: 0,
        }
    }

    #[test]
    fn filter_rules() {
        let f = LinkFilter::default();
        assert!(f.accepts(&link("eth0", ARPHRD_ETHER)));
        assert!(!f.accepts(&link("lo", 772)));
        let f = LinkFilter {
            all_types: true,
            ..LinkFilter::default()
        };
        assert!(f.accepts(&link("lo", 772)));
        let f = LinkFilter {
            include: vec!["eth*".into(), "bond?".into()],
            exclude: vec!["eth1*".into()],
            all_types: false,
        };
        assert!(f.accepts(&link("eth0", 1)));
        assert!(f.accepts(&link("bond0", 1)));
        assert!(!f.accepts(&link("bond10", 1)));
        assert!(!f.accepts(&link("eth10", 1)));
        assert!(!f.accepts(&link("veth0", 1)));
        // Exclude wins even with no include list.
        let f = LinkFilter {
            exclude: vec!["v*".into()],
            ..LinkFilter::default()
        };
        assert!(!f.accepts(&link("veth0", 1)));
        assert!(f.accepts(&link("eth0", 1)));
        let mut v = vec![link("veth0", 1), link("eth0", 1), link("lo", 772)];
        f.retain(&mut v);
        assert_eq!(v.len(), 1);
    }
}
