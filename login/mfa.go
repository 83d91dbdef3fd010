package login

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/orgid/orgid/internal/mfa"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// Sealer seals TOTP secrets at rest and derives the recovery-code key
// from the master key; *keys.Sealer implements it.
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(sealed, aad []byte) ([]byte, error)
	DeriveKey(purpose string) []byte
}

// Authentication methods of the second factor (RFC 8176 §2).
//
// A TOTP code signs in with amr ["pwd", "otp", "mfa"]. A recovery code
// signs in with ["pwd", "mfa"]: it is a second factor (something the user
// has, printed), so "mfa" and acr urn:orgid:acr:mfa hold, but it is not
// an OTP device, and a relying party that wants proof of the
// authenticator app specifically can tell the two apart by "otp".
const (
	amrOTP = "otp"
	amrMFA = "mfa"
)

var (
	amrWithTOTP     = []string{amrPassword, amrOTP, amrMFA}
	amrWithRecovery = []string{amrPassword, amrMFA}
)

// recoveryKeyPurpose names the key that recovery-code hashes are keyed
// with (internal/mfa.HashRecoveryCode).
const recoveryKeyPurpose = "mfa/recovery"

// pendingTTL is how long a browser that gave the right password has to
// enter its second factor.
const pendingTTL = 10 * time.Minute

const pendingCookie = "orgid_mfa"

// totpAAD binds a sealed TOTP secret to its user (internal/mfa doc).
func totpAAD(tenantID, userID string) []byte {
	return []byte("orgid/totp/" + tenantID + "/" + userID)
}

// requiresMFA says the client asked for the MFA context class
// (acr_values, OIDC Core §3.1.2.1). acr_values is a voluntary claim
// request, but orgid treats its own MFA class as required: that is how a
// client (and an organization's "verified" policy) gets a sign-in that
// used the second factor.
func requiresMFA(ar *storage.AuthRequest) bool {
	return slices.Contains(ar.ACRValues, acrMFA)
}

// mfaDemand is what a sign-in must do about the second factor.
type mfaDemand int

const (
	mfaNotDemanded mfaDemand = iota
	// mfaEnrol: the user must have a confirmed factor, and has none. The
	// organization of an organization= sign-in has mfa_required.
	mfaEnrol
	// mfaInSignIn: the sign-in must use the factor (acr_values, or the
	// organization's "verified" policy); a user without one enrols first.
	mfaInSignIn
)

// orgMFAPolicyVerified is the organization MFA policy that wants the
// factor used in the sign-in, not only enrolled (DESIGN §3).
const orgMFAPolicyVerified = "verified"

// mfaDemanded says what the sign-in of userID for f must do about the
// second factor. An organization= sign-in asks what the organization's
// token refusals (DESIGN §3) would otherwise refuse at the code exchange:
// with mfa_required a member enrols first, and under the "verified"
// policy gives the factor in this sign-in. A non-member hears nothing of
// the policy: complete turns them back like any non-member.
func (h *Handler) mfaDemanded(ctx context.Context, f *flow, userID string) (mfaDemand, error) {
	if requiresMFA(f.ar) {
		return mfaInSignIn, nil
	}
	if f.org == nil || !f.org.MFARequired {
		return mfaNotDemanded, nil
	}
	access, err := h.cfg.Store.GetMemberAccess(ctx, f.tenant.ID, f.org.ID, userID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return mfaNotDemanded, nil
	case err != nil:
		return mfaNotDemanded, err
	case !access.Organization.MFARequired:
		return mfaNotDemanded, nil
	case access.Organization.MFAPolicy == orgMFAPolicyVerified:
		return mfaInSignIn, nil
	case !access.UserMFAEnabled:
		return mfaEnrol, nil
	}
	return mfaNotDemanded, nil
}

// usedMFA says a session's sign-in used a second factor.
func usedMFA(sess *storage.Session) bool {
	return acrFor(sess.AMR) == acrMFA
}

// mfaPending is a sign-in half done: the password (or an earlier
// password-only session) was right and the second factor is due. It lives
// only in the ephemeral store, under the hash of a random token that the
// browser holds in a cookie; nothing the browser sends says who it is.
type mfaPending struct {
	TenantID      string    `json:"tenant_id"`
	UserID        string    `json:"user_id"`
	AuthRequestID string    `json:"auth_request_id"`
	CreatedAt     time.Time `json:"created_at"`
}

