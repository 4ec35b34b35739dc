package kubeapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/aksid/aksid/internal/azrbac"
)

// sarMaxBody bounds a SubjectAccessReview: a few hundred bytes in
// practice, a user's groups and extras at most.
const sarMaxBody = 1 << 20

// AccessReviewer decides a review from Azure RBAC (azrbac.Decider).
type AccessReviewer interface {
	Decide(ctx context.Context, r azrbac.Review) (azrbac.Decision, error)
}

// AuthorizeHandler is the authorization webhook a cluster's kube-apiserver
// calls (--authorization-webhook-config-file, --authorization-webhook-version=v1;
// v1beta1 is read too): POST a SubjectAccessReview, get it back with its
// status.
type AuthorizeHandler struct {
	reviewer AccessReviewer
	cluster  func(*http.Request) (string, bool)
	log      *slog.Logger
}

// NewAuthorizeHandler returns the webhook. cluster names the managed
// cluster's ARM ID a request is for (from its path or the listener it
// came in on); false answers 404.
func NewAuthorizeHandler(reviewer AccessReviewer, cluster func(*http.Request) (string, bool), log *slog.Logger) *AuthorizeHandler {
	return &AuthorizeHandler{reviewer: reviewer, cluster: cluster, log: log}
}

// subjectAccessReview is authorization.k8s.io's object, the fields the
// webhook reads and writes. v1beta1 names the groups "group".
type subjectAccessReview struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Spec       *sarSpec  `json:"spec,omitempty"`
	Status     sarStatus `json:"status"`
}

type sarSpec struct {
	ResourceAttributes    *sarResource        `json:"resourceAttributes,omitempty"`
	NonResourceAttributes *sarNonResource     `json:"nonResourceAttributes,omitempty"`
	User                  string              `json:"user,omitempty"`
	Groups                []string            `json:"groups,omitempty"`
	GroupV1beta1          []string            `json:"group,omitempty"`
	Extra                 map[string][]string `json:"extra,omitempty"`
	UID                   string              `json:"uid,omitempty"`
}

type sarResource struct {
	Namespace   string `json:"namespace,omitempty"`
	Verb        string `json:"verb,omitempty"`
	Group       string `json:"group,omitempty"`
	Version     string `json:"version,omitempty"`
	Resource    string `json:"resource,omitempty"`
	Subresource string `json:"subresource,omitempty"`
	Name        string `json:"name,omitempty"`
}

type sarNonResource struct {
	Path string `json:"path,omitempty"`
	Verb string `json:"verb,omitempty"`
}

type sarStatus struct {
	Allowed         bool   `json:"allowed"`
	Denied          bool   `json:"denied,omitempty"`
	Reason          string `json:"reason,omitempty"`
	EvaluationError string `json:"evaluationError,omitempty"`
}

const (
	sarGroup   = "authorization.k8s.io/"
	sarV1      = sarGroup + "v1"
	sarV1beta1 = sarGroup + "v1beta1"
)

var accessReviews = webhook{group: sarGroup, kind: "SubjectAccessReview", maxBody: sarMaxBody,
	refuse: func(w http.ResponseWriter, code int, msg string) {
		writeSAR(w, code, sarV1, sarStatus{EvaluationError: msg})
	}}

func (h *AuthorizeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in subjectAccessReview
	cluster, ok := accessReviews.read(w, r, h.cluster, &in)
	if !ok {
		return
	}
	d, err := h.reviewer.Decide(r.Context(), in.Spec.review(cluster))
	if err != nil {
		// Not cached by kube-apiserver (only 200s are), so a retry asks again.
		h.log.ErrorContext(r.Context(), "kubeapi: authorization webhook", "cluster", cluster, "user", in.Spec.User, "err", err)
		writeSAR(w, http.StatusInternalServerError, in.APIVersion, sarStatus{EvaluationError: "internal error"})
		return
	}
	h.log.DebugContext(r.Context(), "kubeapi: authorization webhook", "cluster", cluster, "user", in.Spec.User,
		"actions", d.Actions, "missing", d.Missing, "allowed", d.Allowed, "denied", d.Denied)
	writeSAR(w, http.StatusOK, in.APIVersion, sarStatus{Allowed: d.Allowed, Denied: d.Denied, Reason: d.Reason, EvaluationError: d.EvaluationError})
}

// review is the domain's view of the spec.
func (s *sarSpec) review(cluster string) azrbac.Review {
	r := azrbac.Review{Cluster: cluster, User: s.User, Groups: s.Groups, Extra: s.Extra}
	if len(r.Groups) == 0 {
		r.Groups = s.GroupV1beta1
	}
	if a := s.ResourceAttributes; a != nil {
		r.Resource = &azrbac.ResourceAttributes{Namespace: a.Namespace, Verb: a.Verb, Group: a.Group, Version: a.Version,
			Resource: a.Resource, Subresource: a.Subresource, Name: a.Name}
	}
	if a := s.NonResourceAttributes; a != nil {
		r.NonResource = &azrbac.NonResourceAttributes{Path: a.Path, Verb: a.Verb}
	}
	return r
}

// writeSAR answers in the API version asked, which kube-apiserver's
// decoder requires of the response.
func writeSAR(w http.ResponseWriter, code int, apiVersion string, st sarStatus) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(subjectAccessReview{APIVersion: apiVersion, Kind: "SubjectAccessReview", Status: st})
}
