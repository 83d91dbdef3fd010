package adminapi

import (
	"encoding/json"
	"net/http"

	"github.com/orgid/orgid/internal/httpx"
)

// problemTypePrefix starts every problem type: a URN names the kind of
// error without promising a web page about it (RFC 9457 §3.1.1).
const problemTypePrefix = "urn:orgid:problem:"

// problem is an RFC 9457 problem detail with orgid's extension members.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Field names the request field or parameter that is wrong.
	Field string `json:"field,omitempty"`
	// Errors lists the wrong fields (one today), for clients that show
	// messages beside form fields.
	Errors []fieldMessage `json:"errors,omitempty"`
	// OrganizationID names the organization a last-owner refusal is about.
	OrganizationID string `json:"organization_id,omitempty"`
	// RequestID ties the answer to the server's logs.
	RequestID string `json:"request_id,omitempty"`
}

type fieldMessage struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// apiError is an error a handler answers with as is.
type apiError struct {
	status int
	code   string // the problem type's last part
	detail string
	field  string
	orgID  string
	// header, when set, is the WWW-Authenticate value (RFC 6750 §3).
	header string
}

func (e *apiError) Error() string { return e.code + ": " + e.detail }

// Problem codes and their titles.
var titles = map[string]string{
	"unauthorized":            "Authentication required",
	"invalid-token":           "Invalid access token",
	"insufficient-scope":      "Insufficient scope",
	"forbidden":               "Forbidden",
	"insufficient-permission": "Insufficient permission",
	"not-found":               "Not found",
	"method-not-allowed":      "Method not allowed",
	"malformed-request":       "Malformed request",
	"invalid-parameter":       "Invalid parameter",
	"unsupported-media-type":  "Unsupported media type",
	"body-too-large":          "Request body too large",
	"invalid-value":           "Invalid value",
	"already-exists":          "Already exists",
	"last-owner":              "Last owner",
	"no-client-secret":        "No client secret",
	"already-revoked":         "Already revoked",
	"already-accepted":        "Already accepted",
	"unavailable":             "Service unavailable",
	"internal":                "Internal error",
}

func newError(status int, code, detail string) *apiError {
	return &apiError{status: status, code: code, detail: detail}
}

func fieldError(status int, code, field, detail string) *apiError {
	return &apiError{status: status, code: code, field: field, detail: detail}
}

// writeProblem answers with e as application/problem+json.
func writeProblem(w http.ResponseWriter, r *http.Request, e *apiError) {
	p := problem{
		Type: problemTypePrefix + e.code, Title: titles[e.code], Status: e.status, Detail: e.detail,
		Field: e.field, OrganizationID: e.orgID, RequestID: httpx.RequestID(r.Context()),
	}
	if e.field != "" {
		p.Errors = []fieldMessage{{Field: e.field, Message: e.detail}}
	}
	h := w.Header()
	if e.header != "" {
		h.Set("WWW-Authenticate", e.header)
	}
	if e.status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "5")
	}
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
