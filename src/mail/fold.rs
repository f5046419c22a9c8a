//! Folds the overlong lines of an HTML body at white space it already has, so that the part
//! can go as it is (7bit/8bit) rather than quoted-printable. It adds and removes nothing: it
//! only turns an ASCII space or tab into a line break where HTML reads the two the same.
//!
//! Hand-written rather than with an HTML parser crate: it needs only where tags, attribute
//! values, comments and whitespace-preserving elements begin and end, over a body Bulletin
//! rendered itself, and anything it is unsure of is left unfolded (the part then goes
//! quoted-printable, as before).

use super::message::MAX_LINE;

/// The length folded lines aim at: RFC 5322 §2.1.1 recommends at most 78 characters a line,
/// so a folded part reads like any other mail's source; lines that fit in `MAX_LINE` already
/// are never touched.
pub const FOLD_TARGET: usize = 78;

/// Elements whose white space is kept as written (`pre` and its obsolete kin, `textarea`) or
/// is not HTML text at all (`script`, `style`): never folded inside.
const PRESERVING: [&[u8]; 7] = [
    b"pre",
    b"textarea",
    b"script",
    b"style",
    b"xmp",
    b"listing",
    b"plaintext",
];

/// Elements without content: an inline `white-space` style on one of them keeps nothing.
const VOID: [&[u8]; 13] = [
    b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link", b"meta",
    b"source", b"track", b"wbr",
];

/// `html` with spaces or tabs turned into line breaks so that no line is longer than
/// `MAX_LINE` octets; `None` if some line cannot be folded that far (a long URL, a long
/// line inside `<pre>`). Lines that fit are left as they are.
pub fn fold_html(html: &str) -> Option<String> {
    let bytes = html.as_bytes();
    let spaces = foldable_spaces(bytes);
    let mut breaks = Vec::new();
    let mut start = 0;
    let mut candidates = spaces.as_slice();
    let line_ends = memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len()));
    for end in line_ends {
        let inside = candidates.partition_point(|&c| c < end);
        if end - start > MAX_LINE {
            fold_line(start, end, &candidates[..inside], &mut breaks)?;
        }
        candidates = &candidates[inside..];
        start = end + 1;
    }
    let mut folded = String::with_capacity(html.len());
    let mut from = 0;
    for at in breaks {
        folded.push_str(&html[from..at]);
        folded.push('\n');
        from = at + 1;
    }
    folded.push_str(&html[from..]);
    Some(folded)
}

/// Chooses the breaks of the line `start..end` among `candidates` (ascending), greedily
/// near `FOLD_TARGET`; `None` if a piece stays longer than `MAX_LINE`.
fn fold_line(
    start: usize,
    end: usize,
    candidates: &[usize],
    breaks: &mut Vec<usize>,
) -> Option<()> {
    let mut line_start = start;
    let mut last = None;
    let mut pieces = vec![start];
    let mut cut = |at: usize, line_start: &mut usize| {
        breaks.push(at);
        pieces.push(at + 1);
        *line_start = at + 1;
    };
    for &c in candidates.iter().filter(|&&c| c >= start) {
        if c - line_start > FOLD_TARGET {
            if let Some(previous) = last.take() {
                cut(previous, &mut line_start);
            }
            if c - line_start > FOLD_TARGET {
                cut(c, &mut line_start);
                continue;
            }
        }
        last = Some(c);
    }
    if end - line_start > FOLD_TARGET
        && let Some(previous) = last
    {
        cut(previous, &mut line_start);
    }
    pieces.push(end + 1);
    pieces
        .windows(2)
        .all(|w| w[1] - w[0] - 1 <= MAX_LINE)
        .then_some(())
}

