package directory

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/aksid/aksid/internal/store"
)

// AppRole is a role an application defines (its appRoles): assignments
// give it to service principals ("Application") or users and groups
// ("User"), and tokens for the application carry its value in roles.
type AppRole struct {
	ID                 string   `json:"id"`
	Value              string   `json:"value"`
	DisplayName        string   `json:"displayName"`
	Description        string   `json:"description"`
	AllowedMemberTypes []string `json:"allowedMemberTypes"`
	IsEnabled          bool     `json:"isEnabled"`
}

// DefaultAccessRole is the role ID that assigns an application without
// a particular role.
const DefaultAccessRole = "00000000-0000-0000-0000-000000000000"

// AppRoles returns the roles the application defines: Microsoft Graph's
// application permissions for Graph, else its appRoles property.
func (a Application) AppRoles() []AppRole {
	if a.AppID == MicrosoftGraphApp {
		return graphAppRoles
	}
	var roles []AppRole
	if raw, ok := a.Extra["appRoles"]; ok {
		_ = json.Unmarshal(raw, &roles)
	}
	return roles
}

// RoleValues maps assigned role IDs to the values tokens carry: enabled
// roles only, each once.
func (a Application) RoleValues(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	var out []string
	for _, r := range a.AppRoles() {
		if r.IsEnabled && r.Value != "" && slices.Contains(ids, strings.ToLower(r.ID)) && !slices.Contains(out, r.Value) {
			out = append(out, r.Value)
		}
	}
	return out
}

// AppRoleAssignment gives a principal (user, group or service principal)
// a role of a resource application, through the resource's service
// principal in the tenant.
type AppRoleAssignment struct {
	ID                   string    `json:"id"`
	TenantID             string    `json:"tenantId"`
	AppRoleID            string    `json:"appRoleId"`
	PrincipalID          string    `json:"principalId"`
	PrincipalType        string    `json:"principalType"` // User, Group or ServicePrincipal
	PrincipalDisplayName string    `json:"principalDisplayName"`
	ResourceID           string    `json:"resourceId"`
	ResourceDisplayName  string    `json:"resourceDisplayName"`
	Created              time.Time `json:"createdDateTime"`
}

// Graph's principalType for each object type.
var principalTypes = map[string]string{TypeUser: "User", TypeGroup: "Group", TypeServicePrincipal: "ServicePrincipal"}

// AssignAppRole gives a.PrincipalID the role a.AppRoleID of the resource
// service principal a.ResourceID.
func (d *Directory) AssignAppRole(ctx context.Context, tenantID string, a AppRoleAssignment) (AppRoleAssignment, error) {
	for _, f := range []struct{ name, v string }{{"principalId", a.PrincipalID}, {"resourceId", a.ResourceID}, {"appRoleId", a.AppRoleID}} {
		if _, err := uuid.Parse(f.v); err != nil {
			return AppRoleAssignment{}, invalid("Invalid value specified for property '%s' of resource 'AppRoleAssignment'.", f.name)
		}
	}
	var out AppRoleAssignment
	err := d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		out, err = d.assignAppRole(tx, tenantID, a)
		return err
	})
	return out, err
}

const dupAssignment = "Permission being assigned already exists on the object"

func (d *Directory) assignAppRole(tx store.Tx, tenantID string, a AppRoleAssignment) (AppRoleAssignment, error) {
	a.TenantID, a.AppRoleID = tenantID, strings.ToLower(a.AppRoleID)
	res, err := spByObject(tx, tenantID, a.ResourceID)
	if err != nil {
		return a, notFound(err, a.ResourceID)
	}
	var app Application
	if err := store.GetJSON(tx, kindApp, res.AppID, &app); err != nil {
		return a, err
	}
	p, err := readObject(tx, tenantID, a.PrincipalID)
	if err != nil {
		return a, notFound(err, a.PrincipalID)
	}
	if a.PrincipalType = principalTypes[p.Type]; a.PrincipalType == "" {
		return a, invalid("An object of type '%s' cannot be assigned an app role.", p.Type)
	}
	if err := roleAssignable(app, a.AppRoleID, p.Type); err != nil {
		return a, err
	}
	held, err := store.ListEntries[AppRoleAssignment](tx, kindRoleHeld, tenantID+"/"+p.ID()+"/")
	if err != nil {
		return a, err
	}
	for _, h := range held {
		if h.Value.ResourceID == res.ObjectID && h.Value.AppRoleID == a.AppRoleID {
			return a, invalid("%s", dupAssignment)
		}
	}
	a.ID, a.PrincipalID, a.ResourceID = d.assignmentID(p.ID()), p.ID(), res.ObjectID
	a.PrincipalDisplayName, a.ResourceDisplayName = p.DisplayName(), res.DisplayName
	a.Created = d.clk.Now().UTC()
	if err := putAssignment(tx, a); err != nil {
		return a, err
	}
	if p.ServicePrincipal != nil {
		return a, syncHeldRoles(tx, *p.ServicePrincipal)
	}
	return a, nil
}

// roleAssignable refuses a role the application does not define, or one
// whose allowed member types exclude the principal's kind.
func roleAssignable(app Application, roleID, objectType string) error {
	if roleID == DefaultAccessRole {
		return nil
	}
	member := "User"
	if objectType == TypeServicePrincipal {
		member = "Application"
	}
	for _, r := range app.AppRoles() {
		if strings.EqualFold(r.ID, roleID) {
			if !slices.Contains(r.AllowedMemberTypes, member) {
				return invalid("The app role '%s' of application '%s' cannot be assigned to a principal of this type.", r.Value, app.AppID)
			}
			if !r.IsEnabled {
				return invalid("Permission being assigned is disabled on application '%s'.", app.AppID)
			}
			return nil
		}
	}
	return invalid("Permission being assigned was not found on application '%s'.", app.AppID)
}

