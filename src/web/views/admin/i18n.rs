//! The admin UI's words in the user's language. The English text is its own key, as with
//! gettext: `t("Campaigns")` is "Kampagnen" for a German user, and a text nobody translated
//! stays English. Translations live in `locales/<lang>/admin/*.toml`, one
//! `"English" = "Übersetzung"` pair per line; texts looked up from a value rather than written
//! as a literal (status names, roles) go under a `[labels]` table. A test checks that every
//! literal the code passes to `t`, `tf` and `tn` has a translation and that no translation is
//! left over. The admin router sets the language for each request ([`ADMIN_LOCALE`]); outside
//! one (tests, the CLI) the words are English.

use std::{collections::HashMap, fmt::Display, sync::LazyLock};

use crate::domain::Locale;

tokio::task_local! {
    /// The language of the admin page being rendered: the user's, or the browser's before login.
    pub static ADMIN_LOCALE: Locale;
}

/// The German catalogue's files, by area of the admin UI.
const DE_FILES: &[(&str, &str)] = &[
    (
        "shell",
        include_str!("../../../../locales/de/admin/shell.toml"),
    ),
    (
        "campaigns",
        include_str!("../../../../locales/de/admin/campaigns.toml"),
    ),
    (
        "people",
        include_str!("../../../../locales/de/admin/people.toml"),
    ),
    (
        "segments",
        include_str!("../../../../locales/de/admin/segments.toml"),
    ),
    (
        "settings",
        include_str!("../../../../locales/de/admin/settings.toml"),
    ),
    (
        "webhooks",
        include_str!("../../../../locales/de/admin/webhooks.toml"),
    ),
    (
        "transactional",
        include_str!("../../../../locales/de/admin/transactional.toml"),
    ),
];

/// One catalogue file: literal texts at the top, looked-up labels under `[labels]`.
#[derive(Debug, Default, serde::Deserialize)]
struct CatalogFile {
    #[serde(default)]
    labels: HashMap<String, String>,
    #[serde(flatten)]
    texts: HashMap<String, String>,
}

/// The German words, merged from every file. A file that does not parse is left out and
/// logged (the test below keeps that from shipping), so a typo never takes the UI down.
static DE: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    let mut all = HashMap::new();
    for (name, source) in DE_FILES {
        match toml::from_str::<CatalogFile>(source) {
            Ok(file) => all.extend(file.texts.into_iter().chain(file.labels)),
            Err(e) => tracing::error!(file = name, error = %e, "admin catalogue does not parse"),
        }
    }
    all
});

/// The language of the page being rendered: English or German, the languages of the admin
/// UI (English for a language the operator added for the public).
pub fn locale() -> Locale {
    ADMIN_LOCALE
        .try_with(|l| *l)
        .ok()
        .filter(|l| l.is_built_in())
        .unwrap_or_default()
}

