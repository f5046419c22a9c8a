//! Keyset pages for every list endpoint: fetch one row more than the page holds; if it
//! came, the key of the page's last row is the cursor of the next page. Never OFFSET.

/// The rows to fetch for a page of `limit` rows: one more, to learn whether more follow.
pub fn fetch_size(limit: u64) -> u64 {
    limit.saturating_add(1)
}

/// Cuts `found` (fetched with [`fetch_size`]) to `limit` rows, and gives the key of the last
/// row kept when more rows follow.
pub fn split<T, K>(mut found: Vec<T>, limit: u64, key: impl Fn(&T) -> K) -> (Vec<T>, Option<K>) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if found.len() <= limit {
        return (found, None);
    }
    found.truncate(limit);
    let next = found.last().map(key);
    (found, next)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn a_full_page_with_more_rows_gives_the_last_key() {
        assert_eq!(split(vec![1, 2, 3], 2, |n| *n), (vec![1, 2], Some(2)));
    }

    #[test]
    fn the_last_page_has_no_cursor() {
        assert_eq!(split(vec![1, 2], 2, |n| *n), (vec![1, 2], None));
        assert_eq!(split(Vec::<u8>::new(), 2, |n| *n), (vec![], None));
    }
}
