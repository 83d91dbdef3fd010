// Package config reads orgid's configuration from command-line flags and
// ORGID_* environment variables (a flag wins over its variable) and checks it.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is everything `orgid serve` can be told.
type Config struct {
	Addr                  string
	ExternalURL           string
	DataDir               string
	DatabaseURL           string
	RedisURL              string
	MasterKey             string
	BootstrapClientID     string
	BootstrapClientSecret string
	SMTPURL               string
	MailFrom              string
	LogLevel              string
	LogFormat             string
	AccessTokenAlg        string

	AccessTokenTTL  time.Duration
	IDTokenTTL      time.Duration
	RefreshTokenTTL time.Duration
	CodeTTL         time.Duration
	AuthRequestTTL  time.Duration
	SessionTTL      time.Duration
	ShutdownTimeout time.Duration
	// StoreTimeout bounds every call of the durable and ephemeral stores
	// (a transaction as a whole): past it the call fails as unavailable (503).
	StoreTimeout   time.Duration
	IDTokenMaxOrgs int
	// UsageFlushInterval is how often each replica writes the usage it
	// counted (tokens, active users) to the durable store.
	UsageFlushInterval time.Duration

	// HTTP server limits (see NewHTTPServer in internal/server).
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	// Token endpoint rate limits as written ("100/s burst 200", "0" for
	// none) and as parsed by Validate.
	TokenRateLimitClient string
	TokenRateLimitIP     string
	TokenRateClient      Rate
	TokenRateIP          Rate
	// TrustedProxiesList is ORGID_TRUSTED_PROXIES as given; TrustedProxies
	// is it parsed (by Validate).
	TrustedProxiesList string
	TrustedProxies     []netip.Prefix

	// Warnings are things Validate chose for the operator, to be logged.
	Warnings []string

	badEnv []string // variables that did not parse, reported by Validate
}

// option is one setting: its flag, its variable and where it lands.
type option struct {
	flag, env, usage string
	secret           bool
	str              *string
	dur              *time.Duration
	num              *int
	def              string
}

