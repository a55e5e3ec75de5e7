//! Validation and construction of webhooks, shared by the admin API and
//! the config file's `[[webhooks.endpoints]]`.

use std::net::IpAddr;
use std::time::Duration;

use herald_core::signing::{self, StandardSecret};
use herald_core::{EventPatterns, PayloadFilter};

use crate::config::EndpointConfig;
use crate::error::{Error, Result};
use crate::guard::{self, GuardPolicy};
use crate::store::{now_millis, Origin, SignatureScheme, Webhook};

/// Shortest accepted `X-Phlix-Signature` secret.
const MIN_SECRET_LEN: usize = 16;

/// What a user sets on a webhook.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// Display name.
    pub name: String,
    /// Destination URL.
    pub url: String,
    /// Secret; generated when `None`.
    pub secret: Option<String>,
    /// Event patterns.
    pub events: EventPatterns,
    /// Payload filters.
    pub filters: PayloadFilter,
    /// Signature scheme.
    pub signature: SignatureScheme,
    /// Retries override.
    pub max_retries: Option<u32>,
    /// Body template.
    pub body_template: Option<String>,
    /// Active flag.
    pub active: bool,
    /// Notification rules.
    pub rules: herald_core::rules::Rules,
}

/// A fresh secret for `scheme`.
pub fn generate_secret(scheme: SignatureScheme) -> String {
    match scheme {
        SignatureScheme::Phlix => signing::generate_secret(),
        SignatureScheme::Standard => StandardSecret::generate(),
    }
}

/// Trims and checks a webhook name.
pub fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", "must not be empty"));
    }
    if name.chars().count() > 200 {
        return Err(Error::invalid("name", "must be at most 200 characters"));
    }
    Ok(name.to_owned())
}

/// Checks a destination URL against the guard, resolving its host name so
/// a name of a private address is refused at registration already (the
/// connect-time check still applies).
pub async fn check_destination(url: &str, policy: GuardPolicy) -> Result<String> {
    let parsed = guard::check_url(url, policy).map_err(|e| Error::invalid("url", e))?;
    if !policy.allow_private_networks {
        if let Some(url::Host::Domain(host)) = parsed.host() {
            let lookup =
                tokio::net::lookup_host((host, parsed.port_or_known_default().unwrap_or(443)));
            // An unresolvable name is accepted: DNS may be down now; the
            // connect-time check decides later.
            if let Ok(Ok(addrs)) = tokio::time::timeout(Duration::from_secs(2), lookup).await {
                let ips: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
                if !ips.is_empty() && ips.iter().all(|ip| guard::is_non_public(*ip)) {
                    return Err(Error::invalid(
                        "url",
                        format!(
                            "`{host}` resolves to a loopback, private or link-local address \
                             (set webhooks.allow_private_networks = true to allow it)"
                        ),
                    ));
                }
            }
        }
    }
    Ok(parsed.to_string())
}

fn check_secret(secret: &str, scheme: SignatureScheme) -> Result<()> {
    match scheme {
        SignatureScheme::Standard => StandardSecret::parse(secret)
            .map(|_| ())
            .map_err(|e| Error::invalid("secret", e.to_string())),
        SignatureScheme::Phlix if secret.len() < MIN_SECRET_LEN => Err(Error::invalid(
            "secret",
            format!("must be at least {MIN_SECRET_LEN} characters"),
        )),
        SignatureScheme::Phlix => Ok(()),
    }
}

/// Validates `settings` and builds a new webhook.
pub async fn new_webhook(
    settings: WebhookSettings,
    origin: Origin,
    policy: GuardPolicy,
) -> Result<Webhook> {
    let name = check_name(&settings.name)?;
    let url = check_destination(&settings.url, policy).await?;
    let secret = match settings.secret {
        Some(secret) => {
            check_secret(&secret, settings.signature)?;
            secret
        }
        None => generate_secret(settings.signature),
    };
    if let Some(template) = &settings.body_template {
        crate::webhook::check_body_template(template)?;
    }
    settings.rules.validate().map_err(rules_error)?;
    let now = now_millis();
    let id = match origin {
        Origin::Api => format!("wh_{}", ulid::Ulid::new()),
        Origin::Config => config_webhook_id(&name),
    };
    Ok(Webhook {
        id,
        name,
        url,
        secret,
        signature: settings.signature,
        events: settings.events,
        filters: settings.filters,
        active: settings.active,
        origin,
        max_retries: settings.max_retries,
        body_template: settings.body_template,
        rules: settings.rules,
        total_failures: 0,
        consecutive_failures: 0,
        disabled_reason: None,
        last_status: None,
        last_status_code: None,
        last_delivery_at: None,
        created_at: now,
        updated_at: now,
    })
}

/// A rules validation error as an invalid-field error naming the field.
pub fn rules_error(e: herald_core::Error) -> Error {
    match e {
        herald_core::Error::InvalidEvent { field, message } => Error::invalid(field, message),
        other => Error::invalid("rules", other.to_string()),
    }
}

/// The stable id of a config-declared webhook: `cfg_` and its name with
/// anything but letters, digits, `-` and `_` replaced by `_`.
pub fn config_webhook_id(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("cfg_{slug}")
}

/// Builds the webhooks declared in the config, with errors naming the key.
pub async fn from_config(
    endpoints: &[EndpointConfig],
    policy: GuardPolicy,
) -> Result<Vec<Webhook>> {
    let mut webhooks = Vec::with_capacity(endpoints.len());
    for (i, e) in endpoints.iter().enumerate() {
        let settings = WebhookSettings {
            name: e.name.clone(),
            url: e.url.clone(),
            secret: Some(e.secret.clone()),
            events: e.events.clone(),
            filters: e.filters.clone(),
            signature: e.signature,
            max_retries: e.max_retries,
            body_template: e.body_template.clone(),
            active: e.active,
            rules: e.rules.clone(),
        };
        let webhook = new_webhook(settings, Origin::Config, policy)
            .await
            .map_err(|err| match err {
                Error::Invalid { field, message } => {
                    Error::config(format!("webhooks.endpoints[{i}].{field}"), message)
                }
                other => other,
            })?;
        webhooks.push(webhook);
    }
    Ok(webhooks)
}
