package graph

import (
	"context"
	"net/url"
	"strings"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/odata"
)

var groupEntity = entity{name: "Group", props: props(map[string]propKind{
	"displayName": kString, "mailNickname": kString, "mailEnabled": kBool, "securityEnabled": kBool,
	"description": kString, "groupTypes": kStringArray, "isAssignableToRole": kBool, "visibility": kString,
	"classification": kString, "preferredDataLocation": kString, "preferredLanguage": kString, "theme": kString,
	"mail": kReadOnly, "securityIdentifier": kReadOnly, "renewedDateTime": kReadOnly, "proxyAddresses": kReadOnly,
}), typed: map[string]bool{"displayName": true, "mailNickname": true, "mailEnabled": true, "securityEnabled": true,
	"description": true}}

var groupSchema = odata.Schema{Type: "group", Props: map[string]odata.Kind{
	"id": odata.String, "displayName": odata.String, "mailNickname": odata.String, "securityEnabled": odata.Bool,
	"mailEnabled": odata.Bool, "groupTypes": odata.Strings, "mail": odata.String, "description": odata.Unfilterable,
}}

func groupValues(g directory.Group) odata.Values {
	return odata.Values{"id": g.ObjectID, "displayName": g.DisplayName, "mailNickname": g.MailNickname,
		"securityEnabled": g.SecurityEnabled, "mailEnabled": g.MailEnabled, "groupTypes": extraStrings(g.Extra, "groupTypes"),
		"mail": nil}
}

// objectSchema filters mixed collections (members, memberOf).
var objectSchema = odata.Schema{Type: "directoryObject", Props: map[string]odata.Kind{"id": odata.String, "displayName": odata.String}}

func objectValues(o directory.Object) odata.Values {
	return odata.Values{"id": o.ID(), "displayName": o.DisplayName()}
}

func (c *call) objects(items []directory.Object) error {
	return list(c, listing[directory.Object]{set: "directoryObjects", schema: objectSchema,
		values: objectValues, render: c.objectJSON, page: pageOf(items)})
}

func (h *Handler) listGroups(c *call) error {
	return list(c, listing[directory.Group]{set: "groups", schema: groupSchema, values: groupValues, render: groupJSON,
		indexed: []string{directory.ByID, directory.ByDisplayName},
		page: func(ctx context.Context, q directory.Query[directory.Group]) (directory.Page[directory.Group], error) {
			return h.dir.GroupPage(ctx, c.tenant, q)
		}})
}

func (h *Handler) createGroup(c *call) error {
	e := groupEntity
	b, err := readBody(c)
	if err != nil {
		return err
	}
	extra, err := e.check(b)
	if err != nil {
		return err
	}
	spec := directory.GroupSpec{Extra: extra}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"displayName", &spec.DisplayName}, {"mailNickname", &spec.MailNickname}} {
		v, err := e.str(b, f.name)
		if err != nil {
			return err
		}
		if v == nil {
			return e.invalid(f.name)
		}
		*f.dst = *v
	}
	for _, f := range []struct {
		name string
		dst  *bool
	}{{"mailEnabled", &spec.MailEnabled}, {"securityEnabled", &spec.SecurityEnabled}} {
		v, err := e.boolean(b, f.name)
		if err != nil {
			return err
		}
		if v == nil {
			return e.invalid(f.name)
		}
		*f.dst = *v
	}
	if raw, ok := b["description"]; ok && string(raw) != "null" {
		d, err := e.str(b, "description")
		if err != nil {
			return err
		}
		spec.Description = *d
	}
	g, err := h.dir.CreateGroup(c.ctx(), c.tenant, spec)
	if err != nil {
		return err
	}
	return c.created("groups/"+g.ObjectID, c.entityJSON("groups", groupJSON(g)))
}

func (h *Handler) getGroup(c *call) error {
	id := c.r.PathValue("id")
	if err := checkID(id); err != nil {
		return err
	}
	g, err := h.dir.Group(c.ctx(), c.tenant, id)
	if err != nil {
		return err
	}
	return c.ok(c.entityJSON("groups", groupJSON(g)))
}

func (h *Handler) deleteGroup(c *call) error {
	id := c.r.PathValue("id")
	if err := checkID(id); err != nil {
		return err
	}
	if err := h.dir.DeleteGroup(c.ctx(), c.tenant, id); err != nil {
		return err
	}
	return c.noContent()
}

func (h *Handler) listMembers(c *call) error {
	id := c.r.PathValue("id")
	if err := checkID(id); err != nil {
		return err
	}
	members, err := h.dir.Members(c.ctx(), c.tenant, id)
	if err != nil {
		return err
	}
	return c.objects(members)
}

// objectRef reads the object ID out of an @odata.id URL such as
// https://graph.microsoft.com/v1.0/directoryObjects/{id} (az sends its
// Graph base, aksid's own URL in custom-cloud mode) for the link
// property prop (members, owners).
func objectRef(ref, prop string) (string, error) {
	bad := badRequest("Invalid URL format specified in @odata.id for " + prop + ".")
	u, err := url.Parse(ref)
	if err != nil {
		return "", bad
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(segs) < 2 {
		return "", bad
	}
	switch segs[len(segs)-2] {
	case "directoryObjects", "users", "groups", "servicePrincipals":
	default:
		return "", bad
	}
	id := segs[len(segs)-1]
	if checkID(id) != nil {
		return "", bad
	}
	return id, nil
}

// refTarget reads the object a DELETE …/{prop}/{name}/$ref or
// DELETE …/{prop}/$ref?$id={url} removes.
func refTarget(c *call, name, prop string) (string, error) {
	id := c.r.PathValue(name)
	if id == "" {
		return objectRef(c.r.URL.Query().Get("$id"), prop)
	}
	return id, checkID(id)
}

// refBody reads the {"@odata.id": …} body of a POST …/{prop}/$ref.
func refBody(c *call, prop string) (string, error) {
	b, err := readBody(c)
	if err != nil {
		return "", err
	}
	e := entity{name: "DirectoryObject", props: map[string]propKind{"@odata.id": kString}}
	if _, err := e.check(b); err != nil {
		return "", err
	}
	ref, err := e.str(b, "@odata.id")
	if err != nil || ref == nil {
		return "", badRequest("Invalid URL format specified in @odata.id for " + prop + ".")
	}
	return objectRef(*ref, prop)
}

func (h *Handler) addMember(c *call) error {
	id := c.r.PathValue("id")
	if err := checkID(id); err != nil {
		return err
	}
	member, err := refBody(c, "members")
	if err != nil {
		return err
	}
	if err := h.dir.AddMember(c.ctx(), c.tenant, id, member); err != nil {
		return err
	}
	return c.noContent()
}

// removeMember serves both DELETE …/members/{member}/$ref and
// DELETE …/members/$ref?$id={url}.
func (h *Handler) removeMember(c *call) error {
	id := c.r.PathValue("id")
	if err := checkID(id); err != nil {
		return err
	}
	member, err := refTarget(c, "member", "members")
	if err != nil {
		return err
	}
	if err := h.dir.RemoveMember(c.ctx(), c.tenant, id, member); err != nil {
		return err
	}
	return c.noContent()
}
