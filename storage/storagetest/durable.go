package storagetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// RunStore runs the conformance suite for storage.Store against the backend
// that newStore makes. newStore is called once per subtest and must return
// an empty store (no tenants); it should register its own cleanup with
// t.Cleanup.
func RunStore(t *testing.T, newStore func(t *testing.T) storage.Store) {
	groups := [][]durableTest{
		durableTenantTests,
		durableUserTests,
		durableUserChangeTests,
		durableOrganizationTests,
		durableOrganizationChangeTests,
		durableMembershipTests,
		durableMemberTests,
		durableMFATests,
		durableIdentityTests,
		durableMailTests,
		durableEmailTokenTests,
		durableJITTests,
		durableInvitationTests,
		durableBillingTests,
		durableUsageTests,
		durableOnboardingExpiryTests,
		durableTemplateTests,
		durableAuditTests,
		durablePageTests,
		durableApplicationTests,
		durableAppLinkTests,
		durableGrantTests,
		durableSigningKeyTests,
		durableRefreshTokenTests,
		durableRevocationTests,
		durableTxTests,
		durableMiscTests,
	}
	for _, g := range groups {
		for _, tc := range g {
			t.Run(tc.name, func(t *testing.T) {
				tc.run(t, newStore(t))
			})
		}
	}
}

type durableTest struct {
	name string
	run  func(t *testing.T, s storage.Store)
}

// durT0 is the suite's "now": a fixed instant with microsecond precision,
// the finest every backend must keep. Tests move time by adding to it;
// none waits for real time to pass.
var durT0 = time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)

// durRacers is how many goroutines contend in the concurrency tests.
const durRacers = 8

// durRace runs fn(i) on durRacers goroutines released at once and returns
// their errors.
func durRace(fn func(i int) error) []error {
	errs := make([]error, durRacers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range durRacers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// durOneWinner checks that exactly one of errs is nil and every other one
// is loser.
func durOneWinner(t *testing.T, errs []error, loser error) {
	t.Helper()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, loser):
			t.Errorf("loser got %v, want %v", err, loser)
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d concurrent callers succeeded, want exactly 1", wins, len(errs))
	}
}

func durMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// durWantErr checks that err wraps want.
func durWantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

