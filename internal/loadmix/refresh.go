package loadmix

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// chain is one user's refresh token chain: every refresh spends the
// token orgid last answered with and keeps the one it answers with.
type chain struct {
	email string
	// answered is the newest refresh token orgid answered with: the one
	// the next refresh spends.
	answered string
	// ambiguous is set when a refresh with answered got no answer: orgid
	// may or may not have rotated it, so a refusal of the retry is not
	// orgid's fault (DESIGN §8: reuse of a rotated token revokes the
	// family). An answer clears it.
	ambiguous bool
	// stopped says why the chain was given up (it is then not used again).
	stopped string
	// refreshed counts the answered refreshes.
	refreshed int
}

// refresh asks for an organization token with c's refresh token. A 503,
// 429, 500 or lost answer leaves the chain on the same token, to be
// retried.
func (l *Load) refresh(ctx context.Context, c *chain) {
	if c.stopped != "" {
		return
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {c.answered}, "organization_id": {l.orgID}}
	a := l.send(ctx, OpRefresh, "", "POST /oauth/token refresh_token", l.tenantPath+"/oauth/token", form, nil, l.webID, l.webSecret)
	switch {
	case a.err != nil:
		c.ambiguous = true
	case a.status == http.StatusOK:
		var out struct {
			RefreshToken string `json:"refresh_token"`
		}
		if err := a.decode(&out); err != nil || out.RefreshToken == "" {
			c.stopped = fmt.Sprintf("200 without a refresh token: %s", a)
			return
		}
		c.answered, c.ambiguous = out.RefreshToken, false
		c.refreshed++
	case a.status == http.StatusBadRequest:
		// The token is refused: spent by a request whose answer was lost
		// (ambiguous), or orgid lost or revoked it (a failure, counted as
		// "other" by the recorder). Either way the chain cannot go on.
		if c.ambiguous {
			c.stopped = "ambiguous: a refresh got no answer and its retry was refused: " + a.String()
		} else {
			c.stopped = "refused: " + a.String()
		}
	}
}

// ChainReport is what the final check of the refresh chains found.
type ChainReport struct {
	Chains    int
	Refreshes int // answered refreshes during the load
	// Works counts the chains whose answered token was refreshed once more.
	Works int
	// Ambiguous lists the chains given up after a lost answer.
	Ambiguous []string
	// Failures lists the chains whose answered token did not work, or that
	// orgid refused during the load without a lost answer.
	Failures []string
}

// CheckChains spends every chain's answered refresh token once more, at
// each replica in turn: each must work (DESIGN §8: an answered rotation is
// durable). Call it after Run.
func (l *Load) CheckChains(ctx context.Context) ChainReport {
	r := ChainReport{Chains: len(l.chains)}
	for i, c := range l.chains {
		r.Refreshes += c.refreshed
		switch {
		case c.stopped != "" && c.ambiguous:
			r.Ambiguous = append(r.Ambiguous, fmt.Sprintf("chain %d (%s): %s", i, c.email, c.stopped))
			continue
		case c.stopped != "":
			r.Failures = append(r.Failures, fmt.Sprintf("chain %d (%s) during the load: %s", i, c.email, c.stopped))
			continue
		}
		base := l.cfg.Bases[i%len(l.cfg.Bases)]
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {c.answered}, "organization_id": {l.orgID}}
		a := l.sendTo(ctx, base, OpRefresh, "", "", l.tenantPath+"/oauth/token", form, nil, l.webID, l.webSecret, false)
		if a.status != http.StatusOK {
			note := ""
			if c.ambiguous {
				note = " (its last refresh got no answer)"
			}
			r.Failures = append(r.Failures, fmt.Sprintf("chain %d (%s): the answered refresh token at %s%s: %s", i, c.email, base, note, a))
			continue
		}
		var out struct {
			RefreshToken string `json:"refresh_token"`
		}
		if err := a.decode(&out); err != nil || out.RefreshToken == "" {
			r.Failures = append(r.Failures, fmt.Sprintf("chain %d: 200 without a refresh token: %s", i, a))
			continue
		}
		c.answered = out.RefreshToken
		r.Works++
	}
	return r
}