/// `en` in the language of the page being rendered.
pub fn t(en: &'static str) -> &'static str {
    match locale() {
        Locale::De => DE.get(en).map_or(en, String::as_str),
        _ => en,
    }
}

/// A label looked up from a value (a status, a role) in the page's language; one with no
/// translation stays as it is. Its translations go under `[labels]`.
pub fn tl(label: &str) -> &str {
    match locale() {
        Locale::De => DE.get(label).map_or(label, String::as_str),
        _ => label,
    }
}

/// An error's message in the page's language, when its text is a fixed one with a
/// translation under `[labels]`; otherwise as the error says it.
pub fn te(error: &impl Display) -> String {
    let said = error.to_string();
    tl(&said).to_owned()
}

/// `en` translated, with each `{name}` replaced by its value: `tf("Sent to {n}", &[("n", &3)])`.
pub fn tf(en: &'static str, args: &[(&str, &dyn Display)]) -> String {
    fill(t(en), args)
}

/// The singular or plural text for `n`, translated, with `{n}` replaced by `n` written out:
/// `tn("{n} person", "{n} people", 1200)` is "1,200 people".
pub fn tn(one: &'static str, other: &'static str, n: u64) -> String {
    let text = if n == 1 { t(one) } else { t(other) };
    fill(text, &[("n", &number(n))])
}

/// `n` with the thousands separated as the page's language writes them: `64,000` / `64.000`.
pub fn number(n: u64) -> String {
    let digits = n.to_string();
    let separator = match locale() {
        Locale::De => '.',
        _ => ',',
    };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

fn fill(text: &str, args: &[(&str, &dyn Display)]) -> String {
    let mut out = text.to_owned();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), &value.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use std::{collections::BTreeSet, path::Path};

    use super::*;

    /// The string literals passed as the first arguments of `t(`, `tf(` and `tn(` (both of
    /// `tn`'s) in `source`.
    fn literal_calls(source: &str) -> Vec<String> {
        let mut found = Vec::new();
        let bytes = source.as_bytes();
        for name in ["t(", "tf(", "tn("] {
            let mut from = 0;
            while let Some(at) = source[from..].find(name) {
                let start = from + at;
                from = start + name.len();
                let prev = start.checked_sub(1).map(|i| bytes[i]);
                if prev.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.') {
                    continue;
                }
                let Some(rest) = source[from..].trim_start().strip_prefix('"') else {
                    continue;
                };
                let (first, end) = literal(rest);
                found.push(first);
                if name == "tn(" {
                    let after = rest[end..]
                        .trim_start()
                        .trim_start_matches(',')
                        .trim_start();
                    if let Some(second) = after.strip_prefix('"') {
                        found.push(literal(second).0);
                    }
                }
            }
        }
        found
    }

    /// The unescaped text of a Rust string literal whose opening quote is just before `s`,
    /// and how many bytes it took.
    fn literal(s: &str) -> (String, usize) {
        let mut out = String::new();
        let mut chars = s.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return (out, i + 1),
                '\\' => match chars.next().map(|(_, e)| e) {
                    Some('n') => out.push('\n'),
                    Some('"') => out.push('"'),
                    Some('\\') => out.push('\\'),
                    Some('\'') => out.push('\''),
                    Some('\n') => {
                        while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
                            chars.next();
                        }
                    }
                    Some(other) => panic!("escape \\{other} in a translated text"),
                    None => break,
                },
                c => out.push(c),
            }
        }
        panic!("unterminated literal")
    }

    fn sources(dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("source dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("i18n.rs") {
                out.push(std::fs::read_to_string(&path).expect("source"));
            }
        }
    }

    fn placeholders(s: &str) -> BTreeSet<&str> {
        s.split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(name, _)| name))
            .collect()
    }

    #[test]
    fn every_catalogue_file_parses_and_agrees_with_the_others() {
        let mut seen: HashMap<String, (String, &str)> = HashMap::new();
        for (name, source) in DE_FILES {
            let file: CatalogFile = toml::from_str(source)
                .unwrap_or_else(|e| panic!("locales/de/admin/{name}.toml: {e}"));
            for (en, de) in file.texts.iter().chain(&file.labels) {
                assert!(
                    !de.trim().is_empty(),
                    "{name}: {en:?} has an empty translation"
                );
                assert_eq!(
                    placeholders(en),
                    placeholders(de),
                    "{name}: {en:?} and {de:?} name different placeholders"
                );
                if let Some((other, other_file)) = seen.get(en) {
                    assert_eq!(
                        other, de,
                        "{en:?} is translated differently in {other_file} and {name}"
                    );
                }
                seen.insert(en.clone(), (de.clone(), name));
            }
        }
    }

    #[test]
    fn every_text_the_admin_ui_shows_is_translated_and_no_translation_is_left_over() {
        let mut files = Vec::new();
        sources(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web"),
            &mut files,
        );
        let used: BTreeSet<String> = files.iter().flat_map(|f| literal_calls(f)).collect();
        assert!(!used.is_empty(), "the scan found no call at all");
        let missing: Vec<_> = used.iter().filter(|en| !DE.contains_key(*en)).collect();
        assert!(missing.is_empty(), "no German for: {missing:#?}");
        let mut literal_keys = BTreeSet::new();
        for (_, source) in DE_FILES {
            let file: CatalogFile = toml::from_str(source).expect("parses");
            literal_keys.extend(file.texts.into_keys());
        }
        let unused: Vec<_> = literal_keys.difference(&used).collect();
        assert!(unused.is_empty(), "translated but never used: {unused:#?}");
    }

    #[test]
    fn the_scan_finds_literals_in_every_form() {
        let source = "x(t(\"A\")); tf(\"B {n}\", &[]); tn(\n \"{n} c\",\n \"{n} cs\", 2); \
                     it(\"no\"); self.t(\"no\"); t(\"multi\\\n   line\")";
        assert_eq!(
            literal_calls(source),
            ["A", "multiline", "B {n}", "{n} c", "{n} cs"]
        );
    }

    #[tokio::test]
    async fn german_pages_get_german_words_and_numbers() {
        ADMIN_LOCALE
            .scope(Locale::De, async {
                assert_eq!(t("Campaigns"), "Kampagnen");
                assert_eq!(t("no such text"), "no such text");
                assert_eq!(number(64_000), "64.000");
            })
            .await;
        assert_eq!(t("Campaigns"), "Campaigns");
        assert_eq!(number(1_234_567), "1,234,567");
        assert_eq!(number(999), "999");
    }
}