func (c *Config) options() []option {
	return []option{
		{flag: "addr", env: "ORGID_ADDR", def: "127.0.0.1:8080", str: &c.Addr, usage: "listen address"},
		{flag: "external-url", env: "ORGID_EXTERNAL_URL", def: "", str: &c.ExternalURL, usage: "public base URL; issuers are {external-url}/t/{tenant} (default http://{addr})"},
		{flag: "data-dir", env: "ORGID_DATA_DIR", def: "./orgid-data", str: &c.DataDir, usage: "directory of the embedded store and the generated master key"},
		{flag: "database-url", env: "ORGID_DATABASE_URL", def: "", str: &c.DatabaseURL, usage: "postgres://… for PostgreSQL; empty for the embedded SQLite store in the data dir"},
		{flag: "redis-url", env: "ORGID_REDIS_URL", def: "", str: &c.RedisURL, usage: "redis://… for ephemeral state shared by replicas; empty for in-process"},
		{flag: "master-key", env: "ORGID_MASTER_KEY", def: "", str: &c.MasterKey, secret: true, usage: "32-byte key (base64 or hex) encrypting private keys at rest; generated into the data dir when empty (required with PostgreSQL)"},
		{flag: "bootstrap-client-id", env: "ORGID_BOOTSTRAP_CLIENT_ID", def: "", str: &c.BootstrapClientID, usage: "with the secret: create this m2m client with the tenant role admin in tenant default"},
		{flag: "bootstrap-client-secret", env: "ORGID_BOOTSTRAP_CLIENT_SECRET", def: "", str: &c.BootstrapClientSecret, secret: true, usage: "secret of the bootstrap client"},
		{flag: "smtp-url", env: "ORGID_SMTP_URL", def: "", str: &c.SMTPURL, secret: true, usage: "smtp://[user:password@]host[:port] (STARTTLS when offered) or smtps://… (implicit TLS) for outgoing mail; empty writes mail, links included, to the log"},
		{flag: "mail-from", env: "ORGID_MAIL_FROM", def: "", str: &c.MailFrom, usage: "sender of outgoing mail (default orgid <no-reply@{host of external-url}>)"},
		{flag: "log-level", env: "ORGID_LOG_LEVEL", def: "info", str: &c.LogLevel, usage: "debug, info, warn or error"},
		{flag: "log-format", env: "ORGID_LOG_FORMAT", def: "auto", str: &c.LogFormat, usage: "json (one JSON object a line, for log collectors), text (key=value), or auto: text when stderr is a terminal, json otherwise"},
		{flag: "access-token-alg", env: "ORGID_ACCESS_TOKEN_ALG", def: "ES256", str: &c.AccessTokenAlg, usage: "algorithm of access tokens: ES256, RS256 or EdDSA"},
		{flag: "access-token-ttl", env: "ORGID_ACCESS_TOKEN_TTL", def: "1h", dur: &c.AccessTokenTTL, usage: "lifetime of access tokens"},
		{flag: "id-token-ttl", env: "ORGID_ID_TOKEN_TTL", def: "1h", dur: &c.IDTokenTTL, usage: "lifetime of ID tokens"},
		{flag: "refresh-token-ttl", env: "ORGID_REFRESH_TOKEN_TTL", def: "336h", dur: &c.RefreshTokenTTL, usage: "lifetime of each refresh token (a rotation issues a fresh one)"},
		{flag: "code-ttl", env: "ORGID_CODE_TTL", def: "5m", dur: &c.CodeTTL, usage: "lifetime of authorization codes"},
		{flag: "auth-request-ttl", env: "ORGID_AUTH_REQUEST_TTL", def: "30m", dur: &c.AuthRequestTTL, usage: "time a user has to finish signing in"},
		{flag: "session-ttl", env: "ORGID_SESSION_TTL", def: "168h", dur: &c.SessionTTL, usage: "lifetime of a browser's single sign-on session"},
		{flag: "id-token-max-orgs", env: "ORGID_ID_TOKEN_MAX_ORGS", def: "50", num: &c.IDTokenMaxOrgs, usage: "most organizations an ID token lists; beyond, it names userinfo as their source"},
		{flag: "store-timeout", env: "ORGID_STORE_TIMEOUT", def: "5s", dur: &c.StoreTimeout, usage: "deadline of each storage call (a transaction as a whole); past it the request answers 503"},
		{flag: "usage-flush-interval", env: "ORGID_USAGE_FLUSH_INTERVAL", def: "10s", dur: &c.UsageFlushInterval, usage: "how often usage counted for billing (tokens issued, active users) is written to the store; also written on shutdown"},
		{flag: "shutdown-timeout", env: "ORGID_SHUTDOWN_TIMEOUT", def: "20s", dur: &c.ShutdownTimeout, usage: "time in-flight requests get to finish on SIGTERM"},
		{flag: "read-header-timeout", env: "ORGID_READ_HEADER_TIMEOUT", def: "10s", dur: &c.ReadHeaderTimeout, usage: "time a client has to send the request line and headers"},
		{flag: "read-timeout", env: "ORGID_READ_TIMEOUT", def: "30s", dur: &c.ReadTimeout, usage: "time a client has to send a whole request, body included"},
		{flag: "write-timeout", env: "ORGID_WRITE_TIMEOUT", def: "30s", dur: &c.WriteTimeout, usage: "time from the end of the request headers to the end of the response"},
		{flag: "idle-timeout", env: "ORGID_IDLE_TIMEOUT", def: "120s", dur: &c.IdleTimeout, usage: "time an idle keep-alive connection stays open"},
		{flag: "max-header-bytes", env: "ORGID_MAX_HEADER_BYTES", def: "65536", num: &c.MaxHeaderBytes, usage: "largest request line plus headers accepted (larger: 431)"},
		{flag: "token-rate-limit-client", env: "ORGID_TOKEN_RATE_LIMIT_CLIENT", def: "100/s burst 200", str: &c.TokenRateLimitClient, usage: "token requests each client_id of a tenant may make, as RATE/s|m|h [burst N] (shared by replicas through Redis); 0 for no limit"},
		{flag: "token-rate-limit-ip", env: "ORGID_TOKEN_RATE_LIMIT_IP", def: "1000/s burst 2000", str: &c.TokenRateLimitIP, usage: "token requests each client IP address may make to a tenant, as RATE/s|m|h [burst N]; 0 for no limit (behind a proxy, set --trusted-proxies or every request has the proxy's address)"},
		{flag: "trusted-proxies", env: "ORGID_TRUSTED_PROXIES", def: "", str: &c.TrustedProxiesList, usage: "comma-separated IPs or CIDRs of reverse proxies / load balancers whose X-Forwarded-For names the client's address (for rate limits and logs); empty trusts none"},
	}
}

