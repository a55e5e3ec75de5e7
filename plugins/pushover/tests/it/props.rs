//! Property tests: no event produces a form over Pushover's limits, or a
//! panic.

use herald_core::{Body, Message};
use proptest::prelude::*;
use serde_json::json;

use crate::server::{TOKEN, USER};
use crate::{build, fixtures};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn forms_stay_within_limits(
        title in any::<String>(),
        user in any::<String>(),
        item in any::<String>(),
        overview in proptest::collection::vec(any::<char>(), 0..3000),
        html in any::<bool>(),
        kind in 0usize..10,
    ) {
        let plugin = build(json!({"token": TOKEN, "user": USER, "html": html,
                                  "url": "https://x.example/{media_item_id}/{title}",
                                  "url_title": "Open"})).unwrap();
        let kind = herald_core::KnownKind::ALL[kind];
        let mut data = fixtures::base_data(kind);
        data.insert("title".into(), json!(title));
        data.insert("user_name".into(), json!(user));
        data.insert("media_item_id".into(), json!(item));
        data.insert("overview".into(), json!(overview.into_iter().collect::<String>()));
        let event = fixtures::event(kind.as_str(), data);
        let Message::Http(request) = plugin.format(&event).unwrap() else { panic!() };
        let Body::Form(fields) = request.body else { panic!() };
        let get = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.chars().count());
        prop_assert!((1..=1024).contains(&get("message").unwrap()));
        prop_assert!(get("title").unwrap() <= 250);
        prop_assert!(get("url").unwrap_or(0) <= 512);
        prop_assert!(get("url_title").unwrap_or(0) <= 100);
    }
}
