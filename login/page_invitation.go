package login

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/internal/jit"
	"github.com/orgid/orgid/internal/mfa"
	"github.com/orgid/orgid/internal/password"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// Invitation acceptance (DESIGN §3 "Invitations"). The link in the
// invitation mail opens GET /invitation?token=…, which offers one of three
// ways to join, always as the invited email (it comes from the invitation,
// never from the form):
//   - signed in with that email: one click, "Accept invitation";
//   - not signed in, an account with that email exists: sign in (password,
//     and the second factor when the user has one);
//   - no such account: create it. Registering through the link counts as
//     a verified email, as the link reached that mailbox.
//
// Signed in with another email, the page refuses (403) rather than join
// the wrong account. Used, revoked, expired or replaced links get a 410
// page. Joining is one transaction: the invitation's compare-and-set
// acceptance (so a link joins once), the membership, the verified email,
// just-in-time provisioning and the audit entry.

// Invitation page modes, also the form's action field.
const (
	invitationAccept = "accept"
	invitationSignIn = "signin"
	invitationSignUp = "signup"
)

// errInvitationGone: the invitation was accepted, revoked, renewed or
// expired between the page and its form.
var errInvitationGone = errors.New("login: invitation no longer acceptable")

const msgBadInvitationCredentials = "The password or verification code is not right."

// invite is what the acceptance page works on: a link to an invitation
// that can still be accepted.
type invite struct {
	tenant storage.Tenant
	inv    storage.Invitation
	org    storage.Organization
	token  string
	hash   []byte
}

// invitationState is who the browser is, for the invitation: signed in as
// the invitee (accept), or not signed in and the invitee has an account
// (signin) or not (signup). user is the invitee's account, if any.
type invitationState struct {
	mode  string
	user  storage.User
	found bool
}

// loadInvitation finds the acceptable invitation of v's token; ok is
// false when the answer (410, or an error page) has been written.
func (h *Handler) loadInvitation(w http.ResponseWriter, r *http.Request, v url.Values) (*invite, bool) {
	ctx := r.Context()
	tenant, ok := h.requestTenant(w, r)
	if !ok {
		return nil, false
	}
	token := linkToken(v)
	if token == "" {
		h.invitationGone(w, r, storage.InvitationStatus(""))
		return nil, false
	}
	hash := secure.Hash(token)
	inv, org, err := h.cfg.Store.GetInvitationByToken(ctx, tenant.ID, hash)
	if errors.Is(err, storage.ErrNotFound) {
		h.invitationGone(w, r, storage.InvitationStatus(""))
		return nil, false
	}
	if err != nil {
		h.fail(w, r, "load invitation", err, "tenant", tenant.ID)
		return nil, false
	}
	if st := inv.StatusAt(h.cfg.Now()); st != storage.InvitationPending {
		h.invitationGone(w, r, st)
		return nil, false
	}
	return &invite{tenant: tenant, inv: inv, org: org, token: token, hash: hash}, true
}

// invitationGone answers a link that can no longer be accepted with 410
// Gone and what happened to it; status "" is an unknown link, or one that
// a resend replaced.
func (h *Handler) invitationGone(w http.ResponseWriter, r *http.Request, status storage.InvitationStatus) {
	switch status {
	case storage.InvitationAccepted:
		h.message(w, r, http.StatusGone, "Invitation already used",
			"This invitation has already been used. If it was you, sign in through your application to reach the organization.", nil)
	case storage.InvitationRevoked:
		h.message(w, r, http.StatusGone, "Invitation revoked",
			"This invitation has been revoked. Ask the person who invited you for a new one.", nil)
	case storage.InvitationExpired:
		h.message(w, r, http.StatusGone, "Invitation expired",
			"This invitation has expired. Ask the person who invited you to send it again.", nil)
	default:
		h.message(w, r, http.StatusGone, "Invitation link no longer valid",
			"This invitation link is no longer valid. If you were sent a newer invitation, use the link in that email; otherwise ask the person who invited you to send it again.", nil)
	}
}

