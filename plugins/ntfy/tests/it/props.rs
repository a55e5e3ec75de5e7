//! Property tests: no event produces a request over ntfy's limits, or a
//! panic.

use herald_core::{Body, Message};
use proptest::prelude::*;
use serde_json::json;

use crate::{build, fixtures};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn requests_stay_within_limits(
        title in any::<String>(),
        user in any::<String>(),
        overview in proptest::collection::vec(any::<char>(), 0..6000),
        markdown in any::<bool>(),
        kind in 0usize..10,
    ) {
        let plugin = build(json!({"topic": "t", "markdown": markdown})).unwrap();
        let kind = herald_core::KnownKind::ALL[kind];
        let mut data = fixtures::base_data(kind);
        data.insert("title".into(), json!(title));
        data.insert("user_name".into(), json!(user));
        data.insert("overview".into(), json!(overview.into_iter().collect::<String>()));
        let event = fixtures::event(kind.as_str(), data);
        let Message::Http(request) = plugin.format(&event).unwrap() else { panic!() };
        let Body::Json(body) = request.body else { panic!() };
        let message = body["message"].as_str().unwrap();
        prop_assert!(message.len() <= herald_ntfy::payload::MAX_MESSAGE_BYTES);
        prop_assert!(!message.is_empty());
        prop_assert!(body["title"].as_str().unwrap().chars().count() <= herald_ntfy::payload::MAX_TITLE_CHARS);
        let priority = body["priority"].as_u64().unwrap();
        prop_assert!((1..=5).contains(&priority));
    }
}