// assignmentID is Entra's form: the principal's object ID as .NET lays
// out a GUID's bytes, then 16 random bytes (from the directory's random
// source, as every ID), base64url without padding.
func (d *Directory) assignmentID(principalID string) string {
	tail := uuid.MustParse(d.newID())
	return base64.RawURLEncoding.EncodeToString(append(dotNetBytes(uuid.MustParse(principalID)), tail[:]...))
}

// dotNetBytes is Guid.ToByteArray's order: the first three fields
// little-endian.
func dotNetBytes(u uuid.UUID) []byte {
	b := append([]byte(nil), u[:]...)
	slices.Reverse(b[0:4])
	slices.Reverse(b[4:6])
	slices.Reverse(b[6:8])
	return b
}

// An assignment is stored under its resource (kindRoleAssigned) and under
// its principal (kindRoleHeld), so both listings are one prefix scan.
func putAssignment(tx store.Tx, a AppRoleAssignment) error {
	b, err := jsonBytes(a)
	if err != nil {
		return err
	}
	if err := tx.Put(kindRoleAssigned, a.TenantID+"/"+a.ResourceID+"/"+a.ID, b); err != nil {
		return err
	}
	return tx.Put(kindRoleHeld, a.TenantID+"/"+a.PrincipalID+"/"+a.ID, b)
}

func dropAssignment(tx store.Tx, a AppRoleAssignment) error {
	if err := deleteIfPresent(tx, kindRoleAssigned, a.TenantID+"/"+a.ResourceID+"/"+a.ID); err != nil {
		return err
	}
	if err := deleteIfPresent(tx, kindRoleHeld, a.TenantID+"/"+a.PrincipalID+"/"+a.ID); err != nil {
		return err
	}
	if a.PrincipalType != "ServicePrincipal" {
		return nil
	}
	sp, err := spByObject(tx, a.TenantID, a.PrincipalID)
	if errors.Is(err, ErrPrincipalNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return syncHeldRoles(tx, sp)
}

// syncHeldRoles copies the roles a service principal holds onto its
// record (resource principal → role IDs), which the token service reads
// with the client, so that app-only tokens need no further store read.
func syncHeldRoles(tx store.Tx, sp ServicePrincipal) error {
	held, err := store.ListEntries[AppRoleAssignment](tx, kindRoleHeld, sp.TenantID+"/"+sp.ObjectID+"/")
	if err != nil {
		return err
	}
	sp.HeldRoles = nil
	if len(held) > 0 {
		sp.HeldRoles = map[string][]string{}
	}
	for _, h := range held {
		sp.HeldRoles[h.Value.ResourceID] = append(sp.HeldRoles[h.Value.ResourceID], h.Value.AppRoleID)
	}
	return store.PutJSON(tx, kindSP, sp.TenantID+"/"+sp.AppID, sp)
}

// AppRoleAssignments lists what objectID holds (side "principal") or what
// is assigned on the resource principal objectID (side "resource").
func (d *Directory) AppRoleAssignments(ctx context.Context, tenantID, side, objectID string) ([]AppRoleAssignment, error) {
	var out []AppRoleAssignment
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		o, err := readObject(tx, tenantID, objectID)
		if err != nil {
			return notFound(err, objectID)
		}
		items, err := store.ListEntries[AppRoleAssignment](tx, sideKind(side), tenantID+"/"+o.ID()+"/")
		if err != nil {
			return err
		}
		for _, it := range items {
			out = append(out, it.Value)
		}
		return nil
	})
	return out, err
}

func sideKind(side string) string {
	if side == "resource" {
		return kindRoleAssigned
	}
	return kindRoleHeld
}

// RemoveAppRoleAssignment deletes assignment id, addressed from its
// principal or its resource (side as in AppRoleAssignments).
func (d *Directory) RemoveAppRoleAssignment(ctx context.Context, tenantID, side, objectID, id string) error {
	return d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		var a AppRoleAssignment
		err := store.GetJSON(tx, sideKind(side), tenantID+"/"+strings.ToLower(objectID)+"/"+id, &a)
		if errors.Is(err, store.ErrNotFound) {
			return missing(ErrObjectNotFound, id)
		}
		if err != nil {
			return err
		}
		return dropAssignment(tx, a)
	})
}

// AssignedRoleValues returns the values of the roles principalIDs (a user
// and its groups) hold on resource, for a user's token. It reads the
// resource's assignments once, however many groups the user is in.
func (d *Directory) AssignedRoleValues(ctx context.Context, tenantID string, resource Resource, principalIDs []string) ([]string, error) {
	var ids []string
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		on, err := store.ListEntries[AppRoleAssignment](tx, kindRoleAssigned, tenantID+"/"+resource.SP.ObjectID+"/")
		for _, a := range on {
			if slices.Contains(principalIDs, a.Value.PrincipalID) {
				ids = append(ids, a.Value.AppRoleID)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return resource.App.RoleValues(ids), nil
}

// dropRoleAssignments removes the assignments id holds or that are made
// on it, when it is deleted.
func dropRoleAssignments(tx store.Tx, tenantID, id string) error {
	for _, kind := range []string{kindRoleHeld, kindRoleAssigned} {
		items, err := store.ListEntries[AppRoleAssignment](tx, kind, tenantID+"/"+id+"/")
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := dropAssignment(tx, it.Value); err != nil {
				return err
			}
		}
	}
	return nil
}