// state works out who the browser is for iv. A browser signed in as
// someone else is refused with 403 (ok false, answer written): joining
// must not land on the wrong account, and the invitation stays pending.
func (h *Handler) invitationState(w http.ResponseWriter, r *http.Request, iv *invite) (invitationState, bool) {
	ctx := r.Context()
	tenantID := iv.tenant.ID
	sess, _, err := h.currentSession(w, r, tenantID)
	if err != nil {
		h.fail(w, r, "load session", err, "tenant", tenantID)
		return invitationState{}, false
	}
	if sess != nil {
		user, err := h.cfg.Store.GetUser(ctx, tenantID, sess.UserID)
		if err != nil {
			h.fail(w, r, "load user", err, "tenant", tenantID)
			return invitationState{}, false
		}
		if !strings.EqualFold(user.Email, iv.inv.Email) {
			h.log.InfoContext(ctx, "login: invitation opened by another account", "tenant", tenantID, "invitation", iv.inv.ID, "user", user.ID)
			h.message(w, r, http.StatusForbidden, "This invitation is for someone else",
				"This invitation is for "+iv.inv.Email+"; you are signed in as "+user.Email+
					". Sign out, then open the link in the invitation again to join as "+iv.inv.Email+".", nil)
			return invitationState{}, false
		}
		return invitationState{mode: invitationAccept, user: user, found: true}, true
	}
	user, err := h.cfg.Store.GetUserByEmail(ctx, tenantID, iv.inv.Email)
	switch {
	case err == nil:
		return invitationState{mode: invitationSignIn, user: user, found: true}, true
	case errors.Is(err, storage.ErrNotFound):
		return invitationState{mode: invitationSignUp}, true
	}
	h.fail(w, r, "look up user", err, "tenant", tenantID)
	return invitationState{}, false
}

// getInvitation serves GET /invitation?token=…. Opening the page changes
// nothing: joining takes the form's POST.
func (h *Handler) getInvitation(w http.ResponseWriter, r *http.Request) {
	iv, ok := h.loadInvitation(w, r, r.URL.Query())
	if !ok {
		return
	}
	st, ok := h.invitationState(w, r, iv)
	if !ok {
		return
	}
	h.renderInvitation(w, r, iv, st, http.StatusOK, "", nil, "")
}

// postInvitation serves POST /invitation: the form of the page's mode.
// A form of another mode (the browser signed in or out meanwhile) shows
// the page as it is now.
func (h *Handler) postInvitation(w http.ResponseWriter, r *http.Request) {
	if !h.readForm(w, r) {
		return
	}
	iv, ok := h.loadInvitation(w, r, r.PostForm)
	if !ok {
		return
	}
	st, ok := h.invitationState(w, r, iv)
	if !ok {
		return
	}
	if r.PostForm.Get("action") != st.mode {
		h.renderInvitation(w, r, iv, st, http.StatusOK, "", nil, "")
		return
	}
	switch st.mode {
	case invitationAccept:
		h.joinSignedIn(w, r, iv, st.user)
	case invitationSignIn:
		h.joinWithSignIn(w, r, iv, st)
	case invitationSignUp:
		h.joinWithSignUp(w, r, iv, st)
	}
}

// joinSignedIn accepts for the signed-in invitee.
func (h *Handler) joinSignedIn(w http.ResponseWriter, r *http.Request, iv *invite, user storage.User) {
	ctx := r.Context()
	err := h.cfg.Store.WithTx(ctx, func(tx storage.Store) error {
		return h.acceptInvitation(ctx, tx, iv, user)
	})
	if !h.joined(w, r, iv, user, err) {
		return
	}
	h.joinedPage(w, r, iv)
}

// joinWithSignIn signs the invitee in, under the same failure limits as
// the sign-in form, and accepts.
func (h *Handler) joinWithSignIn(w http.ResponseWriter, r *http.Request, iv *invite, st invitationState) {
	ctx := r.Context()
	tenantID := iv.tenant.ID
	limits := h.signInLimits(r, iv.inv.Email)
	blocked, wait, err := h.limited(ctx, tenantID, limits)
	if err != nil {
		h.fail(w, r, "read sign-in counters", err, "tenant", tenantID)
		return
	}
	if blocked {
		h.log.WarnContext(ctx, "login: invitation sign-in rate limited", "tenant", tenantID, "ip", limits[1].subject)
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
		h.renderInvitation(w, r, iv, st, http.StatusTooManyRequests,
			"Too many failed sign-in attempts. Try again in "+retryAfterText(wait)+".", nil, "")
		return
	}
	plain := r.PostForm.Get(fieldPassword)
	if plain == "" {
		h.renderInvitation(w, r, iv, st, http.StatusUnprocessableEntity, "", fieldErrors{fieldPassword: "Enter your password."}, "")
		return
	}
	user := st.user
	ok := h.checkPassword(r, user, st.found, plain)
	amr := []string{amrPassword}
	if ok && user.MFAEnabled {
		code := strings.TrimSpace(r.PostForm.Get(fieldCode))
		if _, isRecovery := mfa.HashRecoveryCode(h.recoveryKey, code); isRecovery {
			amr = amrWithRecovery
			err = h.checkRecoveryCode(ctx, tenantID, user.ID, code)
		} else {
			amr = amrWithTOTP
			err = h.checkTOTP(ctx, tenantID, user.ID, code)
		}
		switch {
		case errors.Is(err, errBadCode):
			ok = false
		case err != nil:
			h.fail(w, r, "check second factor", err, "tenant", tenantID, "user", user.ID)
			return
		}
	}
	if !ok {
		if err := h.recordFailure(ctx, tenantID, limits); err != nil {
			h.fail(w, r, "count failed sign-in", err, "tenant", tenantID)
			return
		}
		h.log.InfoContext(ctx, "login: invitation sign-in failed", "tenant", tenantID, "invitation", iv.inv.ID, "ip", limits[1].subject)
		h.renderInvitation(w, r, iv, st, http.StatusOK, msgBadInvitationCredentials, nil, "")
		return
	}
	err = h.cfg.Store.WithTx(ctx, func(tx storage.Store) error {
		return h.acceptInvitation(ctx, tx, iv, user)
	})
	if !h.joined(w, r, iv, user, err) {
		return
	}
	if !h.signInAfterJoin(w, r, iv, user.ID, amr) {
		return
	}
	h.joinedPage(w, r, iv)
}

