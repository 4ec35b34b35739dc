package portal

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/aksid/aksid/internal/aks"
)

type identityView struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Location string `json:"location"`
	Group    string
	Props    struct {
		ClientID    string `json:"clientId"`
		PrincipalID string `json:"principalId"`
	} `json:"properties"`
	Hosts []string
}

type hostView struct {
	Host
	System string   // the system-assigned identity's principal ID
	Users  []string // the user-assigned identities' names
}

// identities shows the user-assigned identities the user may read, each
// with the hosts bound to it, and the hosts the user may read.
func (h *Handler) identities(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	subs, err := h.subscriptions(ctx, s)
	if err != nil {
		h.failed(w, r, err)
		return
	}
	hosts, err := h.o.Backend.Hosts(ctx)
	if err != nil {
		h.failed(w, r, err)
		return
	}
	var ids []identityView
	for _, sub := range subs {
		got, err := list[identityView](ctx, h, s, armAPI, "/subscriptions/"+sub.SubscriptionID+
			"/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version="+identitiesVersion)
		if err != nil && !denied(err) {
			h.failed(w, r, err)
			return
		}
		ids = append(ids, got...)
	}
	for i := range ids {
		ids[i].Group = resourceGroupOf(ids[i].ID)
		for _, host := range hosts {
			if slices.ContainsFunc(host.UserAssigned, func(u HostIdentity) bool { return strings.EqualFold(u.ResourceID, ids[i].ID) }) {
				ids[i].Hosts = append(ids[i].Hosts, host.Name)
			}
		}
	}
	slices.SortFunc(ids, func(a, b identityView) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	var visible []hostView
	for _, host := range hosts {
		ok, err := h.mayReadHost(ctx, s, host)
		if err != nil {
			h.failed(w, r, err)
			return
		}
		if !ok {
			continue
		}
		v := hostView{Host: host}
		if host.SystemAssigned != nil {
			v.System = host.SystemAssigned.PrincipalID
		}
		for _, u := range host.UserAssigned {
			v.Users = append(v.Users, lastSegment(u.ResourceID))
		}
		visible = append(visible, v)
	}
	h.render(w, http.StatusOK, identitiesPage, map[string]any{"C": h.chrome(s, "Managed identities", "identities"),
		"Identities": ids, "Hosts": visible, "Subscriptions": len(subs)})
}

// mayReadHost tells whether the user may read a host: a cluster node as
// its cluster, a virtual machine as itself. An emulated machine's
// resource group need not exist in Resource Manager; then only a role at
// the subscription (or above) can reach it, and that is asked.
func (h *Handler) mayReadHost(ctx context.Context, s *session, host Host) (bool, error) {
	ok, found, err := h.may(ctx, s, host.ResourceID, readAction(host.ResourceID))
	if err != nil || found {
		return ok, err
	}
	sub, _, _ := strings.Cut(strings.TrimPrefix(strings.ToLower(host.ResourceID), "/subscriptions/"), "/")
	ok, _, err = h.may(ctx, s, "/subscriptions/"+sub, readAction(host.ResourceID))
	return ok, err
}

// checkAction is what the portal asks of a user to run a cluster check.
// A check acts as the cluster's identity (it creates a public IP and a
// load balancer in the node resource group): an operator's act, so it
// takes write access to the cluster, which Contributor and Azure
// Kubernetes Service Contributor Role give and Reader does not.
const checkAction = "Microsoft.ContainerService/managedClusters/write"

type clusterView struct {
	ID, Name, Group, Location, Version, State, Power string
	// Identity is how the control plane signs in; Kubelet the nodes'.
	Identity, IdentityDetail, Kubelet string
	Check                             aks.CheckRun
	Checked, CanCheck                 bool
	CheckedAt                         string
}

// clusters shows the managed clusters the user may read: their
// identities, the last cluster check, and a button to run one.
func (h *Handler) clusters(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	subs, err := h.subscriptions(ctx, s)
	if err != nil {
		h.failed(w, r, err)
		return
	}
	var views []clusterView
	for _, sub := range subs {
		got, err := list[map[string]any](ctx, h, s, armAPI, "/subscriptions/"+sub.SubscriptionID+
			"/providers/Microsoft.ContainerService/managedClusters?api-version="+clustersVersion)
		if err != nil && !denied(err) {
			h.failed(w, r, err)
			return
		}
		for _, m := range got {
			v, err := h.clusterView(ctx, s, m)
			if err != nil {
				h.failed(w, r, err)
				return
			}
			views = append(views, v)
		}
	}
	slices.SortFunc(views, func(a, b clusterView) int { return strings.Compare(strings.ToLower(a.ID), strings.ToLower(b.ID)) })
	h.render(w, http.StatusOK, clustersPage, map[string]any{"C": h.chrome(s, "Clusters", "clusters"), "Clusters": views,
		"Checked": r.URL.Query().Get("checked"), "Subscriptions": len(subs)})
}

func (h *Handler) clusterView(ctx context.Context, s *session, m map[string]any) (clusterView, error) {
	props := obj(m, "properties")
	v := clusterView{ID: str(m["id"]), Name: str(m["name"]), Location: str(m["location"]), Version: str(props["currentKubernetesVersion"]),
		State: str(props["provisioningState"]), Power: str(obj(props, "powerState")["code"])}
	v.Group = resourceGroupOf(v.ID)
	if v.Version == "" {
		v.Version = str(props["kubernetesVersion"])
	}
	id := obj(m, "identity")
	switch t := str(id["type"]); {
	case t == "" || strings.EqualFold(t, "None"):
		v.Identity, v.IdentityDetail = "Service principal", "client ID "+str(obj(props, "servicePrincipalProfile")["clientId"])
	case strings.EqualFold(t, "UserAssigned"):
		v.Identity = "User-assigned managed identity"
		for rid := range obj(id, "userAssignedIdentities") {
			v.IdentityDetail = lastSegment(rid)
		}
	default:
		v.Identity, v.IdentityDetail = "System-assigned managed identity", "principal ID "+str(id["principalId"])
	}
	if k := obj(obj(props, "identityProfile"), "kubeletidentity"); len(k) > 0 {
		v.Kubelet = lastSegment(str(k["resourceId"])) + " (client ID " + str(k["clientId"]) + ")"
	}
	var err error
	if v.Check, v.Checked, err = h.o.Backend.LastClusterCheck(ctx, v.ID); err != nil {
		return v, err
	}
	if v.Checked {
		v.CheckedAt = day(v.Check.Time)
	}
	v.CanCheck, _, err = h.may(ctx, s, v.ID, checkAction)
	return v, err
}

var clusterIDPattern = regexp.MustCompile(`(?i)^/subscriptions/[0-9a-f-]{36}/resourceGroups/[-\w._()]{1,90}/providers/Microsoft\.ContainerService/managedClusters/[a-zA-Z0-9][-_a-zA-Z0-9]{0,62}$`)

// checkCluster runs a cluster check for a user whose roles allow it:
// Resource Manager's permissions, read with the user's own token, decide,
// as they decide whether the button is enabled.
func (h *Handler) checkCluster(w http.ResponseWriter, r *http.Request) {
	s := h.signed(w, r)
	if s == nil {
		return
	}
	id := r.PostForm.Get("cluster")
	if !clusterIDPattern.MatchString(id) {
		h.fail(w, http.StatusBadRequest, "Choose a cluster from the list.")
		return
	}
	ok, _, err := h.may(r.Context(), s, id, checkAction)
	if err != nil {
		h.failed(w, r, err)
		return
	}
	if !ok {
		h.fail(w, http.StatusForbidden, "Running a cluster check needs "+checkAction+" on the cluster (Contributor or Azure Kubernetes Service Contributor Role); your roles there do not allow it.")
		return
	}
	run, err := h.o.Backend.CheckCluster(r.Context(), id)
	if err != nil {
		h.o.Log.ErrorContext(r.Context(), "portal: cluster check failed", "cluster", id, "err", err)
		h.fail(w, http.StatusBadGateway, "The cluster check could not run: "+err.Error())
		return
	}
	h.o.Log.InfoContext(r.Context(), "portal: cluster check", "cluster", id, "passed", run.Passed(), "user", s.name)
	http.Redirect(w, r, "/portal/clusters?checked="+url.QueryEscape(lastSegment(id)), http.StatusSeeOther)
}

func obj(m map[string]any, k string) map[string]any {
	v, _ := m[k].(map[string]any)
	return v
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
