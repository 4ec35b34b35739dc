// Package azrbac decides Kubernetes requests on managed clusters with
// Azure RBAC for Kubernetes enabled, as AKS's Guard does: a request
// (user, verb, API group, resource, namespace or non-resource URL) becomes
// data actions such as Microsoft.ContainerService/managedClusters/pods/read,
// asked of rbac for the caller's object ID and groups at the cluster's ID,
// or at <cluster ID>/namespaces/<ns> for namespaced requests.
//
// Where the assignments do not allow, the answer is "no opinion", so that
// the cluster's own Kubernetes RBAC still decides. Reasons are Guard's own
// words, which kubectl shows after "Forbidden: …" and AKS's docs quote.
package azrbac

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aksid/aksid/internal/armid"
	"github.com/aksid/aksid/internal/rbac"
	"github.com/google/uuid"
)

// ExtraOID is the key of the user's extra attributes that carries the
// caller's Entra object ID. Guard's authenticator sets it (users are named
// by UPN, so the name alone cannot be asked of Azure RBAC) and Guard's
// authorizer reads it; aksid's token review must set it the same way.
const ExtraOID = "oid"

// Review is what a SubjectAccessReview asks, for one cluster.
type Review struct {
	Cluster     string              // the managed cluster's ARM resource ID
	User        string              // UPN for users, object ID for applications
	Groups      []string            // group object IDs (other names are ignored)
	Extra       map[string][]string // ExtraOID → the caller's object ID
	Resource    *ResourceAttributes // set for resource requests
	NonResource *NonResourceAttributes
}

// ResourceAttributes is a request on an API resource; "*" is a wildcard
// in Verb, Group and Resource, as in Kubernetes.
type ResourceAttributes struct {
	Namespace, Verb, Group, Version, Resource, Subresource, Name string
}

// NonResourceAttributes is a request on a path outside the resource API.
type NonResourceAttributes struct {
	Path, Verb string
}

// Decision is the webhook's answer. Allowed and Denied both false is "no
// opinion": the next authorizer (Kubernetes RBAC) decides.
type Decision struct {
	Allowed bool
	Denied  bool
	Reason  string
	// Actions are the data actions asked, for logs (none when skipped).
	Actions []string
	// Missing is the first of them no assignment allows, for logs: the
	// reason, in Guard's words, does not name it.
	Missing string
	// EvaluationError says why no decision could be made (the request
	// could not be turned into data actions); Reason is set too.
	EvaluationError string
}

// DataAuthorizer is what decisions need from rbac.
type DataAuthorizer interface {
	AuthorizeData(ctx context.Context, principalIDs []string, dataAction, scope string) (rbac.Decision, error)
}

// Decider answers reviews from Azure RBAC assignments.
type Decider struct {
	az DataAuthorizer
}

// New returns a Decider asking az.
func New(az DataAuthorizer) *Decider { return &Decider{az: az} }

// Guard's verdicts, as kubectl shows them.
const (
	accessAllowed        = "Access allowed by Azure RBAC"
	accessAllowedVerbose = "Access allowed by Azure RBAC Role Assignment %s of Role %s to user %s"
	accessNotAllowed     = "User does not have access to the resource in Azure. Update role assignment to allow access."
	noOpinion            = "Azure does not have opinion for this user."
	nonAADUserNoOpinion  = "Azure does not have opinion for this non AAD user. If you are an AAD user, please set Extra:oid parameter for impersonated user in the kubeconfig"
)

// ErrNoCluster is returned when a review names no valid cluster: the
// caller's bug, not the requester's.
var ErrNoCluster = errors.New("azrbac: review names no valid cluster ID")

