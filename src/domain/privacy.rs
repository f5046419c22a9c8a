//! Privacy rules that need no I/O: how an IP address is anonymised before storage.

use std::net::IpAddr;

/// The network an address belongs to: IPv4 /24, IPv6 /48, as text.
pub fn anonymise_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0")
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => anonymise_ip(IpAddr::V4(v4)),
            None => {
                let s = v6.segments();
                std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0).to_string()
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_keeps_the_first_24_bits() {
        assert_eq!(anonymise_ip("203.0.113.77".parse().unwrap()), "203.0.113.0");
    }

    #[test]
    fn ipv6_keeps_the_first_48_bits() {
        assert_eq!(
            anonymise_ip("2001:db8:abcd:12::1".parse().unwrap()),
            "2001:db8:abcd::"
        );
        assert_eq!(
            anonymise_ip("::ffff:198.51.100.9".parse().unwrap()),
            "198.51.100.0"
        );
    }
}