// StoreFlags are the settings that commands other than serve need to open
// the stores (migrate, apps, keys).
var StoreFlags = []string{"data-dir", "database-url", "master-key", "log-level", "log-format"}

// Defaults returns the configuration from getenv and built-in defaults alone.
func Defaults(getenv func(string) string) (Config, error) {
	var c Config
	c.NewFlagSet("defaults", []string{}, getenv, io.Discard)
	return c, c.Validate()
}

// NewFlagSet returns a flag set for command name that fills c. Every
// setting gets its default (from getenv, else built in); only the named
// settings (all when names is nil) can be changed with flags.
func (c *Config) NewFlagSet(name string, names []string, getenv func(string) string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	var listed []option
	for _, o := range c.options() {
		def := o.def
		if v := getenv(o.env); v != "" {
			def = v
		}
		usage := o.usage + " [$" + o.env + "]"
		named := names == nil || contains(names, o.flag)
		switch {
		case o.str != nil:
			*o.str = def
			if named {
				fs.StringVar(o.str, o.flag, def, usage)
			}
		case o.num != nil:
			n, err := strconv.Atoi(def)
			if err != nil {
				n, _ = strconv.Atoi(o.def)
				c.badEnv = append(c.badEnv, fmt.Sprintf("%s=%q is not a number", o.env, def))
			}
			*o.num = n
			if named {
				fs.IntVar(o.num, o.flag, n, usage)
			}
		default:
			d, err := time.ParseDuration(def)
			if err != nil {
				// Reported by Validate; keep the built-in default meanwhile.
				d, _ = time.ParseDuration(o.def)
				c.badEnv = append(c.badEnv, fmt.Sprintf("%s=%q is not a duration", o.env, def))
			}
			*o.dur = d
			if named {
				fs.DurationVar(o.dur, o.flag, d, usage)
			}
		}
		if named {
			listed = append(listed, o)
		}
	}
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: orgid %s [flags]\n\nEvery flag can also be set with the environment variable in brackets.\n\n", name)
		for _, o := range listed {
			def := o.def
			if o.secret {
				def = ""
			}
			if def != "" {
				fmt.Fprintf(out, "  --%s (default %q)\n", o.flag, def)
			} else {
				fmt.Fprintf(out, "  --%s\n", o.flag)
			}
			fmt.Fprintf(out, "      %s [$%s]\n", o.usage, o.env)
		}
	}
	return fs
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Validate fills derived defaults and reports every problem at once.
func (c *Config) Validate() error {
	problems := append([]string(nil), c.badEnv...)
	if c.ExternalURL == "" {
		c.ExternalURL = "http://" + c.Addr
		// A wildcard listen address is no place a browser can go: the
		// default issuer uses loopback, and production sets the URL.
		if host, port, err := net.SplitHostPort(c.Addr); err == nil {
			if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
				c.ExternalURL = "http://" + net.JoinHostPort("127.0.0.1", port)
				c.Warnings = append(c.Warnings, fmt.Sprintf(
					"listening on %s without ORGID_EXTERNAL_URL: issuers are %s/t/{tenant}, reachable only from this machine; set ORGID_EXTERNAL_URL to the public URL", c.Addr, c.ExternalURL))
			}
		}
	}
	c.ExternalURL = strings.TrimSuffix(c.ExternalURL, "/")
	if u, err := url.Parse(c.ExternalURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		problems = append(problems, fmt.Sprintf("ORGID_EXTERNAL_URL %q must be an absolute http(s) URL without query or fragment", c.ExternalURL))
	}
	problems = append(problems, c.validateMail()...)
	problems = append(problems, c.validateLimits()...)
	if (c.BootstrapClientID == "") != (c.BootstrapClientSecret == "") {
		problems = append(problems, "ORGID_BOOTSTRAP_CLIENT_ID and ORGID_BOOTSTRAP_CLIENT_SECRET must be set together")
	}
	if c.BootstrapClientSecret != "" && len(c.BootstrapClientSecret) < 32 {
		problems = append(problems, "ORGID_BOOTSTRAP_CLIENT_SECRET must be at least 32 characters")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		problems = append(problems, fmt.Sprintf("ORGID_LOG_LEVEL %q must be debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "auto", "text", "json":
	default:
		problems = append(problems, fmt.Sprintf("ORGID_LOG_FORMAT %q must be auto, text or json", c.LogFormat))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"ORGID_ACCESS_TOKEN_TTL", c.AccessTokenTTL}, {"ORGID_ID_TOKEN_TTL", c.IDTokenTTL},
		{"ORGID_REFRESH_TOKEN_TTL", c.RefreshTokenTTL}, {"ORGID_CODE_TTL", c.CodeTTL},
		{"ORGID_AUTH_REQUEST_TTL", c.AuthRequestTTL}, {"ORGID_SESSION_TTL", c.SessionTTL},
		{"ORGID_SHUTDOWN_TIMEOUT", c.ShutdownTimeout},
		{"ORGID_STORE_TIMEOUT", c.StoreTimeout},
		{"ORGID_USAGE_FLUSH_INTERVAL", c.UsageFlushInterval},
	} {
		if d.v <= 0 {
			problems = append(problems, d.name+" must be positive")
		}
	}
	if c.IDTokenMaxOrgs < 1 {
		problems = append(problems, "ORGID_ID_TOKEN_MAX_ORGS must be at least 1")
	}
	switch c.AccessTokenAlg {
	case "ES256", "RS256", "EdDSA":
	default:
		problems = append(problems, fmt.Sprintf("ORGID_ACCESS_TOKEN_ALG %q must be ES256, RS256 or EdDSA", c.AccessTokenAlg))
	}
	if len(problems) > 0 {
		return errors.New("invalid configuration:\n  " + strings.Join(problems, "\n  "))
	}
	return nil
}

