package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"
)

// Kinds of message (storage.MailMessage.Kind).
const (
	KindVerifyEmail   = "verify_email"
	KindPasswordReset = "password_reset"
	KindInvitation    = "invitation"
)

//go:embed templates
var templateFS embed.FS

// Each kind has templates/{kind}.txt and templates/{kind}.html. In the
// text part a link is a plain absolute URL on a line of its own (DESIGN
// §5), so that every mail client makes it clickable and tests find it.
var (
	textTemplates = texttemplate.Must(texttemplate.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.txt"))
	htmlTemplates = htmltemplate.Must(htmltemplate.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html"))
)

var funcs = map[string]any{
	"join":  strings.Join,
	"date":  func(t time.Time) string { return t.UTC().Format("2 January 2006, 15:04 MST") },
	"hours": hours,
}

// LinkData fills a message that carries a single-use link to a user:
// verification and password reset.
type LinkData struct {
	TenantID string
	// Product names the sender: the tenant's name.
	Product string
	To      string
	Name    string
	Link    string
	// ValidFor is how long the link works.
	ValidFor time.Duration
}

// InvitationData fills the invitation message.
type InvitationData struct {
	TenantID         string
	Product          string
	To               string
	OrganizationName string
	// InviterName names who invited: a user's name or email, or an
	// application's name.
	InviterName string
	Roles       []string
	Link        string
	ExpiresAt   time.Time
}

// VerifyEmail renders the message that verifies an address.
func VerifyEmail(d LinkData) (Message, error) {
	return render(KindVerifyEmail, d.TenantID, d.To, "Verify your email address for "+d.Product, d)
}

// PasswordReset renders the message that resets a password.
func PasswordReset(d LinkData) (Message, error) {
	return render(KindPasswordReset, d.TenantID, d.To, "Reset your "+d.Product+" password", d)
}

// Invitation renders the message that invites into an organization.
func Invitation(d InvitationData) (Message, error) {
	return render(KindInvitation, d.TenantID, d.To, d.InviterName+" invited you to join "+d.OrganizationName, d)
}

func render(kind, tenantID, to, subject string, data any) (Message, error) {
	var text, html bytes.Buffer
	if err := textTemplates.ExecuteTemplate(&text, kind+".txt", data); err != nil {
		return Message{}, fmt.Errorf("mail: render %s text: %w", kind, err)
	}
	if err := htmlTemplates.ExecuteTemplate(&html, kind+".html", data); err != nil {
		return Message{}, fmt.Errorf("mail: render %s html: %w", kind, err)
	}
	return Message{TenantID: tenantID, To: headerSafe(to), Subject: headerSafe(subject), Kind: kind, Text: text.String(), HTML: html.String()}, nil
}

// headerSafe turns control characters (CR and LF above all) into spaces:
// subjects and recipients come partly from users (names of organizations
// and inviters) and end up in mail headers.
func headerSafe(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}

// hours renders a validity period for people.
func hours(d time.Duration) string {
	if h := int(d.Hours()); h >= 1 {
		if h == 1 {
			return "1 hour"
		}
		return fmt.Sprintf("%d hours", h)
	}
	return fmt.Sprintf("%d minutes", int(d.Minutes()))
}
