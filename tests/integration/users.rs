//! An admin changes users' roles and disables and enables them, by API and admin UI: the
//! change takes effect at once for sessions and tokens, and the last active admin stays.

use bulletin::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    admin::{Admin, PASSWORD, create_user, post_login},
    api::{api_error, call},
    support::{TestApp, body},
};

/// The id of the user with this address, from `GET /api/v1/users`.
async fn user_id(app: &TestApp, email: &str) -> String {
    let users: Value = app.api_get("/api/v1/users").await.json().await.unwrap();
    users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no user {email} in {users}"))
}

async fn token_for(app: &TestApp, user: &str, role: &str) -> String {
    let r = app
        .api_post(
            "/api/v1/tokens",
            &json!({"name": format!("{role} of {user}"), "role": role, "user_id": user}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let made: Value = r.json().await.unwrap();
    made["secret"].as_str().unwrap().to_owned()
}

async fn create_list_with(app: &TestApp, token: &str, slug: &str) -> StatusCode {
    let list = json!({
        "slug": slug, "name": slug, "kind": "newsletter",
        "legal_basis": "consent", "opt_in": "double"
    });
    call(app, token, Method::POST, "/api/v1/lists", &list)
        .await
        .status()
}

#[tokio::test]
async fn a_role_change_and_disabling_take_effect_at_once_for_sessions_and_tokens() {
    let app = TestApp::spawn().await;
    let email = "mia@staff.example.com";
    create_user(&app, email, Role::Marketer).await;
    let mia = user_id(&app, email).await;
    let token = token_for(&app, &mia, "marketer").await;
    let session = Admin::log_in(&app, email).await;
    assert_eq!(
        create_list_with(&app, &token, "spring").await,
        StatusCode::CREATED
    );

    let r = app
        .api_post(
            &format!("/api/v1/users/{mia}/role"),
            &json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let changed: Value = r.json().await.unwrap();
    assert_eq!(
        (changed["role"].as_str(), changed["disabled_at"].as_str()),
        (Some("viewer"), None)
    );
    assert_eq!(
        create_list_with(&app, &token, "summer").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&app, &token, Method::GET, "/api/v1/lists", &Value::Null)
            .await
            .status(),
        StatusCode::OK,
        "a viewer's token still reads"
    );
    let r = session
        .post(
            "/admin/lists",
            &[
                ("slug", "autumn"),
                ("name", "Autumn"),
                ("kind", "newsletter"),
                ("legal_basis", "consent"),
                ("opt_in", "double"),
                ("visibility", "public"),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "the open session is a viewer's now"
    );

    let r = app
        .api_post(&format!("/api/v1/users/{mia}/disable"), &Value::Null)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let disabled: Value = r.json().await.unwrap();
    assert!(disabled["disabled_at"].is_string(), "{disabled}");
    assert_eq!(
        session.get("/admin/").await.status(),
        StatusCode::SEE_OTHER,
        "the session ended"
    );
    let r = call(&app, &token, Method::GET, "/api/v1/lists", &Value::Null).await;
    api_error(r, StatusCode::UNAUTHORIZED).await;
    let (status, page) = body(post_login(&app, email, PASSWORD).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        page.contains("Wrong e-mail address or password."),
        "a disabled user gets the answer of a wrong password"
    );
    let r = app
        .api_post(
            "/api/v1/tokens",
            &json!({"name": "new", "role": "viewer", "user_id": mia}),
        )
        .await;
    api_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;

    let r = app
        .api_post(&format!("/api/v1/users/{mia}/enable"), &Value::Null)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        call(&app, &token, Method::GET, "/api/v1/lists", &Value::Null)
            .await
            .status(),
        StatusCode::OK,
        "the token works again"
    );
    assert_eq!(
        post_login(&app, email, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let audit: Value = app.api_get("/api/v1/audit").await.json().await.unwrap();
    for (action, detail) in [
        ("user.role", "mia@staff.example.com as viewer"),
        ("user.disable", "mia@staff.example.com as viewer, disabled"),
        ("user.enable", "mia@staff.example.com as viewer"),
    ] {
        let entry = audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("{action} audited: {audit}"));
        assert_eq!(
            (entry["target"].as_str(), entry["detail"].as_str()),
            (Some(mia.as_str()), Some(detail))
        );
        assert_eq!(entry["actor"], "api:tests");
    }
}

#[tokio::test]
async fn a_token_never_does_more_than_its_owners_role() {
    let app = TestApp::spawn().await;
    create_user(&app, "vic@staff.example.com", Role::Viewer).await;
    create_user(&app, "ann@staff.example.com", Role::Admin).await;
    create_user(&app, "bob@staff.example.com", Role::Admin).await;
    let vic = user_id(&app, "vic@staff.example.com").await;
    let ann = user_id(&app, "ann@staff.example.com").await;
    let r = app
        .api_post(
            "/api/v1/tokens",
            &json!({"name": "too much", "role": "marketer", "user_id": vic}),
        )
        .await;
    let error = api_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        error["message"].as_str().unwrap().starts_with("role:"),
        "{error}"
    );

    let token = token_for(&app, &ann, "admin").await;
    assert_eq!(
        call(&app, &token, Method::GET, "/api/v1/users", &Value::Null)
            .await
            .status(),
        StatusCode::OK
    );
    let r = app
        .api_post(
            &format!("/api/v1/users/{ann}/role"),
            &json!({"role": "marketer"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = call(&app, &token, Method::GET, "/api/v1/users", &Value::Null).await;
    api_error(r, StatusCode::FORBIDDEN).await;
    assert_eq!(
        create_list_with(&app, &token, "capped").await,
        StatusCode::CREATED
    );
    let listed: Value = app.api_get("/api/v1/tokens").await.json().await.unwrap();
    let shown = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["user_id"] == ann.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (shown["role"].as_str(), shown["effective_role"].as_str()),
        (Some("admin"), Some("marketer"))
    );
}

#[tokio::test]
async fn a_users_token_makes_tokens_of_that_user_which_stop_when_the_user_is_disabled() {
    let app = TestApp::spawn().await;
    create_user(&app, "ann@staff.example.com", Role::Admin).await;
    create_user(&app, "bob@staff.example.com", Role::Admin).await;
    let ann = user_id(&app, "ann@staff.example.com").await;
    let anns = token_for(&app, &ann, "admin").await;
    let side_door = json!({"name": "side door", "role": "admin"});
    let r = call(&app, &anns, Method::POST, "/api/v1/tokens", &side_door).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let minted: Value = r.json().await.unwrap();
    let minted_secret = minted["secret"].as_str().unwrap();
    let audit: Value = app.api_get("/api/v1/audit").await.json().await.unwrap();
    let entry = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "token.create" && e["target"] == minted["id"])
        .unwrap_or_else(|| panic!("the new token is audited by id: {audit}"))
        .clone();
    assert_eq!(
        entry["detail"],
        format!("\"side door\" as admin, of user {ann}")
    );

    let r = app
        .api_post(&format!("/api/v1/users/{ann}/disable"), &Value::Null)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    for secret in [anns.as_str(), minted_secret] {
        let r = call(&app, secret, Method::GET, "/api/v1/lists", &Value::Null).await;
        api_error(r, StatusCode::UNAUTHORIZED).await;
    }
    let listed: Value = app.api_get("/api/v1/tokens").await.json().await.unwrap();
    let of_ann: Vec<&Value> = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["user_id"] == ann.as_str())
        .collect();
    assert_eq!(of_ann.len(), 2, "{listed}");
    assert!(
        of_ann.iter().all(|t| t["effective_role"].is_null()),
        "{listed}"
    );
}

#[tokio::test]
async fn an_admin_disabled_meanwhile_can_no_longer_change_users() {
    use bulletin::{
        domain::UserId,
        services::users::{self, AccessChange, UsersError},
    };
    let app = TestApp::spawn().await;
    create_user(&app, "ann@staff.example.com", Role::Admin).await;
    create_user(&app, "bob@staff.example.com", Role::Admin).await;
    let ann = user_id(&app, "ann@staff.example.com").await;
    let bob = user_id(&app, "bob@staff.example.com").await;
    let r = app
        .api_post(&format!("/api/v1/users/{bob}/disable"), &Value::Null)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // Bob's requests were authorised before he was disabled and reach the service after.
    let bob_id = UserId::from_uuid(bob.parse().unwrap());
    let ann_id = UserId::from_uuid(ann.parse().unwrap());
    let enable_himself = AccessChange {
        role: None,
        disabled: Some(false),
    };
    let demote_ann = AccessChange {
        role: Some(Role::Viewer),
        disabled: None,
    };
    let bob_acts = bulletin::domain::Actor::User {
        id: bob_id,
        email: bulletin::domain::EmailAddress::parse("bob@staff.example.com").unwrap(),
        role: Role::Admin,
    };
    for (target, change) in [(bob_id, enable_himself), (ann_id, demote_ann)] {
        let outcome = users::change_access(app.app.context(), &bob_acts, target, change).await;
        assert!(
            matches!(outcome, Err(UsersError::NotAllowed)),
            "{outcome:?}"
        );
    }
    let users: Value = app.api_get("/api/v1/users").await.json().await.unwrap();
    assert_eq!(users["users"][0]["role"], "admin", "{users}");
    assert!(users["users"][1]["disabled_at"].is_string(), "{users}");
}

#[tokio::test]
async fn the_last_active_admin_can_be_neither_demoted_nor_disabled() {
    let app = TestApp::spawn().await;
    create_user(&app, "ann@staff.example.com", Role::Admin).await;
    let ann = user_id(&app, "ann@staff.example.com").await;
    for (path, request) in [
        ("role", json!({"role": "marketer"})),
        ("disable", Value::Null),
    ] {
        let r = app
            .api_post(&format!("/api/v1/users/{ann}/{path}"), &request)
            .await;
        assert_eq!(
            api_error(r, StatusCode::CONFLICT).await["code"],
            "last_admin"
        );
    }
    let users: Value = app.api_get("/api/v1/users").await.json().await.unwrap();
    assert_eq!(
        users["users"][0]["role"], "admin",
        "nothing changed: {users}"
    );
    assert_eq!(users["users"][0]["disabled_at"], Value::Null);

    let r = app
        .api_post(
            &format!("/api/v1/users/{ann}/role"),
            &json!({"role": "root"}),
        )
        .await;
    api_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let unknown = "00000000-0000-7000-8000-000000000000";
    let r = app
        .api_post(&format!("/api/v1/users/{unknown}/disable"), &Value::Null)
        .await;
    api_error(r, StatusCode::NOT_FOUND).await;
    let r = app
        .api_post("/api/v1/users/not-an-id/disable", &Value::Null)
        .await;
    assert!(r.status().is_client_error(), "{}", r.status());

    create_user(&app, "bob@staff.example.com", Role::Admin).await;
    let bob = user_id(&app, "bob@staff.example.com").await;
    let r = app
        .api_post(&format!("/api/v1/users/{ann}/disable"), &Value::Null)
        .await;
    assert_eq!(r.status(), StatusCode::OK, "another admin is left");
    let r = app
        .api_post(
            &format!("/api/v1/users/{bob}/role"),
            &json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(
        api_error(r, StatusCode::CONFLICT).await["code"],
        "last_admin"
    );
    let r = app
        .api_post(
            &format!("/api/v1/users/{bob}/role"),
            &json!({"role": "admin"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "keeping the role is no change");
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    let app = TestApp::spawn().await;
    create_user(&app, "ann@staff.example.com", Role::Admin).await;
    create_user(&app, "bob@staff.example.com", Role::Admin).await;
    let ann = user_id(&app, "ann@staff.example.com").await;
    let bob = user_id(&app, "bob@staff.example.com").await;
    let viewer = json!({"role": "viewer"});
    let (demote, disable) = (
        format!("/api/v1/users/{ann}/role"),
        format!("/api/v1/users/{bob}/disable"),
    );
    let (first, second) = tokio::join!(
        app.api_post(&demote, &viewer),
        app.api_post(&disable, &Value::Null),
    );
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let users: Value = app.api_get("/api/v1/users").await.json().await.unwrap();
    let active_admins = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["role"] == "admin" && u["disabled_at"].is_null())
        .count();
    assert_eq!(active_admins, 1, "{users}");
}

#[tokio::test]
async fn an_admin_changes_roles_and_disables_users_on_the_users_page() {
    let app = TestApp::spawn().await;
    let admin = Admin::with_role(&app, Role::Admin).await;
    create_user(&app, "mia@staff.example.com", Role::Marketer).await;
    let mia = user_id(&app, "mia@staff.example.com").await;
    let me = user_id(&app, "admin@staff.example.com").await;
    let (status, page) = body(admin.get("/admin/users").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("/admin/users/{mia}/role")), "{page}");
    assert!(page.contains(&format!("/admin/users/{mia}/disable")));

    let r = admin
        .post(&format!("/admin/users/{mia}/role"), &[("role", "viewer")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = admin
        .post(&format!("/admin/users/{mia}/disable"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = body(admin.get("/admin/users").await).await;
    assert!(page.contains("disabled since"), "{page}");
    assert!(page.contains(&format!("/admin/users/{mia}/enable")));

    let (status, page) = body(admin.post(&format!("/admin/users/{me}/disable"), &[]).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("last active admin"), "{page}");
    let (status, page) = body(
        admin
            .post(&format!("/admin/users/{mia}/role"), &[("role", "root")])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("is not a role"), "{page}");
    let r = admin
        .post_raw(&format!("/admin/users/{mia}/enable"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "no CSRF token");
    let users: Value = app.api_get("/api/v1/users").await.json().await.unwrap();
    let row = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == mia.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["role"], "viewer");
    assert!(row["disabled_at"].is_string(), "still disabled: {row}");

    let (_, audit) = body(admin.get("/admin/audit").await).await;
    assert!(
        audit.contains("user.role") && audit.contains("user.disable"),
        "{audit}"
    );

    let marketer = Admin::with_role(&app, Role::Marketer).await;
    let r = marketer
        .post(&format!("/admin/users/{mia}/enable"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// Runs `bulletin ARGS` against the test's database; returns (success, stdout, stderr).
async fn cli(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_bulletin"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("BULLETIN") {
            command.env_remove(key);
        }
    }
    let out = command
        .args(args)
        .env("BULLETIN__DATABASE__URL", &app.database_url)
        .env("BULLETIN__DATA__DIR", dir.path().join("data"))
        .env("RUST_LIB_BACKTRACE", "0")
        .current_dir(dir.path())
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn bulletin_user_set_changes_a_role_and_disables_but_keeps_the_last_admin() {
    let app = TestApp::spawn().await;
    create_user(&app, "ann@staff.example.com", Role::Admin).await;
    create_user(&app, "mia@staff.example.com", Role::Marketer).await;
    let mia = "mia@staff.example.com";
    let (ok, out, err) = cli(
        &app,
        &[
            "user",
            "set",
            "--email",
            mia,
            "--role",
            "viewer",
            "--disable",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("mia@staff.example.com as viewer, disabled"),
        "{out}"
    );
    assert_eq!(
        post_login(&app, mia, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (ok, _, err) = cli(&app, &["user", "set", "--email", mia, "--enable"]).await;
    assert!(ok, "{err}");
    assert_eq!(
        post_login(&app, mia, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );

    let ann = "ann@staff.example.com";
    let (ok, _, err) = cli(&app, &["user", "set", "--email", ann, "--disable"]).await;
    assert!(!ok && err.contains("last active admin"), "{err}");
    let (ok, _, err) = cli(
        &app,
        &["user", "set", "--email", "nobody@example.com", "--enable"],
    )
    .await;
    assert!(!ok && err.contains("no such user"), "{err}");
    let (ok, _, err) = cli(&app, &["user", "set", "--email", mia]).await;
    assert!(
        !ok && err.contains("--role, --disable, --enable or --remove-two-factor"),
        "{err}"
    );
    let (ok, _, _) = cli(
        &app,
        &["user", "set", "--email", mia, "--disable", "--enable"],
    )
    .await;
    assert!(!ok, "--disable and --enable exclude each other");

    let audit: Value = app.api_get("/api/v1/audit").await.json().await.unwrap();
    // Newest first; older `cli` entries are the harness's own token and users.
    let by_cli: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "cli")
        .map(|e| e["action"].as_str().unwrap())
        .take(3)
        .collect();
    assert_eq!(
        by_cli,
        ["user.enable", "user.disable", "user.role"],
        "{audit}"
    );
}
