package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// AuthRequest is an authorization request between /authorize and the code
// exchange. It lives in the ephemeral store.
type AuthRequest struct {
	ID                  string   `json:"id"`
	TenantID            string   `json:"tenant_id"`
	ClientID            string   `json:"client_id"`
	RedirectURI         string   `json:"redirect_uri"`
	ResponseType        string   `json:"response_type"`
	ResponseMode        string   `json:"response_mode,omitempty"`
	Scopes              []string `json:"scopes"`
	State               string   `json:"state,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	CodeChallenge       string   `json:"code_challenge,omitempty"`
	CodeChallengeMethod string   `json:"code_challenge_method,omitempty"`
	Prompt              []string `json:"prompt,omitempty"`
	MaxAge              *int64   `json:"max_age,omitempty"` // seconds
	LoginHint           string   `json:"login_hint,omitempty"`
	ACRValues           []string `json:"acr_values,omitempty"`
	UILocales           []string `json:"ui_locales,omitempty"`
	Resource            []string `json:"resource,omitempty"` // RFC 8707
	// OrganizationID is set by organization= on /authorize: only its
	// members may finish signing in, and the tokens are organization
	// tokens for it.
	OrganizationID string    `json:"organization_id,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	// GrantID is assigned when the request is created: the grant its code
	// starts, and the one a replayed code revokes.
	GrantID string `json:"grant_id"`

	// Filled in when sign-in completes.
	Done      bool      `json:"done,omitempty"`
	UserID    string    `json:"user_id,omitempty"`
	AuthTime  time.Time `json:"auth_time,omitempty"`
	AMR       []string  `json:"amr,omitempty"`
	ACR       string    `json:"acr,omitempty"`
	SessionID string    `json:"session_id,omitempty"`
	// Error, when set, is an OAuth error code (e.g. login_required) to send
	// back to the client instead of a code.
	Error            string `json:"error,omitempty"`
	ErrorDescription string `json:"error_description,omitempty"`

	// Redeemed marks a code entry whose code has been exchanged.
	Redeemed bool `json:"redeemed,omitempty"`
}