// durSame fails unless got and want are equal once normalized (see durNorm).
func durSame(t *testing.T, what string, got, want any) {
	t.Helper()
	g, w := durNorm(reflect.ValueOf(got)), durNorm(reflect.ValueOf(want))
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

var (
	durTimeType = reflect.TypeFor[time.Time]()
	durRawType  = reflect.TypeFor[json.RawMessage]()
)

// durNorm returns a copy of v in which what a backend may legitimately
// change on a round trip is made canonical: times become UTC instants,
// empty slices nil, JSON documents re-encoded with sorted keys.
func durNorm(v reflect.Value) any {
	out := reflect.New(v.Type()).Elem()
	durNormInto(out, v)
	return out.Interface()
}

func durNormInto(dst, src reflect.Value) {
	switch {
	case src.Type() == durTimeType:
		tm := src.Interface().(time.Time)
		if !tm.IsZero() {
			tm = time.UnixMicro(tm.UnixMicro()).UTC()
		}
		dst.Set(reflect.ValueOf(tm))
	case src.Type() == durRawType:
		dst.Set(reflect.ValueOf(json.RawMessage(durCanonicalJSON(src.Bytes()))))
	case src.Kind() == reflect.Struct:
		for i := range src.NumField() {
			durNormInto(dst.Field(i), src.Field(i))
		}
	case src.Kind() == reflect.Slice:
		if src.Len() == 0 {
			return // nil
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			durNormInto(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	default:
		dst.Set(src)
	}
}

// durCanonicalJSON re-encodes a JSON document; nil and "null" become "{}"
// (Organization.CustomData documents nil as {}).
func durCanonicalJSON(b []byte) []byte {
	if len(bytes.TrimSpace(b)) == 0 || string(bytes.TrimSpace(b)) == "null" {
		return []byte("{}")
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return b // compared as is; a mismatch will show
	}
	out, _ := json.Marshal(v)
	return out
}

// Fixtures. Each creates one record with every field set, fails the test
// when the store refuses it, and returns what it stored.

func durTenant(t *testing.T, s storage.Store, id string) storage.Tenant {
	t.Helper()
	tn := storage.Tenant{ID: id, Name: "Tenant " + id, Settings: storage.DefaultTenantSettings(), CreatedAt: durT0}
	durMust(t, s.CreateTenant(t.Context(), tn))
	return tn
}

func durUser(t *testing.T, s storage.Store, tenantID, id, email string) storage.User {
	t.Helper()
	u := storage.User{
		TenantID:      tenantID,
		ID:            id,
		Email:         email,
		EmailVerified: true,
		Name:          "User " + id,
		PasswordHash:  "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA",
		CreatedAt:     durT0,
		UpdatedAt:     durT0.Add(time.Minute),
	}
	durMust(t, s.CreateUser(t.Context(), u))
	return u
}

func durOrg(t *testing.T, s storage.Store, tenantID, id, slug string) storage.Organization {
	t.Helper()
	o := storage.Organization{
		TenantID:    tenantID,
		ID:          id,
		Name:        "Org " + id,
		Slug:        slug,
		Description: "the " + slug + " organization",
		LogoURL:     "https://cdn.example.test/" + slug + ".png",
		LogoDarkURL: "https://cdn.example.test/" + slug + "-dark.png",
		CustomData:  json.RawMessage(`{"plan":"pro","seats":3,"tags":["a","b"]}`),
		MFARequired: true,
		MFAPolicy:   "verified",
		ProviderID:  "prov-" + id,
		CreatedAt:   durT0,
	}
	durMust(t, s.CreateOrganization(t.Context(), o))
	return o
}

func durApp(t *testing.T, s storage.Store, tenantID, clientID string, created time.Time) storage.Application {
	t.Helper()
	a := storage.Application{
		TenantID:               tenantID,
		ClientID:               clientID,
		Name:                   "App " + clientID,
		Type:                   storage.AppWeb,
		SecretHash:             bytes.Repeat([]byte{0xab}, 32),
		RedirectURIs:           []string{"https://app.example.test/callback", "http://127.0.0.1:9999/cb"},
		PostLogoutRedirectURIs: []string{"https://app.example.test/"},
		OrganizationID:         "org-1",
		TenantRoles:            []string{storage.TenantRoleAdmin},
		IDTokenAlg:             "ES256",
		CreatedAt:              created,
	}
	durMust(t, s.CreateApplication(t.Context(), a))
	return a
}

func durKey(tenantID, id, alg string, state storage.KeyState, created time.Time) storage.SigningKey {
	return storage.SigningKey{
		TenantID:   tenantID,
		ID:         id,
		Algorithm:  alg,
		State:      state,
		PrivateKey: []byte("sealed:" + id + "\x00\xff"),
		PublicJWK:  []byte(`{"kty":"EC","kid":"` + id + `"}`),
		CreatedAt:  created,
	}
}

// durHash is a stand-in for the SHA-256 of a token value: 32 bytes,
// including ones that are not valid UTF-8.
func durHash(s string) []byte {
	h := make([]byte, 32)
	copy(h, s)
	h[31] = 0xff
	return h
}

func durToken(tenantID, hash, grantID string) storage.RefreshToken {
	return storage.RefreshToken{
		TenantID:  tenantID,
		TokenHash: durHash(hash),
		Grant: storage.Grant{
			ID:       grantID,
			ClientID: "client-1",
			UserID:   "user-1",
			Scopes:   []string{"openid", "offline_access", "organizations"},
			Audience: []string{"client-1", "https://api.example.test"},
			AuthTime: durT0.Add(-time.Minute),
			AMR:      []string{"pwd", "otp"},
			ACR:      "urn:orgid:acr:mfa",
			// Bound to an organization, so that every create, get and
			// rotation in the suite round-trips it.
			OrganizationID: "org-1",
		},
		CreatedAt: durT0,
		ExpiresAt: durT0.Add(30 * 24 * time.Hour),
	}
}