func pendingKey(tenantID, token string) string {
	sum := sha256.Sum256([]byte(token))
	return "t/" + tenantID + "/mfa-pending/" + hex.EncodeToString(sum[:])
}

// pendingCookieName is per tenant, like the session cookie, so that
// sign-ins to two tenants in one browser do not undo each other.
func (h *Handler) pendingCookieName(tenantID string) string {
	if h.secure {
		return "__Host-" + pendingCookie + "_" + tenantID
	}
	return pendingCookie + "_" + tenantID
}

// startPending records that userID must give a second factor for the auth
// request and sets the cookie that names the record.
func (h *Handler) startPending(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, userID string) error {
	token := secure.Token()
	p := mfaPending{TenantID: ar.TenantID, UserID: userID, AuthRequestID: ar.ID, CreatedAt: h.cfg.Now()}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := h.cfg.State.KV.Set(r.Context(), pendingKey(ar.TenantID, token), b, pendingTTL); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: h.pendingCookieName(ar.TenantID), Value: token, Path: "/", MaxAge: int(pendingTTL / time.Second),
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// pending returns the browser's half-done sign-in for ar and its token,
// or nil when there is none (no cookie, expired, or for another request).
func (h *Handler) pending(r *http.Request, ar *storage.AuthRequest) (*mfaPending, string, error) {
	ck, err := r.Cookie(h.pendingCookieName(ar.TenantID))
	if err != nil || len(ck.Value) != secure.TokenLen {
		return nil, "", nil
	}
	b, err := h.cfg.State.KV.Get(r.Context(), pendingKey(ar.TenantID, ck.Value))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	var p mfaPending
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, "", err
	}
	if p.TenantID != ar.TenantID || p.AuthRequestID != ar.ID || h.cfg.Now().After(p.CreatedAt.Add(pendingTTL)) {
		return nil, "", nil
	}
	return &p, ck.Value, nil
}

// endPending deletes the record and the cookie, once the second factor
// has been given.
func (h *Handler) endPending(w http.ResponseWriter, ctx context.Context, tenantID, token string) {
	if err := h.cfg.State.KV.Delete(ctx, pendingKey(tenantID, token)); err != nil {
		h.log.WarnContext(ctx, "login: delete pending MFA sign-in", "tenant", tenantID, "err", err)
	}
	http.SetCookie(w, &http.Cookie{Name: h.pendingCookieName(tenantID), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
}

// errBadCode is a wrong, replayed or unusable code: the user's fault.
var errBadCode = errors.New("login: code not accepted")

// checkTOTP verifies code against the user's confirmed factor and spends
// its time step with the store's compare-and-set, so that the same code
// is never accepted twice (RFC 6238 §5.2), not even by two concurrent
// requests. errBadCode for a wrong or replayed code.
func (h *Handler) checkTOTP(ctx context.Context, tenantID, userID, code string) error {
	f, err := h.cfg.Store.GetTOTP(ctx, tenantID, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return errBadCode
	}
	if err != nil {
		return err
	}
	if !f.Confirmed() {
		return errBadCode
	}
	secret, err := h.cfg.Sealer.Open(f.SecretSealed, totpAAD(tenantID, userID))
	if err != nil {
		return err // moved or tampered with: not the user's fault
	}
	step, ok := mfa.Verify(string(secret), code, h.cfg.Now(), f.LastStep)
	if !ok {
		return errBadCode
	}
	err = h.cfg.Store.UseTOTPStep(ctx, tenantID, userID, step)
	if errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound) {
		return errBadCode // a replay, or the factor was removed meanwhile
	}
	return err
}

// checkRecoveryCode spends one of the user's recovery codes.
func (h *Handler) checkRecoveryCode(ctx context.Context, tenantID, userID, code string) error {
	hash, ok := mfa.HashRecoveryCode(h.recoveryKey, code)
	if !ok {
		return errBadCode
	}
	err := h.cfg.Store.UseRecoveryCode(ctx, tenantID, userID, hash, h.cfg.Now())
	if errors.Is(err, storage.ErrNotFound) {
		return errBadCode
	}
	return err
}
