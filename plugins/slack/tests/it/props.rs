//! No event, whatever its strings, makes a request Slack would refuse.

use herald_core::testing::props::arb_event;
use herald_core::{Body, Message, NotificationPlugin};
use herald_slack::Slack;
use proptest::prelude::*;
use serde_json::json;

use crate::service::check_body;
use crate::support::config;

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_request_is_within_slack_limits(event in arb_event(), blocks in any::<bool>()) {
        let plugin = Slack::new(&config(json!({
            "webhook_url": "https://hooks.slack.com/services/T/B/X", "blocks": blocks,
            "templates": {"webhook.test": "{{message}} {{overview}} {{title}}"},
        }))).unwrap();
        let Message::Http(request) = plugin.format(&event).unwrap() else { panic!("not HTTP") };
        let Body::Json(body) = request.body else { panic!("not JSON") };
        prop_assert!(check_body(&body).is_ok(), "{:?}", check_body(&body));
    }
}
