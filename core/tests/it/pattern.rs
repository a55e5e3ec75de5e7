use herald_core::{EventKind, EventPattern, EventPatterns};

fn kind(name: &str) -> EventKind {
    EventKind::parse(name).unwrap()
}

#[test]
fn exact_prefix_and_any() {
    let exact = EventPattern::parse("playback.started").unwrap();
    assert!(exact.matches(&kind("playback.started")));
    assert!(!exact.matches(&kind("playback.ended")));

    let prefix = EventPattern::parse("playback.*").unwrap();
    assert!(prefix.matches(&kind("playback.started")));
    assert!(prefix.matches(&kind("playback.ended")));
    assert!(!prefix.matches(&kind("playbacks.started")));
    assert!(!prefix.matches(&kind("library.updated")));

    let nested = EventPattern::parse("my_app.jobs.*").unwrap();
    assert!(nested.matches(&kind("my_app.jobs.done")));
    assert!(!nested.matches(&kind("my_app.other")));

    let any = EventPattern::parse("*").unwrap();
    assert!(any.matches(&kind("anything.at_all")));
}

#[test]
fn malformed_patterns_say_why() {
    for (bad, needle) in [
        ("", "empty"),
        ("playback", "did you mean `playback.*`"),
        ("*.started", "`*`"),
        ("play*", "`*`"),
        ("Playback.Started", "lower-case"),
        ("playback..started", "empty segment"),
        ("**", "`*`"),
    ] {
        let err = EventPattern::parse(bad).unwrap_err().to_string();
        assert!(err.contains(needle), "{bad:?}: {err}");
    }
}

#[test]
fn lists_are_non_empty_and_round_trip() {
    assert!(EventPatterns::parse::<&str>(&[]).is_err());
    let list = EventPatterns::parse(&["playback.*", "library.updated"]).unwrap();
    assert!(list.matches(&kind("library.updated")));
    assert!(!list.matches(&kind("user.created")));
    assert_eq!(
        serde_json::to_string(&list).unwrap(),
        r#"["playback.*","library.updated"]"#
    );
    let back: EventPatterns = serde_json::from_str(r#"["playback.*","library.updated"]"#).unwrap();
    assert_eq!(back, list);
    assert!(serde_json::from_str::<EventPatterns>(r#"["bad"]"#).is_err());
}
