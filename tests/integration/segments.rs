//! Segments: a saved filter's count is whom its campaign mails; a bad filter is a 422 naming
//! the part and saves nothing; and the database's answer equals the plain evaluation of the
//! same filter on random people and random filters (SQLite, and PostgreSQL in CI's second run).

use std::collections::BTreeSet;

use bulletin::domain::{
    Attributes, CampaignId, Filter, ListId, Locale, PersonFacts, SubscriberId,
    segment::{AttributeTest, Bound, Scalar},
};
use chrono::{DateTime, Duration, Utc};
use proptest::{
    prelude::*,
    strategy::ValueTree,
    test_runner::{Config, TestRunner},
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestApp;

const CONSENT: &str = "2025-05-01T08:30:00Z,shop,Yes please";

/// Imports `emails` (with their languages) into `list` through the API.
async fn import(app: &TestApp, list: &str, people: &[(String, Locale)]) {
    let mut csv = String::from("email,locale,consent_at,consent_source,consent_text\n");
    for (email, locale) in people {
        csv.push_str(&format!("{email},{},{CONSENT}\n", locale.as_str()));
    }
    let response = app
        .api_post_csv(&format!("/api/v1/subscribers/import?list={list}"), csv)
        .await;
    let status = response.status();
    let report: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        report["imported"].as_u64().unwrap() as usize,
        people.len(),
        "{report}"
    );
}