/// The positions of the spaces and tabs that may become line breaks: in text outside
/// whitespace-preserving elements, and between the attributes of a tag; never in an
/// attribute value, a comment or a declaration.
fn foldable_spaces(b: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'<' => i = after_markup(b, i, &mut out),
            b' ' | b'\t' => {
                // A line beginning `From ` may be rewritten `>From ` by an mbox store.
                if !between_wide_characters(b, i) && !b[i + 1..].starts_with(b"From ") {
                    out.push(i);
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// Whether the nearest characters on both sides of the space at `i` are non-ASCII. CSS Text 3
/// §4.1.3 removes a line break between two East Asian wide characters (where a space would
/// stay), so such a space is not folded; any non-ASCII character counts, to be safe.
fn between_wide_characters(b: &[u8], i: usize) -> bool {
    let blank = |c: &&u8| matches!(**c, b' ' | b'\t');
    let before = b[..i].iter().rev().find(|c| !blank(c));
    let after = b[i..].iter().find(|c| !blank(c));
    matches!((before, after), (Some(x), Some(y)) if !x.is_ascii() && !y.is_ascii())
}

/// The position after the markup that starts with the `<` at `i`, recording the foldable
/// spaces inside it (and skipping the content of a whitespace-preserving element).
fn after_markup(b: &[u8], i: usize, out: &mut Vec<usize>) -> usize {
    let rest = &b[i..];
    if rest.starts_with(b"<!--") {
        return memchr::memmem::find(&rest[4..], b"-->").map_or(b.len(), |at| i + 4 + at + 3);
    }
    match rest.get(1) {
        Some(b'!' | b'?') => memchr::memchr(b'>', rest).map_or(b.len(), |at| i + at + 1),
        Some(b'/') => after_tag(b, i + 2, out).0,
        Some(c) if c.is_ascii_alphabetic() => {
            let name_end = i
                + 1
                + rest[1..]
                    .iter()
                    .position(|c| !c.is_ascii_alphanumeric() && *c != b'-')
                    .unwrap_or(rest.len() - 1);
            let name = &b[i + 1..name_end];
            let (end, styled) = after_tag(b, name_end, out);
            let self_closing = b.get(end.wrapping_sub(2)) == Some(&b'/');
            let preserving = PRESERVING.iter().any(|p| p.eq_ignore_ascii_case(name))
                || (styled && !self_closing && !VOID.iter().any(|v| v.eq_ignore_ascii_case(name)));
            match preserving {
                true => after_element(b, end, name),
                false => end,
            }
        }
        // A `<` that begins no tag is text.
        _ => i + 1,
    }
}

/// From just after a tag's name: the position after its `>`, and whether it sets a
/// `white-space` style (looked for anywhere in the tag, to be safe). Spaces and tabs outside
/// attribute values are recorded as foldable.
fn after_tag(b: &[u8], from: usize, out: &mut Vec<usize>) -> (usize, bool) {
    let mut i = from;
    let mut after_equals = false;
    while i < b.len() {
        match b[i] {
            b'>' => {
                let styled = b[from..i]
                    .windows(b"white-space".len())
                    .any(|w| w.eq_ignore_ascii_case(b"white-space"));
                return (i + 1, styled);
            }
            quote @ (b'"' | b'\'') if after_equals => {
                let Some(at) = memchr::memchr(quote, &b[i + 1..]) else {
                    break;
                };
                i += at + 2;
                after_equals = false;
            }
            b'=' => {
                after_equals = true;
                i += 1;
            }
            b' ' | b'\t' => {
                out.push(i);
                i += 1;
            }
            b'\n' | b'\r' | b'\x0c' => i += 1,
            _ if after_equals => {
                // An unquoted value runs to white space or `>`.
                while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'>')
                {
                    i += 1;
                }
                after_equals = false;
            }
            _ => i += 1,
        }
    }
    (b.len(), true)
}

/// From just after the start tag of a whitespace-preserving element `name`: the position
/// after its matching end tag (nested elements of the same name counted), or the end.
fn after_element(b: &[u8], from: usize, name: &[u8]) -> usize {
    let mut depth = 1usize;
    let mut i = from;
    while let Some(at) = memchr::memchr(b'<', &b[i..]) {
        let tag = i + at;
        let closing = b.get(tag + 1) == Some(&b'/');
        let name_at = tag + 1 + usize::from(closing);
        let after_name = name_at + name.len();
        let named = b
            .get(name_at..after_name)
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
            && matches!(
                b.get(after_name),
                Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/' | b'>')
            );
        i = tag + 1;
        if !named {
            continue;
        }
        if !closing {
            depth += 1;
            continue;
        }
        depth -= 1;
        if depth == 0 {
            return memchr::memchr(b'>', &b[tag..]).map_or(b.len(), |end| tag + end + 1);
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The folded text with every inserted line break turned back into what it replaced.
    fn unfold(original: &str, folded: &str) -> String {
        assert_eq!(original.len(), folded.len());
        let bytes = original
            .bytes()
            .zip(folded.bytes())
            .map(|(o, f)| {
                if o != f {
                    assert!(matches!(o, b' ' | b'\t') && f == b'\n', "{o} -> {f}");
                }
                o
            })
            .collect();
        String::from_utf8(bytes).unwrap()
    }

    fn longest_line(text: &str) -> usize {
        text.split('\n').map(str::len).max().unwrap_or(0)
    }

    #[test]
    fn a_long_paragraph_is_folded_at_its_spaces() {
        let html = format!("<p>{}</p>\n<p>short</p>", "word ".repeat(400));
        let folded = fold_html(&html).unwrap();
        assert!(longest_line(&folded) <= FOLD_TARGET, "{folded}");
        assert!(folded.ends_with("\n<p>short</p>"));
        assert_eq!(folded.replace('\n', " "), html.replace('\n', " "));
    }

    #[test]
    fn lines_that_fit_are_left_alone() {
        let html = format!("<p>{}</p>", "word ".repeat(150));
        assert_eq!(fold_html(&html).unwrap(), html);
    }

    #[test]
    fn minified_html_folds_between_attributes_but_not_inside_values_or_between_tags() {
        let cell = r#"<td class="a b" style="color: red; margin: 0"><a href="https://x.test/a b" title="x y">z</a></td>"#;
        let html = cell.repeat(30);
        let folded = fold_html(&html).unwrap();
        assert!(longest_line(&folded) <= MAX_LINE);
        for line in folded.split('\n') {
            // Every break replaced the space between two attributes.
            assert!(
                line.ends_with("\"")
                    || line.ends_with("<td")
                    || line.ends_with("<a")
                    || line.ends_with("</td>"),
                "{line}"
            );
        }
        assert!(!folded.contains(">\n<"), "no white space between tags");
        assert!(folded.contains("class=\"a b\"") && folded.contains("href=\"https://x.test/a b\""));
    }

    #[test]
    fn preformatted_elements_and_comments_are_not_folded() {
        let words = "word ".repeat(300);
        for html in [
            format!("<pre>{words}</pre>"),
            format!("<PRE class=\"x\"><code>{words}</code></PRE>"),
            format!("<textarea>{words}</textarea>"),
            format!("<script>var a = '{words}';</script>"),
            format!("<style>p {{ margin: 0 }} {words}</style>"),
            format!("<p style=\"white-space:pre-line\">{words}</p>"),
            format!("<!--[if mso]>{words}<![endif]-->"),
            format!("<p title=\"{words}\">x</p>"),
        ] {
            assert_eq!(fold_html(&html), None, "{html}");
        }
        // After the element ends, text folds again.
        let html = format!("<pre>a  b</pre><pre><pre>c</pre> d</pre>{words}");
        let folded = fold_html(&html).unwrap();
        assert!(
            folded.starts_with("<pre>a  b</pre><pre><pre>c</pre> d</pre>word"),
            "{folded}"
        );
    }

    #[test]
    fn no_folded_line_begins_with_from() {
        let html = format!("<p>{}</p>", "word From ".repeat(200));
        let folded = fold_html(&html).unwrap();
        assert!(
            folded.split('\n').all(|l| !l.starts_with("From ")),
            "{folded}"
        );
    }

    #[test]
    fn a_long_word_goes_unfolded() {
        let url = format!("<a href=\"https://x.test/{}\">x</a>", "a".repeat(2000));
        assert_eq!(fold_html(&url), None);
        assert_eq!(fold_html(&format!("<p>{}</p>", "a".repeat(999))), None);
    }

    #[test]
    fn spaces_between_east_asian_characters_stay() {
        let html = format!("<p>{}</p>", "中文 ".repeat(300));
        assert_eq!(fold_html(&html), None);
        let mixed = format!("<p>{}</p>", "中文 a ".repeat(300));
        let folded = fold_html(&mixed).unwrap();
        assert_eq!(unfold(&mixed, &folded), mixed);
    }

    proptest::proptest! {
        #[test]
        fn folding_only_turns_spaces_into_line_breaks_and_fits_every_line(
            pieces in proptest::collection::vec(
                proptest::prop_oneof![
                    // Lines of about 300 pieces: most longer than `MAX_LINE`, some not.
                    120 => "[a-z]{1,12}",
                    120 => " ",
                    8 => "\t",
                    1 => "\n",
                    40 => "<p>|</p>|<br>|<b>|</b>|ü|中",
                    10 => "<a href=\"https://x\\.test/[a-z ]{0,20}\" title='[a-z ]{0,20}'>",
                    4 => "<pre>[a-z ]{0,40}</pre>",
                    4 => "<!-- [a-z ]{0,10} -->",
                ],
                0..1500,
            )
        ) {
            let html: String = pieces.concat();
            let Some(folded) = fold_html(&html) else {
                // Only a line that cannot be folded under the limit is refused.
                proptest::prop_assert!(longest_line(&html) > MAX_LINE);
                return Ok(());
            };
            proptest::prop_assert_eq!(unfold(&html, &folded), html.clone());
            proptest::prop_assert!(longest_line(&folded) <= MAX_LINE);
            // `<pre>` content is untouched.
            for (o, f) in html.split("<pre>").zip(folded.split("<pre>")).skip(1) {
                let end = o.find("</pre>").unwrap_or(o.len());
                proptest::prop_assert_eq!(&o[..end], &f[..end]);
            }
        }
    }
}
