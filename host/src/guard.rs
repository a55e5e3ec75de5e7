//! The destination guard: which addresses Herald may send to.
//!
//! `https` is required unless `webhooks.require_tls = false`; loopback,
//! private, link-local and other non-public addresses are refused unless
//! `webhooks.allow_private_networks = true`. Host names are checked on the
//! addresses they resolve to *at connect time* (a resolver installed in the
//! HTTP client), so a name that resolves to 127.0.0.1 is refused too, and a
//! DNS answer cannot change between the check and the connection.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// What the guard allows.
#[derive(Clone, Copy, Debug)]
pub struct GuardPolicy {
    /// Plain `http://` refused when true.
    pub require_tls: bool,
    /// Non-public addresses allowed when true.
    pub allow_private_networks: bool,
}

/// Whether `ip` is anything but a public unicast address.
pub fn is_non_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || a >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_non_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link local
                || (first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
        }
    }
}

/// Checks a destination URL's form: scheme, and a literal or well-known
/// local host. Host names are checked again at connect time.
pub fn check_url(url: &str, policy: GuardPolicy) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a valid URL: {e}"))?;
    match parsed.scheme() {
        "https" => {}
        "http" if !policy.require_tls => {}
        "http" => {
            return Err("https is required (set webhooks.require_tls = false to allow http)".into())
        }
        other => return Err(format!("unsupported scheme `{other}` (use https)")),
    }
    let host = parsed
        .host()
        .ok_or_else(|| "the URL has no host".to_string())?;
    if !policy.allow_private_networks {
        let refused = match host {
            url::Host::Ipv4(ip) => is_non_public(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => is_non_public(IpAddr::V6(ip)),
            url::Host::Domain(name) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                name == "localhost" || name.ends_with(".localhost")
            }
        };
        if refused {
            return Err(format!(
                "`{host}` is a loopback, private or link-local address \
                 (set webhooks.allow_private_networks = true to allow it)"
            ));
        }
    }
    Ok(parsed)
}

/// A resolver that drops non-public addresses and fails when none is left.
#[derive(Debug, Default)]
pub struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = addrs
                .iter()
                .copied()
                .filter(|a| !is_non_public(a.ip()))
                .collect();
            if public.is_empty() {
                let refused: Box<dyn std::error::Error + Send + Sync> = format!(
                    "`{host}` resolves only to loopback, private or link-local addresses \
                     (set webhooks.allow_private_networks = true to allow them)"
                )
                .into();
                return Err(refused);
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// The resolver to install for `policy`, if any.
pub fn resolver(policy: GuardPolicy) -> Option<Arc<PublicOnlyResolver>> {
    (!policy.allow_private_networks).then(|| Arc::new(PublicOnlyResolver))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const STRICT: GuardPolicy = GuardPolicy {
        require_tls: true,
        allow_private_networks: false,
    };

    #[test]
    fn refuses_local_destinations() {
        for url in [
            "https://127.0.0.1/x",
            "https://10.1.2.3/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://[fe80::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://localhost:8080/",
            "https://api.localhost/",
            "https://0.0.0.0/",
        ] {
            let err = check_url(url, STRICT).unwrap_err();
            assert!(err.contains("allow_private_networks"), "{url}: {err}");
        }
        assert!(check_url("https://93.184.216.34/", STRICT).is_ok());
        assert!(check_url("https://hooks.example.com/x", STRICT).is_ok());
    }

    #[test]
    fn requires_tls_unless_relaxed() {
        let err = check_url("http://hooks.example.com/", STRICT).unwrap_err();
        assert!(err.contains("require_tls"), "{err}");
        let relaxed = GuardPolicy {
            require_tls: false,
            allow_private_networks: true,
        };
        assert!(check_url("http://127.0.0.1:9/", relaxed).is_ok());
        assert!(check_url("ftp://example.com/", relaxed).is_err());
        assert!(check_url("not a url", relaxed).is_err());
    }

    #[tokio::test]
    async fn resolver_refuses_names_of_local_addresses() {
        let err = PublicOnlyResolver
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains("resolves only to"), "{err}");
    }
}
