//! A stable hash for names that must agree between processes, machines and versions.

/// FNV-1a, 64 bits: stable across machines, builds and versions (unlike std's hasher), so
/// independent processes agree on it (`migrate copy`'s shards, the names of a parallel CDC
/// apply's objects).
pub fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::fnv1a;

    #[test]
    fn known_values() {
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
