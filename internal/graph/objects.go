package graph

import (
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/aksid/aksid/internal/directory"
)

// rootTypes are the object types each path root addresses.
var rootTypes = map[string]string{"users": directory.TypeUser, "groups": directory.TypeGroup,
	"servicePrincipals": directory.TypeServicePrincipal}

// principal resolves {id} under root: a GUID of an object of root's type,
// or for users also a user principal name.
func (h *Handler) principal(c *call, root string) (string, error) {
	id := c.r.PathValue("id")
	if root == "users" && strings.Contains(id, "@") {
		u, err := h.dir.User(c.ctx(), c.tenant, id)
		if err != nil {
			return "", err
		}
		return u.ObjectID, nil
	}
	if root != "users" {
		if err := checkID(id); err != nil {
			return "", err
		}
	}
	o, err := h.dir.Object(c.ctx(), c.tenant, id)
	if err != nil {
		return "", err
	}
	if want, ok := rootTypes[root]; ok && o.Type != want {
		return "", notFound(id)
	}
	return o.ID(), nil
}

func (h *Handler) memberOf(root string, transitive bool) func(*call) error {
	return func(c *call) error {
		id, err := h.principal(c, root)
		if err != nil {
			return err
		}
		return h.renderMemberOf(c, id, transitive)
	}
}

func (h *Handler) renderMemberOf(c *call, id string, transitive bool) error {
	var objs []directory.Object
	var err error
	if transitive {
		objs, err = h.dir.TransitiveMemberOf(c.ctx(), c.tenant, id)
	} else {
		objs, err = h.dir.MemberOf(c.ctx(), c.tenant, id)
	}
	if err != nil {
		return err
	}
	return c.objects(objs)
}

// getMemberGroups answers getMemberGroups (groups only) and
// getMemberObjects (groups and directory roles), transitively.
func (h *Handler) getMemberGroups(root string, withRoles bool) func(*call) error {
	return func(c *call) error {
		id, err := h.principal(c, root)
		if err != nil {
			return err
		}
		return h.memberGroups(c, id, withRoles)
	}
}

func (h *Handler) memberGroups(c *call, id string, withRoles bool) error {
	b, err := readBody(c)
	if err != nil {
		return err
	}
	e := entity{name: "DirectoryObject", props: map[string]propKind{"securityEnabledOnly": kBool}}
	if _, err := e.check(b); err != nil {
		return err
	}
	secOnly, err := e.boolean(b, "securityEnabledOnly")
	if err != nil {
		return err
	}
	objs, err := h.dir.TransitiveMemberOf(c.ctx(), c.tenant, id)
	if err != nil {
		return err
	}
	ids := []string{}
	for _, o := range objs {
		switch {
		case o.Group != nil && (secOnly == nil || !*secOnly || o.Group.SecurityEnabled):
			ids = append(ids, o.ID())
		case o.DirectoryRole != nil && withRoles:
			ids = append(ids, o.ID())
		}
	}
	return c.ok(obj{"@odata.context": c.context("Collection(Edm.String)"), "value": ids})
}

// checkMemberGroups tells which of up to 20 groups the object is in,
// directly or transitively.
func (h *Handler) checkMemberGroups(root string) func(*call) error {
	return func(c *call) error {
		id, err := h.principal(c, root)
		if err != nil {
			return err
		}
		b, err := readBody(c)
		if err != nil {
			return err
		}
		e := entity{name: "DirectoryObject", props: map[string]propKind{"groupIds": kStringArray}}
		if _, err := e.check(b); err != nil {
			return err
		}
		want, err := e.strs(b, "groupIds")
		if err != nil || want == nil || len(*want) > 20 {
			return e.invalid("groupIds")
		}
		objs, err := h.dir.TransitiveMemberOf(c.ctx(), c.tenant, id)
		if err != nil {
			return err
		}
		in := []string{}
		for _, g := range *want {
			if slices.ContainsFunc(objs, func(o directory.Object) bool { return o.Group != nil && strings.EqualFold(o.ID(), g) }) {
				in = append(in, strings.ToLower(g))
			}
		}
		return c.ok(obj{"@odata.context": c.context("Collection(Edm.String)"), "value": in})
	}
}

