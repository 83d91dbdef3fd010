package login

import "net/http"

// getLoggedOut serves GET /logged-out, where the OIDC side's end-session
// endpoint lands when the client gave no post_logout_redirect_uri.
func (h *Handler) getLoggedOut(w http.ResponseWriter, r *http.Request) {
	h.message(w, r, http.StatusOK, "Signed out",
		"You are signed out. You can close this window.", nil)
}