// Session is a signed-in browser (single sign-on). Its ID is the cookie value.
type Session struct {
	TenantID  string    `json:"tenant_id"`
	UserID    string    `json:"user_id"`
	AuthTime  time.Time `json:"auth_time"`
	AMR       []string  `json:"amr,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// State is the typed view of the ephemeral store that op and login use.
// Keys are scoped by tenant, and secrets (codes, session IDs) appear in keys
// only as SHA-256 hashes.
type State struct {
	KV Ephemeral
}

func tenantKey(tenantID, kind, id string) string {
	return "t/" + tenantID + "/" + kind + "/" + id
}

func secretKey(tenantID, kind, secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return tenantKey(tenantID, kind, hex.EncodeToString(sum[:]))
}

func (s State) putJSON(ctx context.Context, key string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("storage: encode %s: %w", key, err)
	}
	return s.KV.Set(ctx, key, b, ttl)
}

func getJSON[T any](ctx context.Context, kv Ephemeral, key string) (*T, error) {
	b, err := kv.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("storage: decode %s: %w", key, err)
	}
	return v, nil
}

// PutAuthRequest stores (or replaces) an auth request for ttl.
func (s State) PutAuthRequest(ctx context.Context, ar *AuthRequest, ttl time.Duration) error {
	return s.putJSON(ctx, tenantKey(ar.TenantID, "authreq", ar.ID), ar, ttl)
}

// AuthRequest returns the tenant's auth request id, or ErrNotFound.
func (s State) AuthRequest(ctx context.Context, tenantID, id string) (*AuthRequest, error) {
	return getJSON[AuthRequest](ctx, s.KV, tenantKey(tenantID, "authreq", id))
}

// DeleteAuthRequest removes an auth request.
func (s State) DeleteAuthRequest(ctx context.Context, tenantID, id string) error {
	return s.KV.Delete(ctx, tenantKey(tenantID, "authreq", id))
}

// PutCode stores the completed auth request under its authorization code.
func (s State) PutCode(ctx context.Context, code string, ar *AuthRequest, ttl time.Duration) error {
	b, err := json.Marshal(ar)
	if err != nil {
		return fmt.Errorf("storage: encode code: %w", err)
	}
	return s.KV.Create(ctx, secretKey(ar.TenantID, "code", code), b, ttl)
}

// ErrCodeRedeemed is returned by RedeemCode for a code that was already
// exchanged.
var ErrCodeRedeemed = errors.New("storage: code already redeemed")

// RedeemCode consumes an authorization code atomically: of two concurrent
// redemptions exactly one gets the auth request. grantID is the grant the
// code starts (op makes it part of the code, so that a replay knows which
// grant to revoke without a second round trip); the redeemed code is left
// as a tombstone for the rest of its time to live. A later redemption gets
// ErrCodeRedeemed; an unknown or expired code is ErrNotFound.
func (s State) RedeemCode(ctx context.Context, tenantID, code, grantID string) (*AuthRequest, error) {
	tomb, err := json.Marshal(AuthRequest{Redeemed: true, GrantID: grantID})
	if err != nil {
		return nil, err
	}
	old, err := s.KV.Swap(ctx, secretKey(tenantID, "code", code), tomb)
	if err != nil {
		return nil, err
	}
	ar := new(AuthRequest)
	if err := json.Unmarshal(old, ar); err != nil {
		return nil, fmt.Errorf("storage: decode code: %w", err)
	}
	if ar.Redeemed {
		return nil, ErrCodeRedeemed
	}
	return ar, nil
}

// PutSession stores a signed-in browser session under its ID for ttl.
func (s State) PutSession(ctx context.Context, id string, sess *Session, ttl time.Duration) error {
	return s.putJSON(ctx, secretKey(sess.TenantID, "session", id), sess, ttl)
}

// Session returns the tenant's session id, or ErrNotFound.
func (s State) Session(ctx context.Context, tenantID, id string) (*Session, error) {
	return getJSON[Session](ctx, s.KV, secretKey(tenantID, "session", id))
}

// DeleteSession ends a session.
func (s State) DeleteSession(ctx context.Context, tenantID, id string) error {
	return s.KV.Delete(ctx, secretKey(tenantID, "session", id))
}

// Hits adds delta to the tenant's counter name/subject (a fixed window of
// length window) and returns the count so far and when the window resets.
// delta 0 reads the counter.
func (s State) Hits(ctx context.Context, tenantID, name, subject string, delta int64, window time.Duration) (int64, time.Duration, error) {
	return s.KV.Incr(ctx, secretKey(tenantID, "rl/"+name, subject), delta, window)
}

// UseAssertionID records that a client assertion's jti (RFC 7523 §3,
// item 7) has been used by clientID, keeping the record for ttl (until the
// assertion expires). ErrAlreadyExists when it was used before: a replay.
// Create is atomic, so of two concurrent uses exactly one succeeds.
func (s State) UseAssertionID(ctx context.Context, tenantID, clientID, jti string, ttl time.Duration) error {
	return s.KV.Create(ctx, secretKey(tenantID, "jti", clientID+"\n"+jti), []byte("1"), ttl)
}

// IdentityNonce is a nonce for an identity token (DESIGN §3 "Identity
// tokens"), issued to one client. It is kept past ExpiresAt so that a late
// use is told "expired" rather than "unknown".
type IdentityNonce struct {
	ClientID  string    `json:"client_id"`
	ExpiresAt time.Time `json:"expires_at"`
	// Used marks a nonce that has been consumed.
	Used bool `json:"used,omitempty"`
}

// ErrNonceUsed is returned by UseIdentityNonce for a nonce consumed before.
var ErrNonceUsed = errors.New("storage: nonce already used")

// PutIdentityNonce stores a new nonce for ttl (which should outlast
// n.ExpiresAt). ErrAlreadyExists if the nonce exists.
func (s State) PutIdentityNonce(ctx context.Context, tenantID, nonce string, n IdentityNonce, ttl time.Duration) error {
	b, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("storage: encode nonce: %w", err)
	}
	return s.KV.Create(ctx, secretKey(tenantID, "idnonce", nonce), b, ttl)
}

// UseIdentityNonce consumes a nonce atomically, as RedeemCode does a code:
// of concurrent uses exactly one gets the nonce; the rest get ErrNonceUsed.
// A nonce that was never issued (or is long gone) is ErrNotFound. The
// caller checks ExpiresAt and ClientID: the nonce is spent either way.
func (s State) UseIdentityNonce(ctx context.Context, tenantID, nonce string) (IdentityNonce, error) {
	tomb, err := json.Marshal(IdentityNonce{Used: true})
	if err != nil {
		return IdentityNonce{}, err
	}
	old, err := s.KV.Swap(ctx, secretKey(tenantID, "idnonce", nonce), tomb)
	if err != nil {
		return IdentityNonce{}, err
	}
	var n IdentityNonce
	if err := json.Unmarshal(old, &n); err != nil {
		return IdentityNonce{}, fmt.Errorf("storage: decode nonce: %w", err)
	}
	if n.Used {
		return IdentityNonce{}, ErrNonceUsed
	}
	return n, nil
}
