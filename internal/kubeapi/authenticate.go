package kubeapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/aksid/aksid/internal/guard"
)

// trMaxBody bounds a TokenReview: a PoP request wrapping a token with 200
// groups is some 20 KiB.
const trMaxBody = 1 << 20

// TokenReviewer reviews a cluster's bearer token (guard.Reviewer).
type TokenReviewer interface {
	Review(ctx context.Context, c guard.Cluster, token string) (guard.User, error)
}

// Clusters finds a cluster's Entra settings by the ID the cluster
// function names; guard.ErrNoEntra for a cluster without Entra.
type Clusters interface {
	EntraCluster(ctx context.Context, id string) (guard.Cluster, error)
}

// AuthenticateHandler is the token-review webhook a cluster's
// kube-apiserver calls (--authentication-token-webhook-config-file,
// --authentication-token-webhook-version=v1; v1beta1 is read too): POST a
// TokenReview, get it back with its status. The route is the integrator's
// (e.g. /clusters/<key>/authenticate beside the authorization webhook).
type AuthenticateHandler struct {
	reviewer TokenReviewer
	clusters Clusters
	cluster  func(*http.Request) (string, bool)
	log      *slog.Logger
}

// NewAuthenticateHandler returns the webhook. cluster names the managed
// cluster's ARM ID a request is for (from its path or the bearer token
// kube-apiserver presents); false answers 404.
func NewAuthenticateHandler(reviewer TokenReviewer, clusters Clusters, cluster func(*http.Request) (string, bool), log *slog.Logger) *AuthenticateHandler {
	return &AuthenticateHandler{reviewer: reviewer, clusters: clusters, cluster: cluster, log: log}
}

// tokenReview is authentication.k8s.io's object (k8s.io/api
// authentication/v1 types.go), the fields the webhook reads and writes;
// v1beta1 has the same shape.
type tokenReview struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Spec       *trSpec   `json:"spec,omitempty"`
	Status     *trStatus `json:"status,omitempty"`
}

type trSpec struct {
	Token     string   `json:"token,omitempty"`
	Audiences []string `json:"audiences,omitempty"`
}

// trStatus has no audiences, as Guard's: kube-apiserver then takes the
// audiences it asked for as granted. authenticated is written even when
// false, for a reader's sake (k8s.io/api omits it).
type trStatus struct {
	Authenticated bool   `json:"authenticated"`
	User          trUser `json:"user"`
	Error         string `json:"error,omitempty"`
}

type trUser struct {
	Username string              `json:"username,omitempty"`
	UID      string              `json:"uid,omitempty"`
	Groups   []string            `json:"groups,omitempty"`
	Extra    map[string][]string `json:"extra,omitempty"`
}

const (
	trGroup   = "authentication.k8s.io/"
	trV1      = trGroup + "v1"
	trV1beta1 = trGroup + "v1beta1"
)

var tokenReviews = webhook{group: trGroup, kind: "TokenReview", maxBody: trMaxBody,
	refuse: func(w http.ResponseWriter, code int, msg string) { writeTR(w, code, trV1, trStatus{Error: msg}) }}

func (h *AuthenticateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in tokenReview
	id, ok := tokenReviews.read(w, r, h.cluster, &in)
	if !ok {
		return
	}
	c, err := h.clusters.EntraCluster(r.Context(), id)
	var u guard.User
	if err == nil {
		u, err = h.reviewer.Review(r.Context(), c, in.Spec.Token)
	}
	var refused *guard.RefusedError
	switch {
	case errors.As(err, &refused), errors.Is(err, guard.ErrNoEntra):
		// 200, not Guard's 401: kube-apiserver logs status.error only
		// from a 200 (Guard's own comment on its SP-overage refusal).
		h.log.InfoContext(r.Context(), "kubeapi: token refused", "cluster", id, "reason", err.Error())
		writeTR(w, http.StatusOK, in.APIVersion, trStatus{Error: err.Error()})
	case err != nil:
		// Not cached by kube-apiserver (only 200s are), so a retry asks again.
		h.log.ErrorContext(r.Context(), "kubeapi: token review", "cluster", id, "err", err)
		writeTR(w, http.StatusInternalServerError, in.APIVersion, trStatus{Error: "internal error"})
	default:
		h.log.DebugContext(r.Context(), "kubeapi: token review", "cluster", id, "user", u.Username, "groups", len(u.Groups))
		writeTR(w, http.StatusOK, in.APIVersion, trStatus{Authenticated: true,
			User: trUser{Username: u.Username, UID: u.UID, Groups: u.Groups, Extra: u.Extra}})
	}
}

// writeTR answers in the API version asked, which kube-apiserver's
// decoder requires of the response.
func writeTR(w http.ResponseWriter, code int, apiVersion string, st trStatus) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(tokenReview{APIVersion: apiVersion, Kind: "TokenReview", Status: &st})
}
