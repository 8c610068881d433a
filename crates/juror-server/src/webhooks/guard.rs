//! Which addresses webhook deliveries may reach. A webhook URL is chosen by an owner, but a
//! delivery is a request made from the server's own network position: unless allowed, it never
//! goes to this machine (loopback, the unspecified address, the server's own listening address)
//! or to link-local addresses (where cloud metadata services answer).
//!
//! The check is made on the addresses a name resolves to, at connection time (the HTTP client's
//! resolver), so a name that resolves elsewhere when created and here when delivered is still
//! refused; IP literals, which are not resolved, are checked before the request. Redirects are
//! not followed.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The addresses deliveries may not reach, unless local delivery is allowed.
#[derive(Debug, Clone, Default)]
pub struct AddressGuard {
    allow_local: bool,
    own: Vec<IpAddr>,
}

impl AddressGuard {
    /// A guard; `own` are the addresses this server listens on.
    pub fn new(allow_local: bool, own: Vec<IpAddr>) -> Self {
        Self { allow_local, own }
    }

    /// The same guard, refusing `address` too (where the server listens), unless it is the
    /// unspecified address (which `refusal` covers as this machine).
    pub fn with_own(mut self, address: IpAddr) -> Self {
        if !address.is_unspecified() && !self.own.contains(&address) {
            self.own.push(address);
        }
        self
    }

    /// Why `address` may not be reached, if it may not.
    pub fn refusal(&self, address: IpAddr) -> Option<&'static str> {
        if self.allow_local {
            return None;
        }
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        if address.is_loopback() || address.is_unspecified() {
            Some("this machine")
        } else if self.own.contains(&address) {
            Some("this server's own address")
        } else if is_link_local(address) {
            Some("a link-local address")
        } else {
            None
        }
    }

    /// Checks a URL whose host is an IP literal (names are checked when resolved); `Err` says
    /// why it may not be reached.
    pub fn check_url(&self, url: &str) -> Result<(), String> {
        let parsed = reqwest::Url::parse(url).map_err(|error| format!("url `{url}` is not valid: {error}"))?;
        let host = parsed.host_str().unwrap_or_default();
        let lowered = host.to_ascii_lowercase();
        if lowered == "localhost" || lowered.ends_with(".localhost") {
            return self.refusal(IpAddr::from([127, 0, 0, 1])).map_or(Ok(()), |reason| Err(refused(host, reason)));
        }
        let Ok(literal) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() else { return Ok(()) };
        self.refusal(literal).map_or(Ok(()), |reason| Err(refused(&literal.to_string(), reason)))
    }
}

fn is_link_local(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

fn refused(host: &str, reason: &str) -> String {
    format!("webhook deliveries may not reach {host}: it is {reason} (start the server with --webhooks-allow-local to allow it)")
}

/// The HTTP client's resolver: the system's, without the addresses the guard refuses.
pub struct GuardedResolver(pub Arc<AddressGuard>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = Arc::clone(&self.0);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut reasons = found.iter().filter_map(|address| guard.refusal(address.ip()));
            let allowed: Vec<SocketAddr> = found.iter().copied().filter(|address| guard.refusal(address.ip()).is_none()).collect();
            if allowed.is_empty() {
                let reason = reasons.next().unwrap_or("unresolvable");
                return Err(refused(&host, reason).into());
            }
            let addresses: Addrs = Box::new(allowed.into_iter());
            Ok(addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_addresses_are_refused_unless_allowed() {
        let own: IpAddr = "10.1.2.3".parse().unwrap();
        let guard = AddressGuard::new(false, vec![own]);
        for refused in ["127.0.0.1", "127.9.9.9", "::1", "0.0.0.0", "::", "169.254.169.254", "fe80::1", "::ffff:127.0.0.1", "10.1.2.3"] {
            assert!(guard.refusal(refused.parse().unwrap()).is_some(), "{refused}");
        }
        for allowed in ["10.1.2.4", "192.168.1.10", "93.184.216.34", "2001:db8::1"] {
            assert_eq!(guard.refusal(allowed.parse().unwrap()), None, "{allowed}");
        }
        let open = AddressGuard::new(true, vec![own]);
        assert_eq!(open.refusal("127.0.0.1".parse().unwrap()), None);
    }

    #[test]
    fn literal_and_localhost_urls_are_checked_before_any_request() {
        let guard = AddressGuard::new(false, Vec::new());
        assert!(guard.check_url("http://127.0.0.1:8000/hook").unwrap_err().contains("--webhooks-allow-local"));
        assert!(guard.check_url("http://[::1]/hook").is_err());
        assert!(guard.check_url("http://localhost:9000/").is_err());
        assert!(guard.check_url("http://api.localhost/").is_err());
        assert!(guard.check_url("http://169.254.169.254/latest/meta-data").unwrap_err().contains("link-local"));
        assert!(guard.check_url("https://hooks.example.com/juror").is_ok(), "names are checked when resolved");
        assert!(AddressGuard::new(true, Vec::new()).check_url("http://127.0.0.1:8000/hook").is_ok());
    }

    #[tokio::test]
    async fn names_that_resolve_to_this_machine_are_refused() {
        let resolver = GuardedResolver(Arc::new(AddressGuard::new(false, Vec::new())));
        let error = resolver.resolve("localhost".parse().unwrap()).await.err().expect("localhost is refused");
        assert!(error.to_string().contains("this machine"), "{error}");
        let open = GuardedResolver(Arc::new(AddressGuard::new(true, Vec::new())));
        let addresses: Vec<SocketAddr> = open.resolve("localhost".parse().unwrap()).await.unwrap().collect();
        assert!(addresses.iter().all(|address| address.ip().is_loopback()) && !addresses.is_empty());
    }
}