async fn set_attributes(app: &TestApp, email: &str, attributes: &Value) -> String {
    let id = app.subscriber(email).await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .api_send(
            Method::PATCH,
            &format!("/api/v1/subscribers/{id}"),
            Some(&json!({ "attributes": attributes })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    id
}

async fn create_segment(app: &TestApp, name: &str, filter: Value) -> reqwest::Response {
    app.api_post("/api/v1/segments", &json!({"name": name, "filter": filter}))
        .await
}

async fn count_of(app: &TestApp, segment: &str) -> u64 {
    let response = app
        .api_get(&format!("/api/v1/segments/{segment}/count"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json::<Value>().await.unwrap()["total"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn a_segments_count_is_whom_its_campaign_mails() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.create_list("other").await;
    let people: Vec<(String, Locale)> = (0..12)
        .map(|i| {
            let locale = if i % 3 == 0 { Locale::De } else { Locale::En };
            (format!("p{i:02}@example.com"), locale)
        })
        .collect();
    import(&app, "weekly", &people).await;
    import(&app, "other", &people[8..]).await;
    for (i, (email, _)) in people.iter().enumerate() {
        let plan = ["free", "pro", "team"][i % 3];
        set_attributes(&app, email, &json!({"plan": plan, "seats": i})).await;
    }

    // Pro or team with more than 3 seats, on weekly, not German.
    let filter = json!({"all": [
        {"list": "weekly"},
        {"any": [
            {"attribute": "plan", "op": "eq", "value": "pro"},
            {"attribute": "plan", "op": "eq", "value": "team"}
        ]},
        {"attribute": "seats", "op": "gt", "value": 3},
        {"not": {"locale": "de"}}
    ]});
    let created = create_segment(&app, "Paying, not German", filter).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let segment: Value = created.json().await.unwrap();
    let id = segment["id"].as_str().unwrap().to_owned();
    assert_eq!(segment["filter"]["all"][0], json!({"list": "weekly"}));
    // i in 4..12 with plan pro/team (i % 3 != 0) and not German (i % 3 != 0): 4,5,7,8,10,11.
    let expected: BTreeSet<String> = [4, 5, 7, 8, 10, 11]
        .map(|i| format!("p{i:02}@example.com"))
        .into();
    assert_eq!(count_of(&app, &id).await, expected.len() as u64);

    let campaign = app
        .start_campaign_with(json!({
            "name": "Upsell", "subject": "For you", "body_markdown": "Hello",
            "lists": ["weekly", "other"], "segment": id
        }))
        .await;
    let audience: Value = app
        .api_get(&format!("/api/v1/campaigns/{campaign}/audience"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audience["total"], expected.len() as u64, "{audience}");
    let mailed: BTreeSet<String> = app
        .deliver_and_take()
        .await
        .iter()
        .flat_map(|m| m.rcpt_to.clone())
        .collect();
    assert_eq!(mailed, expected);
    app.run_job("campaigns").await;

    // Received, and not received: the people the campaign reached, and the rest of weekly.
    let received = create_segment(&app, "Got the upsell", json!({"received": campaign})).await;
    let received: Value = received.json().await.unwrap();
    assert_eq!(
        count_of(&app, received["id"].as_str().unwrap()).await,
        expected.len() as u64
    );
    let rest = json!({"all": [{"list": "weekly"}, {"not": {"received": campaign}}]});
    let counted: Value = app
        .api_post("/api/v1/segments/count", &json!({ "filter": rest }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(counted["total"], (people.len() - expected.len()) as u64);

    // An unsent campaign holds its segment; once it is gone the segment can go.
    let draft = app
        .api_post(
            "/api/v1/campaigns",
            &json!({"name": "Later", "subject": "S", "body_markdown": "B", "lists": ["weekly"], "segment": id}),
        )
        .await;
    assert_eq!(draft.status(), StatusCode::CREATED);
    let draft = draft.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = app
        .api_send(Method::DELETE, &format!("/api/v1/segments/{id}"), None)
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let cleared = app
        .api_send(
            Method::PATCH,
            &format!("/api/v1/campaigns/{draft}"),
            Some(&json!({"segment": null})),
        )
        .await;
    assert_eq!(cleared.status(), StatusCode::OK);
    assert_eq!(
        cleared.json::<Value>().await.unwrap()["segment"],
        Value::Null
    );
    let deleted = app
        .api_send(Method::DELETE, &format!("/api/v1/segments/{id}"), None)
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert!(app.audit_text().await.contains("segment.delete"));
}

#[tokio::test]
async fn a_bad_filter_is_422_naming_the_part_and_saves_nothing() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let cases = [
        (
            json!({"all": [{"list": "weekly"}, {"list": "nope"}]}),
            "filter.all[1].list",
        ),
        (
            json!({"any": [{"attribute": "plan", "op": "like", "value": "x"}]}),
            "filter.any[0].op",
        ),
        (
            json!({"not": {"attribute": "seats", "op": "gt", "value": "many"}}),
            "filter.not.value",
        ),
        (
            json!({"received": "0192e4c4-7d2a-7000-8000-000000000000"}),
            "filter.received",
        ),
        (json!({"all": []}), "filter.all"),
        (json!({"locale": "xx"}), "filter.locale"),
        (json!("plan = 'pro'"), "filter"),
    ];
    for (filter, path) in cases {
        let response = create_segment(&app, "Bad", filter.clone()).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{filter}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_filter", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("{path}:")),
            "{filter}: {message}"
        );
    }
    let unnamed = create_segment(&app, "  ", json!({"list": "weekly"})).await;
    assert_eq!(unnamed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let listed: Value = app.api_get("/api/v1/segments").await.json().await.unwrap();
    assert_eq!(listed["segments"], json!([]));

    // A good one, then a clash of names and a refused change, which leaves it as it was.
    let good = create_segment(&app, "Weekly", json!({"list": "weekly"})).await;
    assert_eq!(good.status(), StatusCode::CREATED);
    let id = good.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let clash = create_segment(&app, "Weekly", json!({"locale": "de"})).await;
    assert_eq!(clash.status(), StatusCode::CONFLICT);
    let refused = app
        .api_send(
            Method::PATCH,
            &format!("/api/v1/segments/{id}"),
            Some(&json!({"name": "Renamed", "filter": {"list": 7}})),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let kept: Value = app
        .api_get(&format!("/api/v1/segments/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kept["name"], "Weekly");
    assert_eq!(kept["filter"], json!({"list": "weekly"}));
    let campaign = app
        .api_post(
            "/api/v1/campaigns",
            &json!({"name": "N", "subject": "S", "body_markdown": "B", "lists": ["weekly"],
                    "segment": "0192e4c4-7d2a-7000-8000-000000000000"}),
        )
        .await;
    assert_eq!(campaign.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = campaign.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unknown_segment");
}

/// One generated person: language, attributes, and the batch (day) of each list joined.
#[derive(Debug, Clone)]
struct Person {
    locale: Locale,
    attributes: Value,
    /// (list index, batch) of each confirmed subscription.
    lists: Vec<(usize, usize)>,
    suppressed: bool,
}

const KEYS: [&str; 5] = ["plan", "seats", "trial", "renews", "missing"];
const PLANS: [&str; 4] = ["free", "pro", "team", "Pro"];
const DATES: [&str; 4] = ["2026-01-31", "2026-06-30", "2027-01-01", "2026-13-99"];
const BATCHES: usize = 3;

fn attribute_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(PLANS.to_vec()).prop_map(|p| json!(p)),
        (0i64..6).prop_map(|n| json!(n)),
        Just(json!(2.5)),
        any::<bool>().prop_map(|b| json!(b)),
        prop::sample::select(DATES.to_vec()).prop_map(|d| json!(d)),
        Just(json!("4")),
    ]
}

fn person() -> impl Strategy<Value = Person> {
    (
        prop::sample::select(vec![Locale::En, Locale::De]),
        prop::collection::btree_map(
            prop::sample::select(KEYS[..4].to_vec()),
            attribute_value(),
            0..4,
        ),
        prop::collection::btree_map(0usize..2, 0usize..BATCHES, 1..=2),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(locale, attributes, lists, suppressed)| Person {
            locale,
            attributes: json!(attributes),
            lists: lists.into_iter().collect(),
            suppressed,
        })
}

fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        prop::sample::select(PLANS.to_vec()).prop_map(|p| Scalar::Text(p.to_owned())),
        Just(Scalar::Text("4".into())),
        (0i64..6).prop_map(|n| Scalar::Number(n as f64)),
        Just(Scalar::Number(2.5)),
        any::<bool>().prop_map(Scalar::Bool),
    ]
}

fn bound() -> impl Strategy<Value = Bound> {
    prop_oneof![
        (-1i64..7).prop_map(|n| Bound::Number(n as f64 + 0.5)),
        (0i64..6).prop_map(|n| Bound::Number(n as f64)),
        prop::sample::select(DATES[..3].to_vec()).prop_map(|d| Bound::Date(d.to_owned())),
    ]
}

fn attribute_test() -> impl Strategy<Value = AttributeTest> {
    prop_oneof![
        Just(AttributeTest::Exists),
        scalar().prop_map(AttributeTest::Eq),
        scalar().prop_map(AttributeTest::Ne),
        prop::sample::select(vec!["r", "o", "Pro", "4", "-0"])
            .prop_map(|t| AttributeTest::Contains(t.to_owned())),
        bound().prop_map(AttributeTest::Gt),
        bound().prop_map(AttributeTest::Lt),
    ]
}

/// Random filters over the generated world's keys, lists, moments and campaigns.
fn filter(
    lists: [ListId; 2],
    moments: Vec<DateTime<Utc>>,
    campaigns: [CampaignId; 2],
) -> impl Strategy<Value = Filter> {
    let list = prop::sample::select(lists.to_vec());
    let when = prop::sample::select(moments);
    let leaf = prop_oneof![
        (prop::sample::select(KEYS.to_vec()), attribute_test()).prop_map(|(key, test)| {
            Filter::Attribute {
                key: key.to_owned(),
                test,
            }
        }),
        prop::sample::select(vec![Locale::En, Locale::De]).prop_map(Filter::Locale),
        list.clone().prop_map(Filter::List),
        (when.clone(), prop::option::of(list.clone()))
            .prop_map(|(at, list)| Filter::SubscribedBefore { at, list }),
        (when, prop::option::of(list)).prop_map(|(at, list)| Filter::SubscribedAfter { at, list }),
        prop::sample::select(campaigns.to_vec()).prop_map(Filter::Received),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(Filter::All),
            prop::collection::vec(inner.clone(), 1..4).prop_map(Filter::Any),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

#[test]
fn the_database_agrees_with_the_plain_evaluation_on_random_people_and_filters() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 300,
        failure_persistence: None,
        ..Config::default()
    });
    let people: Vec<Person> = prop::collection::vec(person(), 60)
        .new_tree(&mut runner)
        .unwrap()
        .current();

    let app = rt.block_on(TestApp::spawn());
    let world = rt.block_on(build_world(&app, &people));
    let strategy = filter(world.lists, world.moments.clone(), world.campaigns);
    let db = &app.app.context().db;
    let checked_by_api = std::cell::Cell::new(0);
    let sizes = std::cell::RefCell::new(Vec::new());
    runner
        .run(&strategy, |filter| {
            let expected: BTreeSet<SubscriberId> = world
                .facts
                .iter()
                .filter(|(_, facts, mailable)| *mailable && filter.matches(facts))
                .map(|(id, _, _)| *id)
                .collect();
            let found: BTreeSet<SubscriberId> = rt
                .block_on(bulletin::store::segments::members(db, &filter, None, 1000))
                .unwrap()
                .into_iter()
                .collect();
            prop_assert_eq!(&found, &expected, "{:?}", filter);
            sizes.borrow_mut().push(expected.len());
            let count = rt
                .block_on(bulletin::store::segments::count(db, &filter))
                .unwrap();
            prop_assert_eq!(count as usize, expected.len());
            // The API reads the same filter back from its JSON (lists by id).
            if checked_by_api.get() < 40 {
                checked_by_api.set(checked_by_api.get() + 1);
                let json = filter.to_json(&|l| Value::String(l.to_string()));
                let answer: Value = rt
                    .block_on(async {
                        app.api_post("/api/v1/segments/count", &json!({ "filter": json }))
                            .await
                            .json()
                            .await
                    })
                    .unwrap();
                prop_assert_eq!(answer["total"].as_u64(), Some(expected.len() as u64));
            }
            Ok(())
        })
        .unwrap();
    // The random filters are not all trivial: some select nobody, some many.
    let sizes = sizes.into_inner();
    assert!(
        sizes.contains(&0) && sizes.iter().any(|n| *n > 10),
        "{sizes:?}"
    );
    rt.block_on(async move { drop(app) });
}

/// The generated people in the server, and what the plain evaluation knows of them.
struct World {
    lists: [ListId; 2],
    moments: Vec<DateTime<Utc>>,
    campaigns: [CampaignId; 2],
    /// Each person's id, facts, and whether they may be mailed.
    facts: Vec<(SubscriberId, PersonFacts, bool)>,
}

async fn build_world(app: &TestApp, people: &[Person]) -> World {
    let slugs = ["alpha", "beta"];
    let mut lists = Vec::new();
    for slug in slugs {
        let list = app.create_list(slug).await;
        let id = uuid::Uuid::parse_str(list["id"].as_str().unwrap()).unwrap();
        lists.push(ListId::from_uuid(id));
    }
    let lists = [lists[0], lists[1]];
    let email = |i: usize| format!("person{i:03}@example.com");
    // Each batch joins a day after the one before; the filters test moments around them.
    let mut batch_times = Vec::new();
    for batch in 0..BATCHES {
        batch_times.push(app.clock.now());
        for (l, slug) in slugs.iter().enumerate() {
            let joining: Vec<(String, Locale)> = people
                .iter()
                .enumerate()
                .filter(|(_, p)| p.lists.contains(&(l, batch)))
                .map(|(i, p)| (email(i), p.locale))
                .collect();
            if !joining.is_empty() {
                import(app, slug, &joining).await;
            }
        }
        app.advance(Duration::days(1));
    }
    let mut facts = Vec::new();
    for (i, p) in people.iter().enumerate() {
        let id = set_attributes(app, &email(i), &p.attributes).await;
        if p.suppressed {
            let response = app
                .api_post(
                    "/api/v1/suppressions",
                    &json!({"email": email(i), "reason": "manual"}),
                )
                .await;
            assert_eq!(response.status(), StatusCode::CREATED);
        }
        let person = PersonFacts {
            attributes: Attributes::from_json(&p.attributes).unwrap(),
            locale: p.locale,
            confirmed: p
                .lists
                .iter()
                .map(|(l, batch)| (lists[*l], Some(batch_times[*batch])))
                .collect(),
            received: Vec::new(),
        };
        let id = SubscriberId::from_uuid(uuid::Uuid::parse_str(&id).unwrap());
        facts.push((id, person, !p.suppressed));
    }
    // One campaign sent to beta (its mailable members received it), one never sent.
    let sent = app.start_campaign("beta").await;
    app.deliver_all().await;
    let sent = CampaignId::from_uuid(uuid::Uuid::parse_str(&sent).unwrap());
    for (_, person, mailable) in &mut facts {
        if *mailable && person.confirmed.iter().any(|(l, _)| *l == lists[1]) {
            person.received.push(sent);
        }
    }
    let draft = app
        .api_post(
            "/api/v1/campaigns",
            &json!({"name": "Never", "subject": "S", "body_markdown": "B", "lists": ["alpha"]}),
        )
        .await;
    let draft = draft.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let draft = CampaignId::from_uuid(uuid::Uuid::parse_str(&draft).unwrap());
    let mut moments = batch_times.clone();
    moments.extend(batch_times.iter().map(|t| *t + Duration::hours(1)));
    moments.push(batch_times[0] - Duration::days(1));
    World {
        lists,
        moments,
        campaigns: [sent, draft],
        facts,
    }
}
