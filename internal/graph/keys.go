package graph

import (
	"encoding/json"

	"github.com/aksid/aksid/internal/directory"
)

// addKey rolls in a certificate, proven by a JWT signed with a current
// one (Graph's rule; without a certificate clients PATCH keyCredentials).
func (h *Handler) addKey(objectType string) func(*call) error {
	return func(c *call) error {
		id := c.r.PathValue("id")
		if err := checkID(id); err != nil {
			return err
		}
		b, err := readBody(c)
		if err != nil {
			return err
		}
		var in struct {
			KeyCredential      *keyCredentialIn `json:"keyCredential"`
			PasswordCredential json.RawMessage  `json:"passwordCredential"`
			Proof              string           `json:"proof"`
		}
		raw, _ := json.Marshal(b)
		if err := strictDecode(raw, &in); err != nil || in.KeyCredential == nil || in.KeyCredential.Key == nil {
			return badRequest("Invalid value specified for property 'keyCredential' of resource 'KeyCredential'.")
		}
		if len(in.PasswordCredential) > 0 && string(in.PasswordCredential) != "null" {
			return badRequest("Only AsymmetricX509Cert key credentials are supported; passwordCredential must be null.")
		}
		now := h.wall.Now()
		if err := h.dir.CheckKeyProof(c.ctx(), c.tenant, objectType, id, directory.KeyProof{Token: in.Proof, ClientNow: now}); err != nil {
			return err
		}
		kc, err := h.dir.AddCertificateTo(c.ctx(), c.tenant, objectType, id, in.KeyCredential.spec(), now)
		if err != nil {
			return err
		}
		m := keyJSON(kc)
		m["@odata.context"] = c.context("microsoft.graph.keyCredential")
		return c.ok(m)
	}
}

func (h *Handler) removeKey(objectType string) func(*call) error {
	return func(c *call) error {
		id := c.r.PathValue("id")
		if err := checkID(id); err != nil {
			return err
		}
		ref, err := keyRefBody(c)
		if err != nil {
			return err
		}
		if err := h.dir.CheckKeyProof(c.ctx(), c.tenant, objectType, id, directory.KeyProof{Token: ref.Proof, ClientNow: h.wall.Now()}); err != nil {
			return err
		}
		if err := h.dir.RemoveCertificate(c.ctx(), c.tenant, objectType, id, ref.KeyID); err != nil {
			return err
		}
		return c.noContent()
	}
}
