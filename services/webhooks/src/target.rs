//! Where webhooks may go. A subscriber chooses the URL, so without care Weft would post
//! to its own network on their behalf (SSRF): every target is resolved and each of its
//! addresses must be public — not loopback, private, link-local, shared (CGNAT),
//! unspecified, multicast or reserved — unless `webhooks.allow_private_targets` says
//! otherwise. The check runs when an endpoint is subscribed and again at every delivery,
//! inside the HTTP client's own resolver, so the addresses checked are the addresses
//! connected to (a name that later resolves elsewhere is refused then).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::domain::MAX_URL;

/// How long a name may take to resolve before the target counts as unresolvable (a
/// subscriber must not hold a request open with a name whose DNS never answers).
const DNS_TIMEOUT: Duration = Duration::from_secs(5);

/// What a target must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetRules {
    /// Allow loopback, private and link-local addresses (development, tests).
    pub allow_private: bool,
    /// Only `https://` (plain `http://` is for development).
    pub require_https: bool,
}

/// Why a target was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("not a URL: {0}")]
    Malformed(String),
    #[error("{0}")]
    Refused(String),
    #[error("{0} does not resolve")]
    Unresolvable(String),
}

/// Whether `ip` is an address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let embedded = (u32::from(s[6]) << 16) | u32::from(s[7]);
                return is_public_v4(Ipv4Addr::from(embedded));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
                // IPv4-compatible (::/96) and documentation (2001:db8::/32).
                || s[..6] == [0, 0, 0, 0, 0, 0]
                || (s[0] == 0x2001 && s[1] == 0x0db8))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        // Shared address space (CGNAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments, 192.0.0.0/24.
        || (a == 192 && b == 0 && c == 0)
        // Benchmarking, 198.18.0.0/15.
        || (a == 198 && (b == 18 || b == 19))
        // Reserved, 240.0.0.0/4.
        || a >= 240)
}

/// Checks the form of `url`: http(s) as the rules allow, a host, no credentials.
pub fn parse(url: &str, rules: TargetRules) -> Result<Url, TargetError> {
    if url.len() > MAX_URL {
        return Err(TargetError::Malformed(format!(
            "at most {MAX_URL} characters"
        )));
    }
    let parsed = Url::parse(url).map_err(|e| TargetError::Malformed(e.to_string()))?;
    match parsed.scheme() {
        "https" => {}
        "http" if !rules.require_https => {}
        _ => return Err(TargetError::Refused("use an https:// URL".into())),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(TargetError::Refused(
            "credentials in the URL would be logged; put a token in the path instead".into(),
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(TargetError::Malformed("no host".into()));
    }
    Ok(parsed)
}

fn refused(addr: IpAddr) -> TargetError {
    TargetError::Refused(format!(
        "{addr} is a private, loopback or reserved address; webhooks go to public hosts only"
    ))
}

/// Resolves `url`'s host and refuses it unless every address is allowed.
pub async fn check(url: &Url, rules: TargetRules) -> Result<(), TargetError> {
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<IpAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
        Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
        Some(url::Host::Domain(name)) => {
            tokio::time::timeout(DNS_TIMEOUT, tokio::net::lookup_host((name, port)))
                .await
                .ok()
                .and_then(Result::ok)
                .ok_or_else(|| TargetError::Unresolvable(name.to_owned()))?
                .map(|a| a.ip())
                .collect()
        }
        None => return Err(TargetError::Malformed("no host".into())),
    };
    if addrs.is_empty() {
        return Err(TargetError::Unresolvable(
            url.host_str().unwrap_or_default().to_owned(),
        ));
    }
    if !rules.allow_private
        && let Some(bad) = addrs.iter().find(|a| !is_public(**a))
    {
        return Err(refused(*bad));
    }
    Ok(())
}

/// The delivery client's resolver: the system's, keeping only allowed addresses. An IP
/// literal in a URL never reaches a resolver, so [`check`] runs before every send too.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if found.is_empty() {
                return Err(TargetError::Unresolvable(host).into());
            }
            if !allow_private && let Some(bad) = found.iter().find(|a| !is_public(a.ip())) {
                return Err(refused(bad.ip()).into());
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: TargetRules = TargetRules {
        allow_private: false,
        require_https: true,
    };

    #[test]
    fn private_loopback_and_reserved_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "192.0.0.8",
            "192.0.2.1",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "::7f00:1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} counted as public");
        }
        for ip in [
            "93.184.215.14",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip} counted as private");
        }
    }

    #[test]
    fn only_https_urls_without_credentials_pass() {
        assert!(parse("https://hooks.example.com/weft", STRICT).is_ok());
        for bad in [
            "http://hooks.example.com/weft",
            "ftp://hooks.example.com",
            "https://user:pw@hooks.example.com/",
            "not a url",
            "https://",
        ] {
            assert!(parse(bad, STRICT).is_err(), "{bad} passed");
        }
        let dev = TargetRules {
            allow_private: true,
            require_https: false,
        };
        assert!(parse("http://127.0.0.1:9000/hook", dev).is_ok());
    }

    #[tokio::test]
    async fn loopback_targets_are_refused_by_address_and_by_name() {
        for url in [
            "https://127.0.0.1/hook",
            "https://[::1]/hook",
            "https://localhost/hook",
            "https://0x7f000001/hook",
        ] {
            let parsed = parse(url, STRICT).unwrap();
            assert!(
                matches!(check(&parsed, STRICT).await, Err(TargetError::Refused(_))),
                "{url} was not refused"
            );
        }
        let open = TargetRules {
            allow_private: true,
            require_https: true,
        };
        let local = parse("https://localhost/hook", open).unwrap();
        assert_eq!(check(&local, open).await, Ok(()));
    }
}
