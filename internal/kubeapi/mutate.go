package kubeapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/aksid/aksid/internal/workloadidentity"
)

// arMaxBody bounds an AdmissionReview: it carries the whole pod.
const arMaxBody = 3 << 20

// PodIdentities reads what the workload identity webhook needs from a
// cluster: its service account's annotations (ErrNoServiceAccount when
// there is none) and the cluster's tenant.
type PodIdentities interface {
	ServiceAccountAnnotations(ctx context.Context, cluster, namespace, name string) (map[string]string, error)
	TenantOf(ctx context.Context, cluster string) (string, error)
}

// ErrNoServiceAccount is a pod's service account that does not exist.
var ErrNoServiceAccount = errors.New("service account not found")

// MutateHandler is AKS's workload identity webhook
// (mutation.azure-workload-identity.io), which a cluster's kube-apiserver
// calls for each pod labelled azure.workload.identity/use: POST an
// AdmissionReview, get it back with the pod's JSON Patch.
type MutateHandler struct {
	pods    PodIdentities
	cluster func(*http.Request) (string, bool)
	log     *slog.Logger
}

// NewMutateHandler returns the webhook; cluster names the managed
// cluster a request comes from (by the bearer token kube-apiserver
// presents), false answering 404.
func NewMutateHandler(pods PodIdentities, cluster func(*http.Request) (string, bool), log *slog.Logger) *MutateHandler {
	return &MutateHandler{pods: pods, cluster: cluster, log: log}
}

// admissionReview is admission.k8s.io's object (k8s.io/api admission/v1
// types.go), the fields the webhook reads and writes; v1beta1 has the
// same shape.
type admissionReview struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Request    *arRequest  `json:"request,omitempty"`
	Response   *arResponse `json:"response,omitempty"`
}

type arRequest struct {
	UID       string                `json:"uid"`
	Kind      struct{ Kind string } `json:"kind"`
	Namespace string                `json:"namespace"`
	Operation string                `json:"operation"`
	Object    json.RawMessage       `json:"object"`
}

type arResponse struct {
	UID       string    `json:"uid"`
	Allowed   bool      `json:"allowed"`
	Result    *arStatus `json:"status,omitempty"`
	PatchType string    `json:"patchType,omitempty"`
	Patch     []byte    `json:"patch,omitempty"` // base64 in JSON, as the field wants
}

// arStatus is the metav1.Status of a refusal, which kubectl shows.
type arStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (a *admissionReview) typeMeta() (string, string) { return a.APIVersion, a.Kind }
func (a *admissionReview) hasSpec() bool              { return a.Request != nil }

const arGroup = "admission.k8s.io/"

var admissionReviews = webhook{group: arGroup, kind: "AdmissionReview", maxBody: arMaxBody,
	refuse: func(w http.ResponseWriter, code int, msg string) {
		writeAR(w, code, arGroup+"v1", &arResponse{Result: &arStatus{Code: code, Message: msg}})
	}}

func (h *MutateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in admissionReview
	id, ok := admissionReviews.read(w, r, h.cluster, &in)
	if !ok {
		return
	}
	req := in.Request
	out := &arResponse{UID: req.UID, Allowed: true}
	// The webhook is registered for pod creation only; anything else
	// passes unchanged.
	if req.Kind.Kind == "Pod" && req.Operation == "CREATE" {
		ops, err := h.patch(r.Context(), id, req)
		var invalid *workloadidentity.InvalidError
		switch {
		case errors.As(err, &invalid), errors.As(err, new(missingAccount)):
			out.Allowed, out.Result = false, &arStatus{Code: http.StatusBadRequest, Message: err.Error()}
		case err != nil:
			h.log.ErrorContext(r.Context(), "kubeapi: workload identity webhook", "cluster", id, "err", err)
			out.Allowed, out.Result = false, &arStatus{Code: http.StatusInternalServerError, Message: "internal error"}
		default:
			if out.Patch, err = json.Marshal(ops); err != nil {
				out.Allowed, out.Result = false, &arStatus{Code: http.StatusInternalServerError, Message: "internal error"}
			} else {
				out.PatchType = "JSONPatch"
			}
		}
	}
	writeAR(w, http.StatusOK, in.APIVersion, out)
}

// patch is the pod's change, read with its service account.
func (h *MutateHandler) patch(ctx context.Context, cluster string, req *arRequest) ([]workloadidentity.Op, error) {
	pod, err := workloadidentity.ParsePod(req.Object)
	if err != nil {
		return nil, err
	}
	sa, err := h.pods.ServiceAccountAnnotations(ctx, cluster, req.Namespace, pod.ServiceAccount())
	if errors.Is(err, ErrNoServiceAccount) {
		return nil, missingAccount(pod.ServiceAccount())
	}
	if err != nil {
		return nil, err
	}
	tenant, err := h.pods.TenantOf(ctx, cluster)
	if err != nil {
		return nil, err
	}
	return pod.Patch(sa, tenant)
}

// missingAccount is a pod's service account that does not exist, worded
// as the API server's NotFound.
type missingAccount string

func (m missingAccount) Error() string { return `serviceaccounts "` + string(m) + `" not found` }

// writeAR answers in the API version asked, as kube-apiserver requires.
func writeAR(w http.ResponseWriter, code int, apiVersion string, resp *arResponse) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(admissionReview{APIVersion: apiVersion, Kind: "AdmissionReview", Response: resp})
}
