package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Rate is a token bucket: PerSecond tokens a second, up to Burst at once.
// The zero Rate is no limit.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Enabled reports whether r limits anything.
func (r Rate) Enabled() bool { return r.PerSecond > 0 }

// ParseRate reads "RATE/UNIT [burst N]" (UNIT s, m or h), e.g.
// "100/s burst 200" or "30/m". Without a burst the bucket holds one
// unit's worth ("30/m" lets 30 requests through at once). "0" or "off"
// is no limit.
func ParseRate(s string) (Rate, error) {
	f := strings.Fields(strings.ToLower(s))
	if len(f) == 1 && (f[0] == "0" || f[0] == "off") {
		return Rate{}, nil
	}
	bad := fmt.Errorf("%q is not RATE/s, RATE/m or RATE/h, optionally followed by \"burst N\", nor 0", s)
	if len(f) != 1 && !(len(f) == 3 && f[1] == "burst") {
		return Rate{}, bad
	}
	num, unit, ok := strings.Cut(f[0], "/")
	if !ok {
		return Rate{}, bad
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || !(n > 0) || n > 1e6 {
		return Rate{}, bad
	}
	per := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[unit]
	if per == 0 {
		return Rate{}, bad
	}
	r := Rate{PerSecond: n / per.Seconds(), Burst: max(1, int(n))}
	if len(f) == 3 {
		if r.Burst, err = strconv.Atoi(f[2]); err != nil || r.Burst < 1 || r.Burst > 1e6 {
			return Rate{}, bad
		}
	}
	return r, nil
}

// validateLimits checks the HTTP server limits and parses the rate limits.
func (c *Config) validateLimits() []string {
	var problems []string
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"ORGID_READ_HEADER_TIMEOUT", c.ReadHeaderTimeout}, {"ORGID_READ_TIMEOUT", c.ReadTimeout},
		{"ORGID_WRITE_TIMEOUT", c.WriteTimeout}, {"ORGID_IDLE_TIMEOUT", c.IdleTimeout},
	} {
		if d.v <= 0 {
			problems = append(problems, d.name+" must be positive")
		}
	}
	// Below 4 KiB ordinary browsers' headers (cookies included) get 431.
	if c.MaxHeaderBytes < 4<<10 {
		problems = append(problems, "ORGID_MAX_HEADER_BYTES must be at least 4096")
	}
	var err error
	if c.TokenRateClient, err = ParseRate(c.TokenRateLimitClient); err != nil {
		problems = append(problems, "ORGID_TOKEN_RATE_LIMIT_CLIENT: "+err.Error())
	}
	if c.TokenRateIP, err = ParseRate(c.TokenRateLimitIP); err != nil {
		problems = append(problems, "ORGID_TOKEN_RATE_LIMIT_IP: "+err.Error())
	}
	if c.TrustedProxies, err = ParsePrefixes(c.TrustedProxiesList); err != nil {
		problems = append(problems, "ORGID_TRUSTED_PROXIES: "+err.Error())
	}
	return problems
}

// ParsePrefixes reads a comma-separated list of IP addresses and CIDR
// prefixes ("10.0.0.0/8, 192.0.2.7"); an address is a prefix of its full
// length. The empty string is no prefixes.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR prefix", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
