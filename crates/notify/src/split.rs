//! Fitting texts into a channel's byte limit: a long text split at line ends where it can be
//! (else at a character), and many short texts packed into as few digests as fit.

/// Parts of at most `limit` bytes whose concatenation is `text`. Cuts after the last line end
/// that keeps a part at least half full, else at the last character boundary that fits.
pub fn split(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(4); // one character of UTF-8 always fits
    let mut parts = vec![];
    let mut rest = text;
    while rest.len() > limit {
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        if let Some(nl) = rest[..cut].rfind('\n')
            && nl + 1 >= limit / 2
        {
            cut = nl + 1;
        }
        parts.push(rest[..cut].to_string());
        rest = &rest[cut..];
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(rest.to_string());
    }
    parts
}

/// Groups of consecutive items whose texts, joined by `sep`, fit in `limit` bytes; an item too
/// long for any group is a group alone (and is split when sent). Every index appears once, in order.
pub fn pack(sizes: &[usize], sep: usize, limit: usize) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = vec![];
    let mut used = 0;
    for (i, &n) in sizes.iter().enumerate() {
        match groups.last_mut() {
            Some(g) if !g.is_empty() && used + sep + n <= limit => {
                g.push(i);
                used += sep + n;
            }
            _ => {
                groups.push(vec![i]);
                used = n;
            }
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parts_fit_and_join_to_the_text(text in "[a-z督办交\\n ]{0,3000}", limit in 4usize..3000) {
            let parts = split(&text, limit);
            prop_assert!(parts.iter().all(|p| p.len() <= limit));
            prop_assert_eq!(parts.concat(), text);
        }

        #[test]
        fn packing_keeps_every_item_once_and_fits(sizes in proptest::collection::vec(1usize..3000, 0..60), limit in 100usize..4000) {
            let groups = pack(&sizes, 2, limit);
            let flat: Vec<usize> = groups.iter().flatten().copied().collect();
            prop_assert_eq!(flat, (0..sizes.len()).collect::<Vec<_>>());
            for g in &groups {
                let total: usize = g.iter().map(|&i| sizes[i]).sum::<usize>() + 2 * (g.len() - 1);
                prop_assert!(g.len() == 1 || total <= limit);
            }
        }
    }

    #[test]
    fn a_chinese_text_is_cut_between_characters_and_at_a_line_end() {
        let text = format!("{}\n{}", "督".repeat(500), "办".repeat(500));
        let parts = split(&text, 2048);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], format!("{}\n", "督".repeat(500)));
    }
}
