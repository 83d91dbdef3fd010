package op

import (
	"context"
	"slices"
)

// orgClaims are the organization claims of ID tokens and userinfo
// (DESIGN §3). Lists are pointers so that a requested but empty list is
// sent as [] rather than left out.
type orgClaims struct {
	Organizations     *[]string  `json:"organizations,omitempty"`
	OrganizationRoles *[]string  `json:"organization_roles,omitempty"`
	OrganizationData  *[]orgData `json:"organization_data,omitempty"`
	// Distributed claims (OIDC Core §5.6.2) name userinfo as the source
	// when an ID token would carry too many organizations.
	ClaimNames   map[string]string      `json:"_claim_names,omitempty"`
	ClaimSources map[string]claimSource `json:"_claim_sources,omitempty"`
}

// orgData is one entry of organization_data (userinfo only).
type orgData struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Slug  string   `json:"slug"`
	Roles []string `json:"roles"`
}

type claimSource struct {
	Endpoint string `json:"endpoint"`
}

// organizationClaims builds the claims the organizations and
// organization_roles scopes release. For an ID token, more organizations
// than IDTokenMaxOrgs are left to userinfo through distributed claims;
// userinfo always carries them in full, with organization_data.
func (p *Provider) organizationClaims(ctx context.Context, tenant, userID string, scopes []string, idToken bool) (orgClaims, error) {
	wantOrgs := slices.Contains(scopes, ScopeOrganizations)
	wantRoles := slices.Contains(scopes, ScopeOrganizationRoles)
	var c orgClaims
	if !wantOrgs && !wantRoles {
		return c, nil
	}
	orgs, err := p.cfg.Store.ListUserOrganizations(ctx, tenant, userID)
	if err != nil {
		return c, err
	}
	if idToken && len(orgs) > p.cfg.IDTokenMaxOrgs {
		c.ClaimNames = map[string]string{}
		if wantOrgs {
			c.ClaimNames["organizations"] = "userinfo"
		}
		if wantRoles {
			c.ClaimNames["organization_roles"] = "userinfo"
		}
		c.ClaimSources = map[string]claimSource{"userinfo": {Endpoint: p.Issuer(tenant) + "/userinfo"}}
		return c, nil
	}
	ids, roles := make([]string, 0, len(orgs)), []string{}
	for _, o := range orgs {
		ids = append(ids, o.ID)
		for _, r := range o.Roles {
			roles = append(roles, o.ID+":"+r)
		}
	}
	if wantOrgs {
		c.Organizations = &ids
		if !idToken {
			data := make([]orgData, 0, len(orgs))
			for _, o := range orgs {
				data = append(data, orgData{ID: o.ID, Name: o.Name, Slug: o.Slug, Roles: nonNil(o.Roles)})
			}
			c.OrganizationData = &data
		}
	}
	if wantRoles {
		c.OrganizationRoles = &roles
	}
	return c, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
