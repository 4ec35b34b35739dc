package kubeplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aksid/aksid/internal/httpjson"
)

// Kube is a JSON client of one cluster's API server, speaking as aksid
// (system:masters). The Kubernetes client libraries would put a large
// dependency into aksid's build for a handful of calls.
type Kube struct {
	Base string // https://127.0.0.1:<port>
	HTTP *http.Client
}

// StatusError is the API server's refusal (a metav1.Status).
type StatusError struct {
	Code    int    `json:"code"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("kube-apiserver: %d %s: %s", e.Code, e.Reason, e.Message)
}

// IsNotFound tells whether err is a 404 from the API server.
func IsNotFound(err error) bool { return statusIs(err, http.StatusNotFound) }

// IsConflict tells whether err is a 409 (exists, or a stale resourceVersion).
func IsConflict(err error) bool { return statusIs(err, http.StatusConflict) }

func statusIs(err error, code int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == code
}

// maxResponse bounds what aksid reads from a cluster's answer.
const maxResponse = 16 << 20

// Do sends in (JSON, or nil) and decodes the answer into out (or
// discards it). Merge patches go with contentType
// "application/merge-patch+json"; "" is JSON.
func (k Kube) Do(ctx context.Context, method, path, contentType string, in, out any) error {
	req, err := httpjson.NewRequest(ctx, method, k.Base+path, in)
	if err != nil {
		return err
	}
	if in != nil && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		se := &StatusError{Code: resp.StatusCode}
		if json.Unmarshal(b, se) != nil || se.Code == 0 {
			se.Code, se.Message = resp.StatusCode, string(b)
		}
		return se
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// Get reads path into out.
func (k Kube) Get(ctx context.Context, path string, out any) error {
	return k.Do(ctx, http.MethodGet, path, "", nil, out)
}

// Apply creates obj at collection, or replaces the named one when it
// exists (taking its resourceVersion), so callers can state what should be.
func (k Kube) Apply(ctx context.Context, collection, name string, obj map[string]any) error {
	err := k.Do(ctx, http.MethodPost, collection, "", obj, nil)
	if !IsConflict(err) {
		return err
	}
	var cur struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	if err := k.Get(ctx, collection+"/"+name, &cur); err != nil {
		return err
	}
	meta, _ := obj["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		obj["metadata"] = meta
	}
	meta["resourceVersion"] = cur.Metadata.ResourceVersion
	return k.Do(ctx, http.MethodPut, collection+"/"+name, "", obj, nil)
}

// Delete removes path; a missing object is not an error.
func (k Kube) Delete(ctx context.Context, path string) error {
	err := k.Do(ctx, http.MethodDelete, path, "", nil, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}