func (h *Handler) getObject(c *call) error {
	id := c.r.PathValue("id")
	if err := checkID(id); err != nil {
		return err
	}
	o, err := h.dir.Object(c.ctx(), c.tenant, id)
	if err != nil {
		return err
	}
	m := c.objectJSON(o)
	m["@odata.context"] = c.context("directoryObjects/$entity")
	return c.ok(m)
}

// getByIds returns the objects that exist, skipping unknown IDs; az
// reads @odata.type from it to tell users, groups and principals apart.
func (h *Handler) getByIds(c *call) error {
	b, err := readBody(c)
	if err != nil {
		return err
	}
	e := entity{name: "DirectoryObject", props: map[string]propKind{"ids": kStringArray, "types": kStringArray}}
	if _, err := e.check(b); err != nil {
		return err
	}
	ids, err := e.strs(b, "ids")
	if err != nil || ids == nil || len(*ids) == 0 || len(*ids) > 1000 {
		return e.invalid("ids")
	}
	types, err := e.strs(b, "types")
	if err != nil {
		return err
	}
	var want []string
	if types != nil {
		want = *types
		if len(want) == 0 {
			want = nil
		}
	}
	for _, id := range *ids {
		if err := checkID(id); err != nil {
			return err
		}
	}
	objs, err := h.dir.Objects(c.ctx(), c.tenant, *ids, want)
	if err != nil {
		return err
	}
	value := make([]obj, 0, len(objs))
	for _, o := range objs {
		value = append(value, c.objectJSON(o))
	}
	return c.ok(obj{"@odata.context": c.context("directoryObjects"), "value": value})
}

func (h *Handler) meMemberOf(transitive bool) func(*call) error {
	return func(c *call) error {
		if c.p.Type == "app" {
			return badRequestCode("BadRequest", "/me request is only valid with delegated authentication flow.")
		}
		return h.renderMemberOf(c, c.p.ObjectID, transitive)
	}
}

func (h *Handler) meMemberGroups(c *call) error {
	if c.p.Type == "app" {
		return badRequestCode("BadRequest", "/me request is only valid with delegated authentication flow.")
	}
	return h.memberGroups(c, c.p.ObjectID, false)
}

func (h *Handler) meMemberObjects(c *call) error {
	if c.p.Type == "app" {
		return badRequestCode("BadRequest", "/me request is only valid with delegated authentication flow.")
	}
	return h.memberGroups(c, c.p.ObjectID, true)
}

// organization describes the caller's tenant.
func (h *Handler) organization(c *call) error {
	t, err := h.dir.CachedTenant(c.ctx(), c.tenant)
	if err != nil {
		return err
	}
	domains := make([]obj, 0, len(t.Domains))
	for _, d := range t.Domains {
		domains = append(domains, obj{"capabilities": "Email, OfficeCommunicationsOnlineService",
			"isDefault": strings.EqualFold(d, t.DefaultDomain), "isInitial": strings.EqualFold(d, t.DefaultDomain),
			"name": d, "type": "Managed"})
	}
	org := obj{"id": t.ID, "deletedDateTime": nil, "businessPhones": []string{}, "city": nil, "country": nil,
		"countryLetterCode": "US", "createdDateTime": graphTime(t.Created), "displayName": t.DisplayName,
		"marketingNotificationEmails": []string{}, "onPremisesLastSyncDateTime": nil, "onPremisesSyncEnabled": nil,
		"postalCode": nil, "preferredLanguage": "en", "securityComplianceNotificationMails": []string{},
		"securityComplianceNotificationPhones": []string{}, "state": nil, "street": nil, "technicalNotificationMails": []string{},
		"tenantType": "AAD", "directorySizeQuota": obj{"used": 0, "total": 300000}, "assignedPlans": []any{},
		"privacyProfile": nil, "provisionedPlans": []any{}, "verifiedDomains": domains}
	return c.ok(obj{"@odata.context": c.context("organization"), "value": []obj{org}})
}

// Key-addressed forms: applications(appId='…'), servicePrincipals(appId='…')
// and users('…') (az uses the last for UPNs starting with $).
var (
	byAppID = regexp.MustCompile(`^(applications|servicePrincipals)\(appId='((?:[^']|'')*)'\)$`)
	byKey   = regexp.MustCompile(`^users\('((?:[^']|'')*)'\)$`)
	// An application's federated credentials addressed by its appId.
	byAppIDFederated = regexp.MustCompile(`^applications\(appId='((?:[^']|'')*)'\)/federatedIdentityCredentials(?:/([^/]+))?$`)
)

