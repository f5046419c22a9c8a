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

#[test]
fn retention_defaults_parse_and_bad_values_name_their_key() {
    let s = RawSettings::load(None).unwrap().parse().unwrap();
    assert_eq!(s.retention.policy.pending, chrono::Duration::days(30));
    assert_eq!(s.retention.policy.lapsed, chrono::Duration::days(180));
    assert_eq!(
        s.retention.policy.review_after,
        chrono::Duration::days(1095)
    );
    assert!(!s.retention.policy.erase_after_review);
    assert_eq!(s.retention.purge_cron, "0 17 3 * * *");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("retention.toml");
    for (body, key) in [
        ("pending_days = 0", "retention.pending_days:"),
        ("pending_days = 3", "retention.pending_days:"),
        ("lapsed_days = -1", "retention.lapsed_days:"),
        (
            "review_after_days = 99999999",
            "retention.review_after_days:",
        ),
        ("purge_cron = \"0 3 * * *\"", "retention.purge_cron:"),
    ] {
        std::fs::write(&file, format!("[retention]\n{body}\n")).unwrap();
        let err = Settings::load(Some(&file)).unwrap_err().to_string();
        assert!(err.starts_with(key), "{body}: {err}");
    }
}

#[test]
fn admin_defaults_equal_the_former_constants_and_bad_values_name_their_key() {
    let s = RawSettings::load(None).unwrap().parse().unwrap();
    assert_eq!(s.admin.session_ttl, chrono::Duration::hours(12));
    assert_eq!(s.admin.login_attempts_per_account, 10);
    assert_eq!(s.admin.login_attempts_per_ip, 50);
    assert_eq!(s.admin.login_window, chrono::Duration::hours(1));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("admin.toml");
    for (body, key) in [
        ("session_ttl_hours = 0", "admin.session_ttl_hours:"),
        ("session_ttl_hours = -3", "admin.session_ttl_hours:"),
        (
            "login_attempts_per_account = 0",
            "admin.login_attempts_per_account:",
        ),
        ("login_attempts_per_ip = -1", "admin.login_attempts_per_ip:"),
        ("login_window_secs = 0", "admin.login_window_secs:"),
        ("login_window_secs = -60", "admin.login_window_secs:"),
    ] {
        std::fs::write(&file, format!("[admin]\n{body}\n")).unwrap();
        let err = Settings::load(Some(&file)).unwrap_err().to_string();
        assert!(err.starts_with(key), "{body}: {err}");
    }
}

#[test]
fn durations_beyond_a_century_and_leases_shorter_than_a_send_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("spans.toml");
    std::fs::write(&file, "[delivery]\nbackoff_max_secs = 100000000000000000\n").unwrap();
    let err = Settings::load(Some(&file)).unwrap_err().to_string();
    assert!(err.starts_with("delivery.backoff_max_secs:"), "{err}");
    std::fs::write(
        &file,
        "[mail]\ntransport = \"smtp\"\nsmtp_url = \"smtp://127.0.0.1:25\"\nsmtp_timeout_secs = 30\n\
         [delivery]\nlease_secs = 120\n",
    )
    .unwrap();
    let err = Settings::load(Some(&file)).unwrap_err().to_string();
    assert!(err.starts_with("delivery.lease_secs:"), "{err}");
}

#[test]
fn webhooks_are_off_by_default_and_their_keys_are_checked() {
    let s = RawSettings::load(None).unwrap().parse().unwrap();
    let w = &s.webhooks;
    assert!(w.ses.is_none() && w.postmark.is_none() && w.mailgun.is_none() && w.sendgrid.is_none());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hooks.toml");
    // A P-256 key as SendGrid shows it: base64 of its SubjectPublicKeyInfo.
    let point = [[4u8].as_slice(), &[7u8; 64]].concat();
    let spki = [raw::P256_SPKI_PREFIX.as_slice(), &point].concat();
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD.encode(spki);
    std::fs::write(
        &file,
        format!(
            "[webhooks.sendgrid]\npublic_key = \"{key}\"\n[webhooks.ses]\n\
             topic_arns = [\"arn:aws:sns:eu-west-1:1:t\"]\n"
        ),
    )
    .unwrap();
    let s = Settings::load(Some(&file)).unwrap();
    assert_eq!(s.webhooks.sendgrid.as_deref(), Some(point.as_slice()));
    assert_eq!(
        s.webhooks.ses.unwrap().topic_arns,
        ["arn:aws:sns:eu-west-1:1:t"]
    );
    for (toml, key) in [
        (
            "[webhooks.sendgrid]\npublic_key = \"bm90IGEga2V5\"\n",
            "webhooks.sendgrid.public_key:",
        ),
        (
            "[webhooks.ses]\ntopic_arns = [\"my-topic\"]\n",
            "webhooks.ses.topic_arns:",
        ),
        (
            "[webhooks.ses]\ntopic_arns = [\"arn:x\"]\ncertificate_file = \"/nonexistent.pem\"\n",
            "webhooks.ses.certificate_file:",
        ),
        (
            "[webhooks.postmark]\nusername = \"hook\"\n",
            "webhooks.postmark:",
        ),
        (
            "[webhooks.postmark]\nusername = \"hook\"\npassword = \"short\"\n",
            "webhooks.postmark.password:",
        ),
    ] {
        std::fs::write(&file, toml).unwrap();
        let err = Settings::load(Some(&file)).unwrap_err().to_string();
        assert!(err.starts_with(key), "{err}");
    }
}

#[test]
fn mail_reply_to_is_optional_may_be_at_any_domain_and_must_be_an_address() {
    let s = RawSettings::load(None).unwrap().parse().unwrap();
    assert_eq!(s.mail.reply_to, None);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("reply.toml");
    // A helpdesk elsewhere: not one of the domains Bulletin sends from.
    std::fs::write(&file, "[mail]\nreply_to = \" Help@Desk.example \"\n").unwrap();
    let s = Settings::load(Some(&file)).unwrap();
    assert_eq!(
        s.mail.reply_to.as_ref().map(EmailAddress::as_str),
        Some("help@desk.example")
    );
    for bad in ["not an address", "Help <help@desk.example>", "a@b@c"] {
        std::fs::write(&file, format!("[mail]\nreply_to = \"{bad}\"\n")).unwrap();
        let err = Settings::load(Some(&file)).unwrap_err().to_string();
        assert!(err.starts_with("mail.reply_to:"), "{bad}: {err}");
    }
}
