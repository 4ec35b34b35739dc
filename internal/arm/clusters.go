package arm

import (
	"context"
	"encoding/base64"
	"net/http"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/origin"
)

// Clusters is the Microsoft.ContainerService resource provider.
type Clusters interface {
	Put(ctx context.Context, req aks.PutRequest) (aks.PutResult, error)
	Get(ctx context.Context, id string) (map[string]any, error)
	List(ctx context.Context, scope string) ([]map[string]any, error)
	ResetServicePrincipal(ctx context.Context, id, clientID, secret string) error
	ResetAAD(ctx context.Context, id string, profile map[string]any) error
	Begin(ctx context.Context, id string) error
	End(ctx context.Context, id string)
	UserKubeconfig(ctx context.Context, id string, o aks.KubeconfigOptions) ([]byte, error)
	AdminKubeconfig(ctx context.Context, id string) ([]byte, error)
}

const (
	aksNamespace = "Microsoft.ContainerService"
	actAKS       = "Microsoft.ContainerService/managedClusters/"
)

// clusters serves …/providers/Microsoft.ContainerService/managedClusters…
func (h *Handler) clusters(c *call) {
	if !h.checkVersion(c, aksNamespace, "managedClusters") {
		return
	}
	ctx := c.r.Context()
	s, ok := h.pathSubscription(c)
	if !ok {
		return
	}
	if c.low[2] != "resourcegroups" { // subscription-wide list
		h.listClusters(c, "/subscriptions/"+s)
		return
	}
	g, ok := h.pathGroup(c, s)
	if !ok {
		return
	}
	if len(c.segs) == 7 {
		h.listClusters(c, g.ID)
		return
	}
	name := c.segs[7]
	id := "/subscriptions/" + s + "/resourcegroups/" + g.Name + "/providers/Microsoft.ContainerService/managedClusters/" + name
	if len(c.segs) == 9 && c.r.Method == http.MethodPost {
		h.clusterAction(c, id, g.Location, c.low[8])
		return
	}
	if len(c.segs) != 8 {
		writeError(c.w, notFoundPath(c))
		return
	}
	switch c.r.Method {
	case http.MethodGet:
		if !h.allow(c, actAKS+"read", id) {
			return
		}
		m, err := h.aks.Get(ctx, id)
		h.render(c, m, err)
	case http.MethodPut:
		if !h.allow(c, actAKS+"write", id) {
			return
		}
		if ok, err := h.res.ProviderRegistered(ctx, s, aksNamespace); err != nil || !ok {
			if err == nil {
				err = azerr.New(azerr.Conflict, "MissingSubscriptionRegistration",
					"The subscription is not registered to use namespace '%s'. See https://aka.ms/rps-not-found for how to register subscriptions.", aksNamespace)
			}
			h.fail(c, err)
			return
		}
		var body map[string]any
		if err := decode(c, &body); err != nil {
			h.fail(c, err)
			return
		}
		if err := aks.CheckBody(body); err != nil { // before an operation starts
			h.fail(c, err)
			return
		}
		loc, _ := body["location"].(string)
		var res aks.PutResult
		h.runOperation(c, s, loc, id, func() (err error) {
			res, err = h.aks.Put(ctx, aks.PutRequest{TenantID: c.p.TenantID, Sub: s, Group: g.Name, Name: name, Body: body})
			return err
		}, func() (int, any) {
			if res.Created {
				return http.StatusCreated, res.Model
			}
			return http.StatusOK, res.Model
		})
	case http.MethodDelete:
		if !h.allow(c, actAKS+"delete", id) {
			return
		}
		m, err := h.aks.Get(ctx, id)
		if err != nil {
			if e, ok := azerr.As(err); ok && e.Kind == azerr.NotFound {
				c.w.WriteHeader(http.StatusNoContent)
				return
			}
			h.fail(c, err)
			return
		}
		loc, _ := m["location"].(string)
		// Deleting a cluster is deleting a scope: its node resource
		// group, its nodes and the role assignments on it go too.
		h.runOperation(c, s, loc, id, func() error { return h.res.DeleteScope(ctx, id) })
	default:
		methodNotAllowed(c)
	}
}

// runOperation runs work as a long-running operation on a cluster (one at
// a time) and answers 202, or what answer says (a PUT's 200/201 and body).
func (h *Handler) runOperation(c *call, sub, location, id string, work func() error, answer ...func() (int, any)) {
	ctx := c.r.Context()
	if err := h.aks.Begin(ctx, id); err != nil {
		h.fail(c, err)
		return
	}
	defer h.aks.End(context.WithoutCancel(ctx), id)
	op, err := h.res.StartOperation(ctx, sub, aksNamespace, location, id)
	if err != nil {
		h.fail(c, err)
		return
	}
	if err := work(); err != nil {
		e, _ := azerr.As(err)
		_, _ = h.res.FinishOperation(ctx, op, e)
		h.fail(c, err)
		return
	}
	if op, err = h.res.FinishOperation(ctx, op, nil); err != nil {
		h.fail(c, err)
		return
	}
	status, body := http.StatusAccepted, any(nil)
	if len(answer) > 0 {
		status, body = answer[0]()
	}
	h.accepted(c, op, status, body)
}

func (h *Handler) listClusters(c *call, scope string) {
	if c.r.Method != http.MethodGet {
		methodNotAllowed(c)
		return
	}
	list, err := h.aks.List(c.r.Context(), scope)
	if err != nil {
		h.fail(c, err)
		return
	}
	writeReadable(h, c, list, fixed[map[string]any](actAKS+"read"), func(m map[string]any) string { return m["id"].(string) })
}

// clusterAction serves the POST actions az uses.
func (h *Handler) clusterAction(c *call, id, location, action string) {
	ctx := c.r.Context()
	sub := c.segs[1]
	switch action {
	case "listclusterusercredential", "listclusteradmincredential":
		act, name := "listClusterUserCredential/action", "clusterUser"
		if action == "listclusteradmincredential" {
			act, name = "listClusterAdminCredential/action", "clusterAdmin"
		}
		if !h.allow(c, actAKS+act, id) {
			return
		}
		var kc []byte
		var err error
		if name == "clusterAdmin" {
			kc, err = h.aks.AdminKubeconfig(ctx, id)
		} else {
			o := aks.KubeconfigOptions{}
			if org := origin.FromContext(ctx); !org.ViaProxy() {
				// Reached directly: kubelogin must be told where aksid is.
				o.AuthorityHost = org.Base + "/"
			}
			kc, err = h.aks.UserKubeconfig(ctx, id, o)
		}
		h.render(c, map[string]any{"kubeconfigs": []any{map[string]any{"name": name, "value": base64.StdEncoding.EncodeToString(kc)}}}, err)
	case "resetserviceprincipalprofile":
		if !h.allow(c, actAKS+"resetServicePrincipalProfile/action", id) {
			return
		}
		var body struct {
			ClientID string `json:"clientId"`
			Secret   string `json:"secret"`
		}
		if err := decode(c, &body); err != nil {
			h.fail(c, err)
			return
		}
		h.runOperation(c, sub, location, id, func() error { return h.aks.ResetServicePrincipal(ctx, id, body.ClientID, body.Secret) })
	case "resetaadprofile":
		if !h.allow(c, actAKS+"resetAADProfile/action", id) {
			return
		}
		var body map[string]any
		if err := decode(c, &body); err != nil {
			h.fail(c, err)
			return
		}
		h.runOperation(c, sub, location, id, func() error { return h.aks.ResetAAD(ctx, id, body) })
	default:
		writeError(c.w, notFoundPath(c))
	}
}
