use herald_core::{
    async_trait, Error, Event, Message, NotificationPlugin, PluginConfig, PluginRegistration,
    Registry, Result,
};

struct Echo {
    channel: String,
}

#[async_trait]
impl NotificationPlugin for Echo {
    fn kind(&self) -> &'static str {
        "echo"
    }
    fn format(&self, event: &Event) -> Result<Message> {
        Ok(Message::Publish(herald_core::Publish {
            topic: self.channel.clone(),
            payload: event.event.to_string(),
            qos: 0,
            retain: false,
        }))
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EchoSettings {
    channel: String,
}

fn build_echo(config: &PluginConfig) -> Result<Box<dyn NotificationPlugin>> {
    let settings: EchoSettings = config.settings()?;
    Ok(Box::new(Echo {
        channel: settings.channel,
    }))
}

herald_core::register_plugin! {
    PluginRegistration { kind: "echo", summary: "test plugin", secret_keys: &[], build: build_echo }
}

static OTHER: PluginRegistration = PluginRegistration {
    kind: "other",
    summary: "",
    secret_keys: &[],
    build: build_echo,
};
static ECHO_AGAIN: PluginRegistration = PluginRegistration {
    kind: "echo",
    summary: "",
    secret_keys: &[],
    build: build_echo,
};

fn config(value: serde_json::Value) -> PluginConfig {
    serde_json::from_value(value).unwrap()
}

#[test]
fn inventory_collects_this_crates_registration() {
    let registry = Registry::from_inventory().unwrap();
    assert_eq!(registry.kinds(), ["echo"]);
}

#[test]
fn two_instances_of_one_kind_keep_their_settings() {
    let registry = Registry::from_inventory().unwrap();
    let a = registry
        .build(&config(
            serde_json::json!({"kind":"echo","name":"a","channel":"one"}),
        ))
        .unwrap();
    let b = registry
        .build(&config(
            serde_json::json!({"kind":"echo","name":"b","channel":"two"}),
        ))
        .unwrap();
    let event = Event::new(
        herald_core::EventKind::parse("a.b").unwrap(),
        Default::default(),
    );
    let topic = |m: Message| match m {
        Message::Publish(p) => p.topic,
        Message::Http(_) => unreachable!(),
    };
    assert_eq!(topic(a.format(&event).unwrap()), "one");
    assert_eq!(topic(b.format(&event).unwrap()), "two");
}

#[test]
fn unknown_kind_lists_known_kinds() {
    let registry = Registry::from_registrations([&OTHER, &ECHO_AGAIN]).unwrap();
    let err = registry
        .build(&config(serde_json::json!({"kind":"dicsord","name":"x"})))
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "unknown plugin kind `dicsord`; known kinds: echo, other"
    );
}

#[test]
fn duplicate_kinds_are_refused() {
    let registry = Registry::from_registrations(
        std::iter::once(&ECHO_AGAIN).chain(Registry::from_inventory().unwrap().registrations()),
    );
    assert!(matches!(registry, Err(Error::DuplicatePluginKind(k)) if k == "echo"));
}

#[test]
fn settings_errors_name_the_instance_and_key() {
    let registry = Registry::from_inventory().unwrap();
    let missing = registry
        .build(&config(serde_json::json!({"kind":"echo","name":"loud"})))
        .err()
        .unwrap()
        .to_string();
    assert!(
        missing.contains("plugin `loud`") && missing.contains("missing field `channel`"),
        "{missing}"
    );
    let unknown = registry
        .build(&config(
            serde_json::json!({"kind":"echo","name":"loud","channel":"c","chanel":"typo"}),
        ))
        .err()
        .unwrap()
        .to_string();
    assert!(unknown.contains("unknown field `chanel`"), "{unknown}");
}
