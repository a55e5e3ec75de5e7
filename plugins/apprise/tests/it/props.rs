//! Property tests: no event produces a request over Herald's caps, or a
//! panic.

use herald_core::{Body, Message};
use proptest::prelude::*;
use serde_json::json;

use crate::{build, fixtures};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn requests_stay_within_caps(
        title in any::<String>(),
        user in any::<String>(),
        overview in proptest::collection::vec(any::<char>(), 0..3000),
        format in 0usize..3,
        kind in 0usize..10,
    ) {
        let format = ["text", "markdown", "html"][format];
        let plugin = build(json!({"server": "http://a", "key": "k", "format": format})).unwrap();
        let kind = herald_core::KnownKind::ALL[kind];
        let mut data = fixtures::base_data(kind);
        data.insert("title".into(), json!(title.repeat(20)));
        data.insert("user_name".into(), json!(user));
        data.insert("overview".into(), json!(overview.into_iter().collect::<String>()));
        let event = fixtures::event(kind.as_str(), data);
        let Message::Http(request) = plugin.format(&event).unwrap() else { panic!() };
        let Body::Json(body) = request.body else { panic!() };
        let text = body["body"].as_str().unwrap();
        prop_assert!(!text.is_empty());
        prop_assert!(text.len() <= herald_apprise::payload::MAX_BODY_BYTES);
        prop_assert!(body["title"].as_str().unwrap().chars().count() <= herald_apprise::payload::MAX_TITLE_CHARS);
        prop_assert_eq!(body["format"].as_str().unwrap(), format);
    }
}
