package directory

import (
	"context"
	"errors"
	"strings"

	"github.com/aksid/aksid/internal/store"
)

// GroupSpec describes a group to create.
type GroupSpec struct {
	DisplayName     string
	MailNickname    string
	Description     string
	SecurityEnabled bool
	MailEnabled     bool
	Extra           Extra
}

// edge is one membership, stored twice: under the container (value: the
// member's type) and under the member (value: the container's type), so
// both directions are one prefix scan.
type edge struct {
	Type string `json:"type"`
}

// CreateGroup creates a group in tenantID.
func (d *Directory) CreateGroup(ctx context.Context, tenantID string, spec GroupSpec) (Group, error) {
	if strings.TrimSpace(spec.DisplayName) == "" || len(spec.DisplayName) > 256 {
		return Group{}, invalid("Invalid value specified for property 'displayName' of resource 'Group'.")
	}
	if spec.MailNickname == "" || len(spec.MailNickname) > 64 || strings.ContainsAny(spec.MailNickname, " @()\\[]\";:<>,") {
		return Group{}, invalid("Invalid value specified for property 'mailNickname' of resource 'Group'.")
	}
	g := Group{ObjectID: d.newID(), TenantID: tenantID, DisplayName: spec.DisplayName, MailNickname: spec.MailNickname,
		Description: spec.Description, SecurityEnabled: spec.SecurityEnabled, MailEnabled: spec.MailEnabled,
		Created: d.clk.Now().UTC(), Extra: mergeExtra(nil, spec.Extra)}
	err := d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.Get(kindTenant, tenantID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return ErrTenantNotFound
			}
			return err
		}
		return store.CreateJSON(tx, kindGroup, tenantID+"/"+g.ObjectID, g)
	})
	return g, err
}

// Groups returns the groups of tenantID.
func (d *Directory) Groups(ctx context.Context, tenantID string) ([]Group, error) {
	var out []Group
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		out, err = store.ListJSON[Group](tx, kindGroup, tenantID+"/")
		return err
	})
	return out, err
}

// Group finds a group of tenantID by ID.
func (d *Directory) Group(ctx context.Context, tenantID, id string) (Group, error) {
	var g Group
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		g, err = groupByID(tx, tenantID, id)
		return err
	})
	return g, err
}

func groupByID(tx store.Tx, tenantID, id string) (Group, error) {
	var g Group
	id = strings.ToLower(id)
	if err := store.GetJSON(tx, kindGroup, tenantID+"/"+id, &g); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Group{}, missing(ErrObjectNotFound, id)
		}
		return Group{}, err
	}
	return g, nil
}

// DeleteGroup removes a group of tenantID and every membership naming it.
func (d *Directory) DeleteGroup(ctx context.Context, tenantID, id string) error {
	return d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		g, err := groupByID(tx, tenantID, id)
		if err != nil {
			return err
		}
		if err := tx.Delete(kindGroup, tenantID+"/"+g.ObjectID); err != nil {
			return err
		}
		return dropEdges(tx, tenantID, g.ObjectID)
	})
}

// AddMember makes memberID (a user, service principal or group) a direct
// member of group groupID.
func (d *Directory) AddMember(ctx context.Context, tenantID, groupID, memberID string) error {
	return d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		g, err := groupByID(tx, tenantID, groupID)
		if err != nil {
			return err
		}
		m, err := readObject(tx, tenantID, memberID)
		if errors.Is(err, ErrObjectNotFound) {
			return missing(ErrObjectNotFound, strings.ToLower(memberID))
		}
		if err != nil {
			return err
		}
		switch m.Type {
		case TypeUser, TypeServicePrincipal, TypeGroup:
		default:
			return invalid("An object of type '%s' cannot be a member of a group.", m.Type)
		}
		if m.ID() == g.ObjectID {
			return invalid("A group cannot be a member of itself.")
		}
		return addEdge(tx, tenantID, g.ObjectID, TypeGroup, m.ID(), m.Type,
			"One or more added object references already exist for the following modified properties: 'members'.")
	})
}

// RemoveMember ends memberID's direct membership of group groupID.
func (d *Directory) RemoveMember(ctx context.Context, tenantID, groupID, memberID string) error {
	return d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		g, err := groupByID(tx, tenantID, groupID)
		if err != nil {
			return err
		}
		mid := strings.ToLower(memberID)
		if err := tx.Delete(kindMember, tenantID+"/"+g.ObjectID+"/"+mid); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return missing(ErrObjectNotFound, mid)
			}
			return err
		}
		return deleteIfPresent(tx, kindMemberOf, tenantID+"/"+mid+"/"+g.ObjectID)
	})
}

// Members returns a group's direct members.
func (d *Directory) Members(ctx context.Context, tenantID, groupID string) ([]Object, error) {
	var out []Object
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		g, err := groupByID(tx, tenantID, groupID)
		if err != nil {
			return err
		}
		out, err = edgeTargets(tx, kindMember, tenantID, g.ObjectID)
		return err
	})
	return out, err
}

// MemberOf returns the groups and directory roles objectID is a direct
// member of.
func (d *Directory) MemberOf(ctx context.Context, tenantID, objectID string) ([]Object, error) {
	return d.edgesOf(ctx, kindMemberOf, tenantID, objectID)
}