// validateMail checks the SMTP URL (its scheme and host: the password is
// never quoted) and fills in and checks the sender address. It runs after
// the external URL is settled.
func (c *Config) validateMail() []string {
	var problems []string
	if c.SMTPURL != "" {
		u, err := url.Parse(c.SMTPURL)
		switch {
		case err != nil:
			// url.Parse's error quotes the URL, password and all.
			problems = append(problems, "ORGID_SMTP_URL is not a valid URL; want smtp://[user:password@]host[:port] or smtps://…")
		case u.Scheme != "smtp" && u.Scheme != "smtps":
			problems = append(problems, fmt.Sprintf("ORGID_SMTP_URL scheme %q must be smtp (STARTTLS when offered) or smtps (implicit TLS)", u.Scheme))
		case u.Hostname() == "":
			problems = append(problems, "ORGID_SMTP_URL names no host")
		case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
			problems = append(problems, "ORGID_SMTP_URL must have no path, query or fragment")
		}
	}
	if c.MailFrom == "" {
		host := "localhost"
		if u, err := url.Parse(c.ExternalURL); err == nil && u.Hostname() != "" && !strings.Contains(u.Hostname(), ":") {
			host = u.Hostname()
		}
		c.MailFrom = "orgid <no-reply@" + host + ">"
	}
	if _, err := mail.ParseAddress(c.MailFrom); err != nil {
		problems = append(problems, fmt.Sprintf("ORGID_MAIL_FROM %q is not an email address: %v", c.MailFrom, err))
	}
	return problems
}

// Secure reports whether the external URL is https (Secure cookies, HSTS).
func (c *Config) Secure() bool { return strings.HasPrefix(c.ExternalURL, "https://") }
