//! Unit tests of settings parsing.

use super::*;

#[test]
fn the_defaults_parse() {
    let s = RawSettings::load(None).unwrap().parse().unwrap();
    assert_eq!(s.http.bind.to_string(), "127.0.0.1:8080");
    assert_eq!(
        s.privacy_notice_url.as_str(),
        "http://127.0.0.1:8080/privacy-notice"
    );
    assert!(matches!(
        s.mail.transport,
        MailTransportSettings::File { .. }
    ));
    assert_eq!(s.subscriptions.max_confirmations, 3);
}

#[test]
fn a_bad_value_names_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[mail]\ntransport = \"smtp\"\nsmtp_url = \"http://x\"\n",
    )
    .unwrap();
    let err = Settings::load(Some(&file)).unwrap_err().to_string();
    assert!(err.starts_with("mail.smtp_url:"), "{err}");
    std::fs::write(&file, "[http]\nbind = \"nonsense\"\n").unwrap();
    let err = Settings::load(Some(&file)).unwrap_err().to_string();
    assert!(err.starts_with("http.bind:"), "{err}");
}

#[test]
fn an_unknown_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo.toml");
    std::fs::write(&file, "[mail]\ntransprot = \"smtp\"\n").unwrap();
    let err = Settings::load(Some(&file)).unwrap_err().to_string();
    assert!(err.contains("transprot"), "{err}");
}

#[test]
fn join_url_keeps_a_path_prefix() {
    let base = Url::parse("https://example.com/news/").unwrap();
    assert_eq!(
        join_url(&base, "/confirm/x").as_str(),
        "https://example.com/news/confirm/x"
    );
}