// joinWithSignUp creates the invitee's account (and personal
// organization, as sign-up does) with the email verified, and accepts, in
// one transaction.
func (h *Handler) joinWithSignUp(w http.ResponseWriter, r *http.Request, iv *invite, st invitationState) {
	ctx := r.Context()
	tenantID := iv.tenant.ID
	form := signupForm{
		Email:    iv.inv.Email,
		Password: r.PostForm.Get(fieldPassword),
		Name:     strings.TrimSpace(r.PostForm.Get(fieldName)),
	}
	errs := fieldErrors{}
	if msg := checkPassword(form.Password); msg != "" {
		errs[fieldPassword] = msg
	}
	if msg := checkName(form.Name); msg != "" {
		errs[fieldName] = msg
	}
	if len(errs) > 0 {
		h.renderInvitation(w, r, iv, st, http.StatusUnprocessableEntity, "", errs, form.Name)
		return
	}
	hash, err := password.Hash(form.Password)
	if err != nil {
		h.fail(w, r, "hash password", err)
		return
	}
	now := h.cfg.Now().UTC()
	user := newAccount(tenantID, form, hash, now)
	user.EmailVerified = true // the link reached the mailbox
	err = h.cfg.Store.WithTx(ctx, func(tx storage.Store) error {
		if err := insertAccount(ctx, tx, iv.tenant, user); err != nil {
			return err
		}
		return h.acceptInvitation(ctx, tx, iv, user)
	})
	if errors.Is(err, errEmailTaken) {
		// Registered meanwhile (another tab): the page now signs in.
		st = invitationState{mode: invitationSignIn}
		if u, err := h.cfg.Store.GetUserByEmail(ctx, tenantID, iv.inv.Email); err == nil {
			st.user, st.found = u, true
		}
		h.renderInvitation(w, r, iv, st, http.StatusUnprocessableEntity, msgEmailTaken+" Sign in to join.", nil, "")
		return
	}
	if !h.joined(w, r, iv, user, err) {
		return
	}
	h.log.InfoContext(ctx, "login: account created through invitation", "tenant", tenantID, "user", user.ID)
	if !h.signInAfterJoin(w, r, iv, user.ID, []string{amrPassword}) {
		return
	}
	h.joinedPage(w, r, iv)
}

// joined handles the outcome of an acceptance transaction; false when the
// answer (410, or an error page) has been written.
func (h *Handler) joined(w http.ResponseWriter, r *http.Request, iv *invite, user storage.User, err error) bool {
	if errors.Is(err, errInvitationGone) {
		h.invitationGone(w, r, storage.InvitationStatus(""))
		return false
	}
	if err != nil {
		h.fail(w, r, "accept invitation", err, "tenant", iv.tenant.ID, "invitation", iv.inv.ID)
		return false
	}
	h.log.InfoContext(r.Context(), "login: invitation accepted", "tenant", iv.tenant.ID, "invitation", iv.inv.ID,
		"organization", iv.org.ID, "user", user.ID)
	return true
}

// signInAfterJoin starts the session of a sign-in or registration on the
// invitation page and sets its cookie.
func (h *Handler) signInAfterJoin(w http.ResponseWriter, r *http.Request, iv *invite, userID string, amr []string) bool {
	sid, _, err := h.startSession(r.Context(), r, iv.tenant.ID, userID, h.cfg.Now(), amr)
	if err != nil {
		// The membership stands; only the sign-in is lost.
		h.fail(w, r, "start session", err, "tenant", iv.tenant.ID)
		return false
	}
	http.SetCookie(w, httpx.SessionCookie(iv.tenant.ID, sid, h.cfg.SessionTTL, h.secure))
	return true
}

