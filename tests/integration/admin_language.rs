//! Each admin user's language: chosen on the account page, spoken by every admin page, its
//! messages and its errors; before login the browser's `Accept-Language` decides.

use bulletin::domain::Role;
use reqwest::{StatusCode, header};

use crate::{
    admin::Admin,
    support::{TestApp, body},
};

#[tokio::test]
async fn a_user_who_chooses_german_gets_the_admin_ui_in_german_and_others_keep_english() {
    let app = TestApp::spawn().await;
    let admin = Admin::with_role(&app, Role::Admin).await;
    let marketer = Admin::with_role(&app, Role::Marketer).await;

    let (_, page) = body(admin.get("/admin/account").await).await;
    assert!(page.contains(r#"<html lang="en">"#), "{page}");
    assert!(page.contains(r#"<option value="en" selected>English</option>"#));

    let refused = admin
        .post("/admin/account/language", &[("locale", "tlh")])
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, page) = body(refused).await;
    assert!(page.contains("Choose a language from the list."), "{page}");
    let (_, page) = body(admin.get("/admin/").await).await;
    assert!(
        page.contains(r#"<html lang="en">"#),
        "a refused choice changes nothing"
    );

    let saved = admin
        .post("/admin/account/language", &[("locale", "de")])
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let (_, page) = body(admin.follow(saved).await).await;
    assert!(
        page.contains("Die Verwaltung spricht jetzt Deutsch."),
        "{page}"
    );
    assert!(page.contains(r#"<html lang="de">"#));
    assert!(page.contains(r#"<option value="de" selected>Deutsch</option>"#));

    let (_, page) = body(admin.get("/admin/").await).await;
    for word in [
        "Kampagnen",
        "Abonnenten",
        "Mitteilungen",
        "Abmelden",
        "Zum Inhalt springen",
    ] {
        assert!(page.contains(word), "{word} missing from {page}");
    }
    assert!(!page.contains(">Campaigns<"), "{page}");

    let refused = admin
        .post("/admin/account/time-zone", &[("time_zone", "Mars/Olympus")])
        .await;
    let (_, page) = body(refused).await;
    assert!(
        page.contains("Wählen Sie eine Zeitzone aus der Liste"),
        "a domain error is said in German too: {page}"
    );

    let (_, page) = body(marketer.get("/admin/").await).await;
    assert!(
        page.contains(r#"<html lang="en">"#),
        "another user keeps English"
    );
    assert!(page.contains(">Campaigns<"));

    let (_, audit) = body(admin.get("/admin/audit").await).await;
    assert!(
        audit.contains("user.locale"),
        "the change is audited: {audit}"
    );
}

#[tokio::test]
async fn the_login_page_speaks_the_browsers_language() {
    let app = TestApp::spawn().await;
    let german = app
        .http
        .get(app.url("/admin/login"))
        .header(header::ACCEPT_LANGUAGE, "de-DE,de;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap();
    let (status, page) = body(german).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"<html lang="de">"#), "{page}");
    assert!(page.contains("Passwort vergessen?"));

    let (_, page) = body(app.http.get(app.url("/admin/login")).send().await.unwrap()).await;
    assert!(page.contains(r#"<html lang="en">"#));
    assert!(page.contains("Forgot your password?"));
}
