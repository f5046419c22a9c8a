//! Keyset pages for every list endpoint: fetch one row more than the page holds; if it
//! came, the key of the page's last row is the cursor of the next page. Never OFFSET.

/// The rows to fetch for a page of `limit` rows: one more, to learn whether more follow.
pub fn fetch_size(limit: u64) -> u64 {
    limit.saturating_add(1)
}

/// One page of a keyset-paged listing: its items, and the cursor of the next page (the key
/// of this page's last item) when more follow. Every service that lists answers with one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, C> {
    /// The items, in the listing's order.
    pub items: Vec<T>,
    /// The cursor to ask for the next page with; `None` on the last page.
    pub next: Option<C>,
}

impl<T, C> Page<T, C> {
    /// The page of at most `limit` items among `found` (fetched with [`fetch_size`]), with
    /// the key of its last item when more rows follow.
    pub fn cut(mut found: Vec<T>, limit: u64, key: impl Fn(&T) -> C) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        if found.len() <= limit {
            return Self {
                items: found,
                next: None,
            };
        }
        found.truncate(limit);
        let next = found.last().map(key);
        Self { items: found, next }
    }
}

#[cfg(test)]
mod tests {
    use super::Page;

    fn page(items: Vec<u8>, next: Option<u8>) -> Page<u8, u8> {
        Page { items, next }
    }

    #[test]
    fn a_full_page_with_more_rows_gives_the_last_key() {
        assert_eq!(
            Page::cut(vec![1, 2, 3], 2, |n| *n),
            page(vec![1, 2], Some(2))
        );
    }

    #[test]
    fn the_last_page_has_no_cursor() {
        assert_eq!(Page::cut(vec![1, 2], 2, |n| *n), page(vec![1, 2], None));
        assert_eq!(Page::cut(vec![], 2, |n| *n), page(vec![], None));
    }
}