// edgesOf returns the objects objectID (of any type) points to through
// edges of kind; an unknown objectID is not found.
func (d *Directory) edgesOf(ctx context.Context, kind, tenantID, objectID string) ([]Object, error) {
	var out []Object
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		o, err := readObject(tx, tenantID, objectID)
		if err != nil {
			return notFound(err, objectID)
		}
		out, err = edgeTargets(tx, kind, tenantID, o.ID())
		return err
	})
	return out, err
}

// TransitiveMemberOf returns the groups and directory roles objectID is a
// member of directly or through nested groups.
func (d *Directory) TransitiveMemberOf(ctx context.Context, tenantID, objectID string) ([]Object, error) {
	var out []Object
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		o, err := readObject(tx, tenantID, objectID)
		if err != nil {
			return notFound(err, objectID)
		}
		ids, err := containers(tx, tenantID, o.ID(), false)
		if err != nil {
			return err
		}
		for _, id := range ids {
			c, err := readObject(tx, tenantID, id)
			if errors.Is(err, ErrObjectNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

// TransitiveGroups returns the IDs of the groups objectID belongs to,
// directly or through nesting (cycles included once). An unknown object
// belongs to no group. The RBAC engine adds these to the caller's IDs.
func (d *Directory) TransitiveGroups(ctx context.Context, tenantID, objectID string) ([]string, error) {
	var out []string
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		out, err = containers(tx, tenantID, strings.ToLower(objectID), true)
		return err
	})
	return out, err
}

// containers walks member-of edges breadth-first from id. A visited set
// makes cycles (A in B, B in A) terminate.
func containers(tx store.Tx, tenantID, id string, groupsOnly bool) ([]string, error) {
	seen := map[string]bool{id: true}
	queue := []string{id}
	var out []string
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		prefix := tenantID + "/" + cur + "/"
		edges, err := store.ListEntries[edge](tx, kindMemberOf, prefix)
		if err != nil {
			return nil, err
		}
		for _, it := range edges {
			cid, e := strings.TrimPrefix(it.Key, prefix), it.Value
			if seen[cid] || (groupsOnly && e.Type != TypeGroup) {
				continue
			}
			seen[cid] = true
			out = append(out, cid)
			if e.Type == TypeGroup {
				queue = append(queue, cid)
			}
		}
	}
	return out, nil
}

// edgeTargets reads the objects at the far end of id's edges of kind.
func edgeTargets(tx store.Tx, kind, tenantID, id string) ([]Object, error) {
	prefix := tenantID + "/" + id + "/"
	items, err := tx.List(kind, prefix)
	if err != nil {
		return nil, err
	}
	return readEach(tx, tenantID, items, prefix)
}

func readEach(tx store.Tx, tenantID string, items []store.Item, prefix string) ([]Object, error) {
	out := make([]Object, 0, len(items))
	for _, it := range items {
		o, err := readObject(tx, tenantID, strings.TrimPrefix(it.Key, prefix))
		if errors.Is(err, ErrObjectNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

func addEdge(tx store.Tx, tenantID, containerID, containerType, memberID, memberType, dupMsg string) error {
	return addPair(tx, kindMember, kindMemberOf, tenantID, containerID, containerType, memberID, memberType, dupMsg)
}

// addPair stores one edge of a relation under both ends: forward under
// the container (value: the other end's type), reverse under the other end.
func addPair(tx store.Tx, forward, reverse, tenantID, containerID, containerType, otherID, otherType, dupMsg string) error {
	b, err := jsonBytes(edge{Type: otherType})
	if err != nil {
		return err
	}
	if err := tx.Create(forward, tenantID+"/"+containerID+"/"+otherID, b); err != nil {
		if errors.Is(err, store.ErrExists) {
			return conflict("%s", dupMsg)
		}
		return err
	}
	if b, err = jsonBytes(edge{Type: containerType}); err != nil {
		return err
	}
	return tx.Put(reverse, tenantID+"/"+otherID+"/"+containerID, b)
}

// dropEdges removes every membership, ownership, permission grant and
// app role assignment naming id, on either side.
func dropEdges(tx store.Tx, tenantID, id string) error {
	if err := dropPairs(tx, kindMember, kindMemberOf, tenantID, id); err != nil {
		return err
	}
	if err := dropPairs(tx, kindOwner, kindOwned, tenantID, id); err != nil {
		return err
	}
	if err := dropGrants(tx, tenantID, id); err != nil {
		return err
	}
	return dropRoleAssignments(tx, tenantID, id)
}

// dropPairs removes the edges of one relation (stored as forward and
// reverse kinds) that have id at either end.
func dropPairs(tx store.Tx, forward, reverse, tenantID, id string) error {
	prefix := tenantID + "/" + id + "/"
	for _, k := range [][2]string{{reverse, forward}, {forward, reverse}} {
		items, err := tx.List(k[0], prefix)
		if err != nil {
			return err
		}
		for _, it := range items {
			other := strings.TrimPrefix(it.Key, prefix)
			if err := tx.Delete(k[0], it.Key); err != nil {
				return err
			}
			if err := deleteIfPresent(tx, k[1], tenantID+"/"+other+"/"+id); err != nil {
				return err
			}
		}
	}
	return nil
}

// notFound names id in a not-found refusal, whichever kind of object
// was not found.
func notFound(err error, id string) error {
	if errors.Is(err, ErrObjectNotFound) || errors.Is(err, ErrPrincipalNotFound) || errors.Is(err, ErrUserNotFound) ||
		errors.Is(err, ErrApplicationNotFound) {
		return missing(ErrObjectNotFound, strings.ToLower(id))
	}
	return err
}
