use figment::Jail;
use herald_host::config::{self, expand};

fn load(jail: &Jail, file: &str) -> herald_host::Result<config::LoadedConfig> {
    config::load(Some(&jail.directory().join(file)))
}

#[test]
fn defaults_without_any_file() {
    Jail::expect_with(|_jail| {
        let loaded = config::load(None).unwrap();
        assert!(loaded.file.is_none());
        let c = loaded.config;
        assert_eq!(c.server.listen, "127.0.0.1:8787");
        assert!(c.webhooks.enabled && c.webhooks.parallel_dispatch);
        assert_eq!((c.webhooks.timeout, c.webhooks.max_retries), (5, 2));
        assert!(c.webhooks.ca_bundle.is_none());
        Ok(())
    });
}

#[test]
fn file_then_env_precedence() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "herald.toml",
            r#"
            [server]
            listen = "127.0.0.1:9000"
            [webhooks]
            timeout = 7
            max_retries = 4
            "#,
        )?;
        jail.set_env("HERALD_WEBHOOKS__MAX_RETRIES", "9");
        jail.set_env("HERALD_SERVER__ADMIN_TOKEN", "from-env");
        let c = load(jail, "herald.toml").unwrap().config;
        assert_eq!(c.server.listen, "127.0.0.1:9000"); // file over default
        assert_eq!(c.webhooks.timeout, 7);
        assert_eq!(c.webhooks.max_retries, 9); // env over file
        assert_eq!(c.server.admin_token.as_deref(), Some("from-env"));
        Ok(())
    });
}

#[test]
fn yaml_is_equivalent() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "herald.yaml",
            "server:\n  listen: 127.0.0.1:9100\nwebhooks:\n  timeout: 3\n",
        )?;
        let c = load(jail, "herald.yaml").unwrap().config;
        assert_eq!(c.server.listen, "127.0.0.1:9100");
        assert_eq!(c.webhooks.timeout, 3);
        Ok(())
    });
}

#[test]
fn the_shipped_example_configs_load_and_agree() {
    // In a jail: other tests set HERALD_* variables, which would leak in.
    Jail::expect_with(|_jail| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
        let toml = config::load(Some(&root.join("herald.toml")))
            .unwrap()
            .config;
        let yaml = config::load(Some(&root.join("herald.yaml")))
            .unwrap()
            .config;
        assert_eq!(
            serde_json::to_value(&toml).unwrap(),
            serde_json::to_value(&yaml).unwrap()
        );
        Ok(())
    });
}

#[test]
fn env_substitution_in_strings() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "herald.toml",
            r#"
            [[webhooks.endpoints]]
            name = "ops"
            url = "https://hooks.example.com/${HOOK_PATH}"
            secret = "${WEBHOOK_SECRET}"
            events = ["*"]
            "#,
        )?;
        jail.set_env("WEBHOOK_SECRET", "s3cr3t-from-the-environment");
        jail.set_env("HOOK_PATH", "herald");
        let c = load(jail, "herald.toml").unwrap().config;
        let endpoint = &c.webhooks.endpoints[0];
        assert_eq!(endpoint.secret, "s3cr3t-from-the-environment");
        assert_eq!(endpoint.url, "https://hooks.example.com/herald");
        Ok(())
    });
}

#[test]
fn a_missing_variable_is_named() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "herald.toml",
            "[[webhooks.endpoints]]\nname = \"ops\"\nurl = \"https://x.example\"\nsecret = \"${NOT_SET_ANYWHERE}\"\nevents = [\"*\"]\n",
        )?;
        let err = load(jail, "herald.toml").unwrap_err().to_string();
        assert!(err.contains("NOT_SET_ANYWHERE"), "{err}");
        assert!(err.contains("webhooks.endpoints[0].secret"), "{err}");
        assert!(err.contains("herald.toml"), "{err}");
        Ok(())
    });
}

#[test]
fn unknown_and_bad_keys_are_named_with_the_file() {
    Jail::expect_with(|jail| {
        jail.create_file("herald.toml", "[webhooks]\ntimeot = 5\n")?;
        let err = load(jail, "herald.toml").unwrap_err().to_string();
        assert!(err.contains("timeot"), "{err}");
        assert!(err.contains("herald.toml"), "{err}");

        jail.create_file("bad.toml", "[webhooks]\ntimeout = \"soon\"\n")?;
        let err = load(jail, "bad.toml").unwrap_err().to_string();
        assert!(err.contains("webhooks.timeout"), "{err}");
        assert!(err.contains("bad.toml"), "{err}");

        jail.create_file("pattern.toml", "[[webhooks.endpoints]]\nname=\"a\"\nurl=\"https://x.example\"\nsecret=\"0123456789abcdef\"\nevents=[\"playback\"]\n")?;
        let err = load(jail, "pattern.toml").unwrap_err().to_string();
        assert!(
            err.contains("webhooks.endpoints.0.events") || err.contains("events"),
            "{err}"
        );
        assert!(err.contains("playback.*"), "{err}");
        Ok(())
    });
}

#[test]
fn env_typos_are_errors_too() {
    Jail::expect_with(|jail| {
        jail.set_env("HERALD_SERVER__LISTN", "x");
        let err = config::load(None).unwrap_err().to_string();
        assert!(err.contains("listn"), "{err}");
        Ok(())
    });
}

#[test]
fn expand_handles_escapes_and_text() {
    let lookup = |name: &str| (name == "A").then(|| "1".to_string());
    assert_eq!(expand("x${A}y", &lookup).unwrap(), "x1y");
    assert_eq!(expand("$${A}", &lookup).unwrap(), "${A}");
    assert_eq!(expand("cost $5", &lookup).unwrap(), "cost $5");
    assert_eq!(expand("${B}", &lookup).unwrap_err(), "B");
}

#[test]
fn redaction_hides_every_secret() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "herald.toml",
            r#"
            [server]
            admin_token = "admin-secret-value"
            ingest_token = "ingest-secret-value"
            [webhooks]
            proxy = "http://user:proxy-password@127.0.0.1:3128"
            [[webhooks.endpoints]]
            name = "ops"
            url = "https://hooks.example.com/x"
            secret = "endpoint-secret-value"
            events = ["*"]
            "#,
        )?;
        let loaded = load(jail, "herald.toml").unwrap();
        let registry = herald_core::Registry::from_inventory().unwrap();
        let text = config::redacted(&loaded.config, &registry).to_string();
        for secret in [
            "admin-secret-value",
            "ingest-secret-value",
            "endpoint-secret-value",
            "proxy-password",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert!(text.contains("<redacted>"));
        Ok(())
    });
}
