package login

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/orgid/orgid/internal/password"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

const msgEmailTaken = "An account with this email already exists."

// errEmailTaken is CreateUser's ErrAlreadyExists, told apart from any
// other conflict inside the sign-up transaction.
var errEmailTaken = errors.New("login: email taken")

// getSignup serves GET /signup?authRequestID=….
func (h *Handler) getSignup(w http.ResponseWriter, r *http.Request) {
	f, ok := h.pendingFlow(w, r)
	if !ok {
		return
	}
	h.renderSignup(w, r, http.StatusOK, f, signupForm{}, nil)
}

// postSignup serves POST /signup: it creates the user (and their personal
// organization), mails them the link that verifies their email, and signs
// them in.
func (h *Handler) postSignup(w http.ResponseWriter, r *http.Request) {
	f, ok := h.pendingFlow(w, r)
	if !ok {
		return
	}
	form, errs := parseSignupForm(r.PostForm)
	if len(errs) > 0 {
		h.renderSignup(w, r, http.StatusUnprocessableEntity, f, form, errs)
		return
	}
	ctx := r.Context()
	tenantID := f.tenant.ID
	// Checked before the costly hash; the transaction checks again.
	_, err := h.cfg.Store.GetUserByEmail(ctx, tenantID, form.Email)
	switch {
	case err == nil:
		h.renderSignup(w, r, http.StatusUnprocessableEntity, f, form, fieldErrors{fieldEmail: msgEmailTaken})
		return
	case !errors.Is(err, storage.ErrNotFound):
		h.fail(w, r, "look up user", err, "tenant", tenantID)
		return
	}
	hash, err := password.Hash(form.Password)
	if err != nil {
		h.fail(w, r, "hash password", err)
		return
	}
	user, err := h.createAccount(ctx, f.tenant, form, hash, f.ar.ID)
	if errors.Is(err, errEmailTaken) {
		h.renderSignup(w, r, http.StatusUnprocessableEntity, f, form, fieldErrors{fieldEmail: msgEmailTaken})
		return
	}
	if err != nil {
		h.fail(w, r, "create account", err, "tenant", tenantID)
		return
	}
	h.log.InfoContext(ctx, "login: account created", "tenant", tenantID, "user", user.ID)
	h.afterPassword(w, r, f, user)
}

// createAccount writes the user and, when the tenant wants one, their
// personal organization with them as owner, and queues the mail with the
// link that verifies their email, all in one transaction. The email stays
// unverified until the link is followed; the link leads back to the
// sign-in of authRequestID.
func (h *Handler) createAccount(ctx context.Context, tenant storage.Tenant, form signupForm, hash, authRequestID string) (storage.User, error) {
	now := h.cfg.Now().UTC()
	user := newAccount(tenant.ID, form, hash, now)
	err := h.cfg.Store.WithTx(ctx, func(tx storage.Store) error {
		if err := insertAccount(ctx, tx, tenant, user); err != nil {
			return err
		}
		return h.sendVerification(ctx, tx, tenant, user, authRequestID, now)
	})
	return user, err
}

// newAccount is the user a registration creates, its email unverified.
func newAccount(tenantID string, form signupForm, hash string, now time.Time) storage.User {
	return storage.User{
		TenantID:      tenantID,
		ID:            secure.ID("usr"),
		Email:         form.Email,
		EmailVerified: false,
		Name:          form.Name,
		PasswordHash:  hash,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
}

// insertAccount writes user and, when the tenant wants one, their
// personal organization with them as owner, through tx. errEmailTaken
// when the email has an account already.
func insertAccount(ctx context.Context, tx storage.Store, tenant storage.Tenant, user storage.User) error {
	if err := tx.CreateUser(ctx, user); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return errEmailTaken
		}
		return err
	}
	if !tenant.Settings.PersonalOrganization {
		return nil
	}
	org := personalOrganization(tenant.ID, user.Name, user.CreatedAt)
	if err := tx.CreateOrganization(ctx, org); err != nil {
		return err
	}
	return tx.AddMembership(ctx, storage.Membership{
		TenantID:       tenant.ID,
		OrganizationID: org.ID,
		UserID:         user.ID,
		Roles:          []string{storage.RoleOwner},
		JoinedAt:       user.CreatedAt,
	})
}

// personalOrganization is the organization a new user owns. Its slug is
// random: names repeat, and a slug must be unique in the tenant.
func personalOrganization(tenantID, name string, now time.Time) storage.Organization {
	orgName := "Personal organization"
	if name != "" {
		orgName = name + "'s organization"
	}
	return storage.Organization{
		TenantID:   tenantID,
		ID:         secure.ID("org"),
		Name:       orgName,
		Slug:       "personal-" + secure.ID(""),
		CustomData: json.RawMessage(`{}`),
		MFAPolicy:  "configured",
		ProviderID: secure.ID("prv"),
		CreatedAt:  now,
	}
}

func (h *Handler) renderSignup(w http.ResponseWriter, r *http.Request, status int, f *flow, form signupForm, errs fieldErrors) {
	focus := fieldEmail
	for _, field := range []string{fieldEmail, fieldPassword, fieldName} {
		if errs[field] != "" {
			focus = field
			break
		}
	}
	h.render(w, r, status, pageSignup, &pageData{
		Title:         pageTitle("Create account", f.app.Name),
		AppName:       f.app.Name,
		OrgName:       f.orgName(),
		OrgLogoURL:    f.orgLogo(),
		AuthRequestID: f.ar.ID,
		CSRF:          h.csrf.Token(w, r),
		Email:         form.Email,
		Name:          form.Name,
		Errors:        errs,
		EmailTaken:    errs[fieldEmail] == msgEmailTaken,
		Focus:         focus,
	}, redirectSource(f.ar.RedirectURI))
}