// acceptInvitation makes user a member through tx: the invitation's
// compare-and-set (errInvitationGone when it no longer holds), the
// membership with the invited roles (added to the roles of a member
// already), the email verified, provisioning, the audit entry.
func (h *Handler) acceptInvitation(ctx context.Context, tx storage.Store, iv *invite, user storage.User) error {
	now := h.cfg.Now().UTC()
	tenantID, orgID := iv.tenant.ID, iv.org.ID
	err := tx.AcceptInvitation(ctx, tenantID, iv.inv.ID, iv.hash, user.ID, now)
	if errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound) {
		return errInvitationGone
	}
	if err != nil {
		return err
	}
	roles := append([]string{}, iv.inv.Roles...)
	m, err := tx.GetMembership(ctx, tenantID, orgID, user.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		err = tx.AddMembership(ctx, storage.Membership{
			TenantID: tenantID, OrganizationID: orgID, UserID: user.ID, Roles: roles, JoinedAt: now,
		})
	case err == nil:
		roles = slices.Compact(slices.Sorted(slices.Values(append(roles, m.Roles...))))
		err = tx.SetMemberRoles(ctx, tenantID, orgID, user.ID, roles)
	}
	if err != nil {
		return err
	}
	if !user.EmailVerified {
		if err := verifyEmail(ctx, tx, user, now); err != nil {
			return err
		}
	} else if _, err := jit.Provision(ctx, tx, user, now); err != nil {
		return err
	}
	details, err := json.Marshal(map[string]any{"invitation_id": iv.inv.ID, "user_id": user.ID, "roles": roles})
	if err != nil {
		return err
	}
	return tx.AppendAudit(ctx, storage.AuditEntry{
		TenantID:  tenantID,
		ID:        secure.ID("aud"),
		Actor:     user.ID,
		Action:    auditInvitationJoin,
		Target:    orgID,
		Details:   details,
		CreatedAt: now,
	})
}

func (h *Handler) joinedPage(w http.ResponseWriter, r *http.Request, iv *invite) {
	msg := "You are now a member of " + iv.org.Name
	if len(iv.inv.Roles) > 0 {
		msg += " (" + strings.Join(iv.inv.Roles, ", ") + ")"
	}
	msg += ". Applications you sign in to will show it with your other organizations."
	h.render(w, r, http.StatusOK, pageMessage, &pageData{
		Title:      "You joined " + iv.org.Name,
		Heading:    "You joined " + iv.org.Name,
		Message:    msg,
		OrgName:    iv.org.Name,
		OrgLogoURL: iv.org.LogoURL,
		// Onward to the organization in the portal, which signs in
		// through this same session.
		Link: &pageLink{
			Href: h.basePath + "/t/" + url.PathEscape(iv.tenant.ID) + "/portal/o/" + url.PathEscape(iv.org.Slug),
			Text: "Open " + iv.org.Name,
		},
	})
}

func (h *Handler) renderInvitation(w http.ResponseWriter, r *http.Request, iv *invite, st invitationState, status int, formError string, errs fieldErrors, name string) {
	d := &pageData{
		Title:      "Join " + iv.org.Name,
		Heading:    "Join " + iv.org.Name,
		OrgName:    iv.org.Name,
		OrgLogoURL: iv.org.LogoURL,
		Action:     h.localPath(iv.tenant.ID, "invitation"),
		CSRF:       h.csrf.Token(w, r),
		Token:      iv.token,
		Mode:       st.mode,
		Roles:      iv.inv.Roles,
		Email:      iv.inv.Email,
		Name:       name,
		Errors:     errs,
		FormError:  formError,
		Focus:      fieldPassword,
	}
	switch st.mode {
	case invitationAccept:
		d.Message = "You have been invited to join " + iv.org.Name + ". You are signed in as " + st.user.Email + "."
	case invitationSignIn:
		d.Message = "You have been invited to join " + iv.org.Name + ". Sign in as " + iv.inv.Email + " to accept."
		d.AskCode = st.user.MFAEnabled
	case invitationSignUp:
		d.Message = "You have been invited to join " + iv.org.Name + ". Create your account for " + iv.inv.Email + " to accept."
		if errs[fieldName] != "" || errs[fieldPassword] == "" {
			d.Focus = fieldName
		}
	}
	h.render(w, r, status, pageInvitation, d)
}