// fallback serves key-addressed entities and answers everything else
// under /v1.0/ with Graph's refusals instead of the mux's plain text.
func (h *Handler) fallback(c *call) error {
	rest := strings.TrimPrefix(c.r.URL.Path, "/v1.0/")
	seg, _, _ := strings.Cut(rest, "/")
	if m := byAppID.FindStringSubmatch(rest); m != nil {
		return h.byAppID(c, m[1], strings.ReplaceAll(m[2], "''", "'"))
	}
	if m := byAppIDFederated.FindStringSubmatch(rest); m != nil {
		return h.federatedByAppID(c, strings.ReplaceAll(m[1], "''", "'"), m[2])
	}
	if m := byKey.FindStringSubmatch(rest); m != nil {
		c.r.SetPathValue("id", strings.ReplaceAll(m[1], "''", "'"))
		return h.dispatch(c, userWriters, h.getUser, h.updateUser, h.deleteUser)
	}
	// A collection or an entity path in a method it does not take is
	// 405; anything else names a segment Graph does not have.
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	switch {
	case len(segs) == 1 && slices.Contains([]string{"applications", "servicePrincipals", "users", "groups", "me", "organization"}, seg),
		len(segs) == 2 && slices.Contains([]string{"applications", "servicePrincipals", "users", "groups", "directoryObjects"}, seg):
		return &apiError{http.StatusMethodNotAllowed, codeBadRequest, "Specified HTTP method is not allowed for the request target."}
	}
	last := segs[len(segs)-1]
	if rootTypes[seg] == "" && !slices.Contains([]string{"applications", "directoryObjects", "me", "organization"}, seg) {
		last = seg
	}
	return badRequestCode("BadRequest", "Resource not found for the segment '"+last+"'.")
}

func (h *Handler) byAppID(c *call, set, appID string) error {
	if set == "applications" {
		app, err := h.dir.Application(c.ctx(), appID)
		if err != nil || app.TenantID != c.tenant {
			return notFound(appID)
		}
		c.r.SetPathValue("id", app.ObjectID)
		return h.dispatch(c, appWriters, h.getApplication, h.updateApplication, h.deleteApplication)
	}
	sp, err := h.dir.ServicePrincipal(c.ctx(), c.tenant, appID)
	if err != nil {
		return notFound(appID)
	}
	c.r.SetPathValue("id", sp.ObjectID)
	return h.dispatch(c, appWriters, h.getServicePrincipal, h.updateServicePrincipal, h.deleteServicePrincipal)
}

// dispatch runs the GET, PATCH or DELETE handler, checking writers for
// the two that write.
func (h *Handler) dispatch(c *call, writers []string, get, patch, del func(*call) error) error {
	var fn func(*call) error
	switch c.r.Method {
	case http.MethodGet:
		return get(c)
	case http.MethodPatch:
		fn = patch
	case http.MethodDelete:
		fn = del
	default:
		return &apiError{http.StatusMethodNotAllowed, codeBadRequest, "Specified HTTP method is not allowed for the request target."}
	}
	if err := h.authorize(c, writers); err != nil {
		return err
	}
	return fn(c)
}

// federatedByAppID serves applications(appId='…')/federatedIdentityCredentials[/{fic}].
func (h *Handler) federatedByAppID(c *call, appID, fic string) error {
	app, err := h.dir.Application(c.ctx(), appID)
	if err != nil || app.TenantID != c.tenant || app.ManagedIdentity {
		return notFound(appID)
	}
	c.r.SetPathValue("id", app.ObjectID)
	if fic == "" {
		switch c.r.Method {
		case http.MethodGet:
			return h.listFederated(c)
		case http.MethodPost:
			if err := h.authorize(c, appWriters); err != nil {
				return err
			}
			return h.createFederated(c)
		}
		return &apiError{http.StatusMethodNotAllowed, codeBadRequest, "Specified HTTP method is not allowed for the request target."}
	}
	c.r.SetPathValue("fic", fic)
	return h.dispatch(c, appWriters, h.getFederated, h.updateFederated, h.deleteFederated)
}
