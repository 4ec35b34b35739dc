// Package iamapi is the face of the Azure portal's IAM API
// (main.iam.ad.ext.azure.com) that `az ad app permission admin-consent`
// calls in Azure's public cloud: one POST granting an application's
// requested permissions for the whole tenant. It answers only through
// the proxy, as az calls it only there.
package iamapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aksid/aksid/internal/authn"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/origin"
	"github.com/aksid/aksid/internal/store"
)

// Host is the portal API's public name.
const Host = "main.iam.ad.ext.azure.com"

// Directory is what the face needs from the directory.
type Directory interface {
	IsAdministrator(ctx context.Context, tenantID, objectID string) (bool, error)
	AdminConsent(ctx context.Context, tenantID, appID string) error
}

// Handler serves the face.
type Handler struct {
	dir    Directory
	tokens *authn.Validator
	log    *slog.Logger
}

// New returns the face.
func New(dir Directory, tokens *authn.Validator, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	return &Handler{dir: dir, tokens: tokens, log: log}
}

// Register adds the face's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/RegisteredApplications/{appId}/Consent", h.consent)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NotFound", "aksid serves only the application consent of the portal's API.")
	})
}

// consent answers POST …/RegisteredApplications/{appId}/Consent?onBehalfOfAll=true:
// an administrator consents for every user of the tenant.
func (h *Handler) consent(w http.ResponseWriter, r *http.Request) {
	p, err := h.authenticate(r)
	if err != nil {
		writeError(w, http.StatusUnauthorized, "Unauthorized", "The access token is missing or not valid for the portal's API.")
		return
	}
	if !strings.EqualFold(r.URL.Query().Get("onBehalfOfAll"), "true") {
		writeError(w, http.StatusBadRequest, "BadRequest", "aksid consents only on behalf of the whole tenant (onBehalfOfAll=true).")
		return
	}
	admin, err := h.dir.IsAdministrator(r.Context(), p.TenantID, p.ObjectID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !admin {
		writeError(w, http.StatusForbidden, "Forbidden", "Granting consent for the tenant needs an administrator (Global Administrator, Application Administrator or Cloud Application Administrator).")
		return
	}
	if err := h.dir.AdminConsent(r.Context(), p.TenantID, r.PathValue("appId")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) authenticate(r *http.Request) (authn.Principal, error) {
	return h.tokens.FromHeader(r.Context(), r.Header.Get("Authorization"), authn.Accept{
		Audiences:   []string{directory.PortalAPIApp, "https://" + Host},
		IssuerBases: origin.FromContext(r.Context()).LoginBases})
}

// fail is the face's one error writer for domain errors.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, directory.ErrApplicationNotFound):
		writeError(w, http.StatusNotFound, "NotFound", "The application "+r.PathValue("appId")+" was not found.")
	case errors.Is(err, directory.ErrInvalidArgument), errors.Is(err, directory.ErrObjectNotFound):
		msg, _ := directory.Reason(err)
		writeError(w, http.StatusBadRequest, "BadRequest", msg)
	case errors.Is(err, store.ErrUnavailable):
		writeError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "The service is temporarily unavailable. Please retry the request.")
	default:
		h.log.ErrorContext(r.Context(), "iamapi: internal error", "request_id", w.Header().Get("x-ms-request-id"), "err", err)
		writeError(w, http.StatusInternalServerError, "InternalServerError", "An error occurred.")
	}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(map[string]string{"errorCode": code, "message": msg})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
