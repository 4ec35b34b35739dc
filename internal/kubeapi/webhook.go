package kubeapi

import (
	"encoding/json"
	"errors"
	"net/http"
)

// webhookObject is a review kube-apiserver posts: its type and whether it
// carries the spec to answer.
type webhookObject interface {
	typeMeta() (apiVersion, kind string)
	hasSpec() bool
}

func (t *tokenReview) typeMeta() (string, string)         { return t.APIVersion, t.Kind }
func (t *tokenReview) hasSpec() bool                      { return t.Spec != nil }
func (s *subjectAccessReview) typeMeta() (string, string) { return s.APIVersion, s.Kind }
func (s *subjectAccessReview) hasSpec() bool              { return s.Spec != nil }

// webhook is what both webhooks share: the group and kind they take, a
// body limit, and how they answer a refusal (in the group's v1).
type webhook struct {
	group, kind string
	maxBody     int64
	refuse      func(w http.ResponseWriter, code int, msg string)
}

// read checks the method and the cluster and decodes a review of the
// webhook's kind, v1 or v1beta1, into in. On refusal it has answered and
// returns false.
func (k webhook) read(w http.ResponseWriter, r *http.Request, cluster func(*http.Request) (string, bool), in webhookObject) (string, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		k.refuse(w, http.StatusMethodNotAllowed, "method not allowed")
		return "", false
	}
	id, ok := cluster(r)
	if !ok {
		k.refuse(w, http.StatusNotFound, "no such cluster")
		return "", false
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, k.maxBody)).Decode(in); err != nil {
		msg := "the body is not a " + k.kind
		if errors.As(err, new(*http.MaxBytesError)) {
			msg = "the " + k.kind + " is too large"
		}
		k.refuse(w, http.StatusBadRequest, msg)
		return "", false
	}
	v1, v1beta1 := k.group+"v1", k.group+"v1beta1"
	if apiVersion, kind := in.typeMeta(); (apiVersion != v1 && apiVersion != v1beta1) || kind != k.kind || !in.hasSpec() {
		k.refuse(w, http.StatusBadRequest, "expected a "+k.kind+" of "+v1+" or "+v1beta1)
		return "", false
	}
	return id, true
}
