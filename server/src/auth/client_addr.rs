//! The client's address, for throttling sign-ins: the TCP peer, or what a
//! trusted reverse proxy (`--trusted-proxy`) says in `X-Forwarded-For`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;

use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;

use crate::error::{AppError, Result};

/// An IP address or network (`10.0.0.0/8`, `::1`), as `--trusted-proxy` takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Whether `ip` is inside this network (IPv4-mapped IPv6 counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpNet {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<IpNet, String> {
        let text = text.trim();
        let bad = || format!("{text:?} is not an IP address or CIDR network");
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr = IpAddr::from_str(addr).map_err(|_| bad())?.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(IpNet { addr, prefix })
    }
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy, in
/// which case `X-Forwarded-For` is read from the right (the hop the proxy
/// itself added) and the first address that is not a trusted proxy wins. A
/// request without a peer address (a router called in-process) counts as
/// `0.0.0.0`, so all such requests share one budget.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let Some(mut ip) = peer.map(|p| p.to_canonical()) else {
        return IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    };
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(ip) {
        return ip;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for hop in forwarded.into_iter().rev() {
        match parse_hop(hop) {
            Some(hop) => {
                ip = hop;
                if !is_trusted(hop) {
                    break;
                }
            }
            // Garbage: the last trusted proxy is the client as far as we know.
            None => break,
        }
    }
    ip
}

/// One `X-Forwarded-For` entry: `1.2.3.4`, `2001:db8::1`, `[2001:db8::1]:443` or `1.2.3.4:5`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = IpAddr::from_str(hop) {
        return Some(ip.to_canonical());
    }
    SocketAddr::from_str(hop)
        .ok()
        .map(|s| s.ip().to_canonical())
}

/// The client address of a request, as [`client_ip`] finds it with the
/// configured `--trusted-proxy` list.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

/// The configured `--trusted-proxy` list, as [`ClientAddr`] needs it; the
/// app's state provides it with `FromRef`, so this layer does not depend on it.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Arc<[IpNet]>);

impl<S> FromRequestParts<S> for ClientAddr
where
    TrustedProxies: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let TrustedProxies(trusted) = TrustedProxies::from_ref(state);
        Ok(ClientAddr(client_ip(peer, &parts.headers, &trusted)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_address_trusts_only_configured_proxies() {
        let ip = |s: &str| IpAddr::from_str(s).unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "6.6.6.6, 203.0.113.7".parse().unwrap());
        h.append("x-forwarded-for", "10.0.0.2".parse().unwrap());
        let proxies: Vec<IpNet> = ["10.0.0.0/8", "::1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        // An untrusted peer's header is ignored.
        assert_eq!(
            client_ip(Some(ip("198.51.100.1")), &h, &proxies),
            ip("198.51.100.1")
        );
        assert_eq!(client_ip(Some(ip("10.1.2.3")), &h, &[]), ip("10.1.2.3"));
        // Through two trusted hops, the first untrusted one from the right; the
        // forged leftmost entry is not believed.
        assert_eq!(
            client_ip(Some(ip("10.1.2.3")), &h, &proxies),
            ip("203.0.113.7")
        );
        assert_eq!(
            client_ip(Some(ip("::ffff:10.1.2.3")), &h, &proxies),
            ip("203.0.113.7")
        );
        let mut bad = HeaderMap::new();
        bad.insert("x-forwarded-for", "nonsense".parse().unwrap());
        assert_eq!(client_ip(Some(ip("::1")), &bad, &proxies), ip("::1"));
        bad.insert("x-forwarded-for", "[2001:db8::5]:443".parse().unwrap());
        assert_eq!(
            client_ip(Some(ip("::1")), &bad, &proxies),
            ip("2001:db8::5")
        );
        assert_eq!(client_ip(None, &h, &proxies), ip("0.0.0.0"));

        let net: IpNet = "192.168.0.0/16".parse().unwrap();
        assert!(net.contains(ip("192.168.200.1")) && !net.contains(ip("192.169.0.1")));
        assert!("0.0.0.0/0"
            .parse::<IpNet>()
            .unwrap()
            .contains(ip("8.8.8.8")));
        for wrong in ["", "10.0.0.0/33", "::/129", "host", "10.0.0.0/x"] {
            assert!(wrong.parse::<IpNet>().is_err(), "{wrong}");
        }
    }
}
