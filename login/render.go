package login

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"

	"github.com/orgid/orgid/login/ui"
	"github.com/orgid/orgid/storage"
)

//go:embed templates
var templateFS embed.FS

// Page names.
const (
	pageLogin   = "login.html"
	pageSignup  = "signup.html"
	pageMessage = "message.html"

	pageMFA           = "mfa.html"
	pageRecovery      = "recovery.html"
	pageSecurity      = "security.html"
	pageRecoveryCodes = "recovery_codes.html"

	pageVerifyEmail   = "verify_email.html"
	pagePasswordReset = "password_reset.html"
	pageNewPassword   = "password_new.html"
	pageInvitation    = "invitation.html"
)

// pages holds one parsed template set per page, each on the shared card
// layout, or on the shell for the signed-in account pages.
type pages struct {
	byName map[string]*template.Template
}

func loadPages() (*pages, error) {
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range []string{
		pageLogin, pageSignup, pageMessage, pageMFA, pageRecovery, pageSecurity, pageRecoveryCodes,
		pageVerifyEmail, pagePasswordReset, pageNewPassword, pageInvitation,
	} {
		t, err := template.New(name).ParseFS(templateFS, "templates/layout.html", "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("login: parse %s: %w", name, err)
		}
		p.byName[name] = t
	}
	if err := parseShellPages(p.byName); err != nil {
		return nil, fmt.Errorf("login: parse account pages: %w", err)
	}
	return p, nil
}

// pageData is what every template sees. Fields a page does not use stay empty.
type pageData struct {
	Title    string
	StyleURL string
	LogoURL  string

	// Forms.
	AppName string
	// OrgName and OrgLogoURL show the organization of an organization=
	// sign-in (logos are https URLs, allowed by the CSP's img-src).
	OrgName       string
	OrgLogoURL    string
	AuthRequestID string
	CSRF          string
	Email         string
	Name          string
	Errors        fieldErrors
	FormError     string
	EmailTaken    bool
	Focus         string // the field that gets autofocus

	// Account security (TOTP enrolment).
	MFAEnabled    bool
	RecoveryLeft  int
	Secret        string   // the pending factor's secret, for typing in by hand
	QRURL         string   // same-origin image of the pending factor's key URI
	RecoveryCodes []string // shown once, after enrolment

	// Pages reached by a link from mail (verification, password reset,
	// invitation). Action is the form's action (an absolute path); Token
	// the link's secret, carried in a hidden field.
	Action    string
	Token     string
	CanResend bool     // offer to send the verification link again
	Mode      string   // invitation: invitationAccept, invitationSignIn or invitationSignUp
	Roles     []string // invitation: the roles offered
	AskCode   bool     // invitation sign-in: the user has a second factor

	// Message pages.
	Heading string
	Message string
	Alert   bool
	Link    *pageLink
}

type pageLink struct {
	Href string
	Text string
}

// render writes page with status. The page is rendered into a buffer first
// so that a template fault becomes a clean 500, not half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page string, d *pageData, formTargets ...string) {
	d.StyleURL = ui.AssetURL(h.basePath, "style.css")
	d.LogoURL = ui.AssetURL(h.basePath, "logo.svg")
	if err := ui.WritePage(w, h.pages.byName[page], "layout", status, d, formTargets...); err != nil {
		h.log.ErrorContext(r.Context(), "login: render page", "page", page, "err", err)
	}
}

// message renders a page that only says something.
func (h *Handler) message(w http.ResponseWriter, r *http.Request, status int, heading, msg string, link *pageLink) {
	h.render(w, r, status, pageMessage, &pageData{
		Title:   heading,
		Heading: heading,
		Message: msg,
		Alert:   status >= 400,
		Link:    link,
	})
}

// fail logs an internal error with its detail and shows the user a generic
// page: 503 when the backend is unreachable, 500 otherwise.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, what string, err error, attrs ...any) {
	args := append([]any{"err", err}, attrs...)
	if errors.Is(err, storage.ErrUnavailable) {
		h.log.WarnContext(r.Context(), "login: "+what, args...)
		w.Header().Set("Retry-After", "5")
		h.message(w, r, http.StatusServiceUnavailable, "Temporarily unavailable",
			"Sign-in is temporarily unavailable. Please try again in a moment.", nil)
		return
	}
	h.log.ErrorContext(r.Context(), "login: "+what, args...)
	h.message(w, r, http.StatusInternalServerError, "Something went wrong",
		"Something went wrong. Please try again.", nil)
}

// expired is the answer for an unknown or expired auth request.
func (h *Handler) expired(w http.ResponseWriter, r *http.Request) {
	h.message(w, r, http.StatusBadRequest, "Sign-in link expired",
		"This sign-in link has expired. Go back to the application and try again.", nil)
}

// noAuthRequest is the answer for /login or /signup opened directly.
func (h *Handler) noAuthRequest(w http.ResponseWriter, r *http.Request) {
	h.message(w, r, http.StatusBadRequest, "Start from your application",
		"To sign in, open the application you want to use and choose “Sign in” there. It will bring you back here.", nil)
}

// pageTitle is "what · app", or just what without an application name.
func pageTitle(what, app string) string {
	if app == "" {
		return what
	}
	return what + " · " + app
}
