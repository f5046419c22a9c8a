//! Migrations go up, down and up again on the test backend.

use bulletin::{domain::Role, services};
use migrations::{Migrator, MigratorTrait};

use crate::support::TestApp;

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let mut app = TestApp::spawn().await;
    let db = &app.app.context().db.clone();
    Migrator::down(db, None).await.unwrap();
    assert!(
        Migrator::get_applied_migrations(db)
            .await
            .unwrap()
            .is_empty()
    );
    Migrator::up(db, None).await.unwrap();
    assert_eq!(
        Migrator::get_applied_migrations(db).await.unwrap().len(),
        Migrator::migrations().len()
    );
    let cli = bulletin::domain::Actor::Cli;
    app.token = services::api_tokens::issue(app.app.context(), &cli, "again", Role::Admin, None)
        .await
        .unwrap()
        .1;
    app.create_list("weekly").await;
    assert_eq!(
        app.sign_up("jane@example.com", "weekly").await.status(),
        reqwest::StatusCode::OK
    );
}
