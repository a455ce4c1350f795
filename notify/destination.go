package notify

import (
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"github.com/smartlic/smartlic"
)

// ErrDestinationNotAllowed is the error of a webhook connection to an
// address the DestinationPolicy refuses. The delivery log shows only
// DestinationNotAllowed, never whether something listens there: otherwise
// a tenant could map the operator's internal network through it.
var ErrDestinationNotAllowed = errors.New("destination not allowed")

// DestinationNotAllowed is what the delivery log records for an attempt
// refused by the policy.
const DestinationNotAllowed = "destination not allowed: the webhook URL resolves to an address outside the public internet"

// DestinationPolicy decides which addresses webhooks may reach. The zero
// value allows only globally routable unicast addresses: a tenant
// administrator registers webhook URLs, and without it could make the
// server post to its own loopback, the cloud metadata service
// (169.254.169.254) or hosts of the internal network, and learn from the
// delivery log whether they answered.
type DestinationPolicy struct {
	// Allow lists ranges that are reachable although not global, e.g. a
	// receiver inside the operator's network (serve --webhook-allow-cidr).
	Allow []netip.Prefix
}

// nonGlobal are the special-purpose ranges of the IANA IPv4 and IPv6
// registries that are not covered by the netip.Addr predicates used in
// Permits, and the IPv6 ranges that embed an IPv4 address (NAT64, 6to4,
// Teredo, IPv4-compatible), which could otherwise reach a refused IPv4
// address by another name.
var nonGlobal = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"100.64.0.0/10",   // carrier-grade NAT (shared address space)
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // TEST-NET-1
		"192.88.99.0/24",  // 6to4 relay anycast (deprecated)
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // TEST-NET-2
		"203.0.113.0/24",  // TEST-NET-3
		"240.0.0.0/4",     // reserved, and 255.255.255.255 broadcast
		"::/96",           // IPv4-compatible (deprecated), ::, ::1
		"64:ff9b::/96",    // NAT64
		"64:ff9b:1::/48",  // local-use NAT64
		"100::/64",        // discard-only
		"2001::/23",       // IETF protocol assignments, Teredo
		"2001:db8::/32",   // documentation
		"2002::/16",       // 6to4
		"3fff::/20",       // documentation
		"5f00::/16",       // segment routing SIDs
		"fec0::/10",       // site-local (deprecated)
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Permits reports whether a webhook may connect to a.
func (p DestinationPolicy) Permits(a netip.Addr) bool {
	a = a.WithZone("").Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	for _, r := range p.Allow {
		if r.Contains(a) {
			return true
		}
	}
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() || a.IsMulticast() ||
		a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() {
		return false
	}
	for _, r := range nonGlobal {
		if r.Contains(a) {
			return false
		}
	}
	return true
}

// control is a net.Dialer Control function: it runs after name
// resolution, on the address actually dialled, so a name that resolves to
// an internal address (or is rebound to one after the webhook was saved)
// is refused as surely as a literal one.
func (p DestinationPolicy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !p.Permits(ap.Addr()) {
		return ErrDestinationNotAllowed
	}
	return nil
}

// CheckURL refuses, when a webhook is saved, a URL whose host is an
// address the policy refuses or a name that is loopback by definition
// (localhost). Other names are checked when they are dialled.
func (p DestinationPolicy) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return smartlic.Invalid("url", "must be an http:// or https:// URL (got %q)", raw)
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return smartlic.Invalid("url", "must not point at localhost: webhooks go to public addresses")
	}
	if a, err := netip.ParseAddr(host); err == nil && !p.Permits(a) {
		return smartlic.Invalid("url", "must not point at %s, which is not a public address (loopback, private, link-local, multicast or reserved); the operator may allow a range with serve --webhook-allow-cidr", host)
	}
	return nil
}

// ParseAllowCIDRs parses the ranges of serve --webhook-allow-cidr; a
// single address counts as a range of one.
func ParseAllowCIDRs(field string, cidrs []string) (DestinationPolicy, error) {
	var p DestinationPolicy
	for _, s := range cidrs {
		pr, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return p, smartlic.Invalid(field, "must be an address range such as 10.1.0.0/16 or fd00::/8 (got %q)", s)
			}
			pr = netip.PrefixFrom(a, a.BitLen())
		}
		p.Allow = append(p.Allow, pr.Masked())
	}
	return p, nil
}

// dialer returns a dialer that connects only where the policy permits.
func (p DestinationPolicy) dialer() *net.Dialer {
	return &net.Dialer{Control: p.control}
}