// Decide answers r. An error means the decision could not be made for a
// reason of aksid's own (the cluster ID, the rbac service); requests that
// cannot be mapped are answered with no opinion and EvaluationError.
func (d *Decider) Decide(ctx context.Context, r Review) (Decision, error) {
	cluster, err := armid.Parse(r.Cluster)
	if err != nil || r.Cluster == "" || cluster.IsRoot() {
		return Decision{}, ErrNoCluster
	}
	// Guard leaves the cluster's own identities (system:masters
	// certificates, nodes, service accounts) to the other authorizers.
	if strings.HasPrefix(strings.ToLower(r.User), "system:") {
		return Decision{Reason: noOpinion}, nil
	}
	oids, hasOID := r.Extra[ExtraOID]
	if !hasOID {
		// Guard's default --azure.skip-authz-for-non-aad-users: callers
		// that are not Entra identities (certificates, static tokens) are
		// Kubernetes RBAC's to decide.
		return Decision{Reason: nonAADUserNoOpinion}, nil
	}
	// Guard's default --azure.allow-nonres-discovery-path-access: every
	// Entra caller may discover the API, or kubectl could not start.
	if discovery(r.NonResource) {
		return Decision{Allowed: true, Reason: accessAllowed}, nil
	}
	oid, ok := objectID(oids)
	if !ok {
		// Guard refuses a malformed oid outright (its 4xx path): the
		// authenticator, not the caller, got it wrong.
		return Decision{Denied: true, Reason: "Access denied by Azure RBAC: the caller's object ID (extra " + ExtraOID + ") is not a GUID."}, nil
	}
	actions, err := DataActions(r.Resource, r.NonResource)
	if err != nil {
		return Decision{Reason: "Azure RBAC could not evaluate the request.", EvaluationError: err.Error()}, nil
	}
	scope := Scope(cluster.String(), r.Resource)
	principals := append([]string{oid}, securityGroups(r.Groups)...)
	var granted rbac.Decision
	for _, a := range actions {
		dec, err := d.az.AuthorizeData(ctx, principals, a, scope)
		if err != nil {
			return Decision{}, fmt.Errorf("azrbac: %s at %s: %w", a, scope, err)
		}
		if !dec.Allowed {
			// Every action of a wildcard must be allowed, as Guard asks.
			return Decision{Actions: actions, Missing: a, Reason: accessNotAllowed}, nil
		}
		if granted.Assignment == "" {
			granted = dec
		}
	}
	// Guard names the assignment and role as Azure's check-access answer
	// does: GUIDs without dashes.
	return Decision{Allowed: true, Actions: actions,
		Reason: fmt.Sprintf(accessAllowedVerbose, dashless(granted.Assignment), dashless(granted.Role), r.User)}, nil
}

func dashless(guid string) string { return strings.ReplaceAll(guid, "-", "") }

// Scope is where a request is decided: the cluster, or the namespace
// below it (an assignment at the cluster covers all its namespaces).
func Scope(cluster string, res *ResourceAttributes) string {
	if res != nil && res.Namespace != "" {
		return strings.TrimSuffix(cluster, "/") + "/namespaces/" + res.Namespace
	}
	return cluster
}

// objectID reads the one object ID Guard expects in extra["oid"].
func objectID(v []string) (string, bool) {
	if len(v) != 1 {
		return "", false
	}
	if _, err := uuid.Parse(v[0]); err != nil || len(v[0]) != 36 {
		return "", false
	}
	return v[0], true
}

// securityGroups keeps the groups that are object IDs: Kubernetes adds
// names such as system:authenticated, which no assignment can name.
func securityGroups(groups []string) []string {
	var out []string
	for _, g := range groups {
		if _, err := uuid.Parse(g); err == nil && len(g) == 36 {
			out = append(out, g)
		}
	}
	return out
}

// discovery reports the non-resource reads Guard opens to every Entra
// caller: /api*, /openapi*, /version*, /healthz*.
func discovery(nr *NonResourceAttributes) bool {
	if nr == nil || !strings.EqualFold(nr.Verb, "get") {
		return false
	}
	p := strings.ToLower(nr.Path)
	for _, prefix := range []string{"/api", "/openapi", "/version", "/healthz"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}
