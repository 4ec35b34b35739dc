package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/aksid/aksid/internal/directory"
)

// propKind is the JSON shape a Graph property takes in a request body.
type propKind int

const (
	kString propKind = iota + 1
	kBool
	kObject
	kArray
	kStringArray
	kReadOnly // accepted and ignored: clients PATCH back what they read
)

// entity is a Graph type as a request body may describe it.
type entity struct {
	name  string // "Application", for messages
	props map[string]propKind
	typed map[string]bool // properties the directory interprets; the rest are kept opaque
}

// body is a decoded request object, property by property.
type body map[string]json.RawMessage

var errPayload = badRequest("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")

// readBody reads the request's JSON object within the size limit.
func readBody(c *call) (body, error) {
	raw, err := io.ReadAll(c.r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, err
		}
		return nil, errPayload
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, errPayload
	}
	var b body
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, errPayload
	}
	return b, nil
}

// check refuses unknown properties and values of the wrong JSON shape,
// and returns the opaque properties to keep.
func (e entity) check(b body) (directory.Extra, error) {
	extra := directory.Extra{}
	for name, raw := range b {
		kind, ok := e.props[name]
		if !ok {
			return nil, badRequest("Property '" + name + "' does not exist as a declared property or extension property.")
		}
		if kind == kReadOnly {
			continue
		}
		if !shapeOK(kind, raw) {
			return nil, e.invalid(name)
		}
		if !e.typed[name] {
			extra[name] = raw
		}
	}
	return extra, nil
}

func (e entity) invalid(name string) *apiError {
	return badRequest("Invalid value specified for property '" + name + "' of resource '" + e.name + "'.")
}

// shapeOK tells whether raw fits kind; null fits every kind and means
// "clear" in a PATCH.
func shapeOK(kind propKind, raw json.RawMessage) bool {
	if len(raw) == 0 {
		return false
	}
	if string(raw) == "null" {
		return true
	}
	switch kind {
	case kString:
		return raw[0] == '"'
	case kBool:
		return string(raw) == "true" || string(raw) == "false"
	case kObject:
		return raw[0] == '{'
	case kArray:
		return raw[0] == '['
	case kStringArray:
		var s []string
		return json.Unmarshal(raw, &s) == nil
	}
	return false
}

// str returns a string property; absent is nil, null is refused.
func (e entity) str(b body, name string) (*string, error) {
	raw, ok := b[name]
	if !ok {
		return nil, nil
	}
	var s string
	if string(raw) == "null" || json.Unmarshal(raw, &s) != nil {
		return nil, e.invalid(name)
	}
	return &s, nil
}

// boolean returns a Boolean property; absent is nil, null reads as false.
func (e entity) boolean(b body, name string) (*bool, error) {
	raw, ok := b[name]
	if !ok {
		return nil, nil
	}
	v := false
	if string(raw) != "null" && json.Unmarshal(raw, &v) != nil {
		return nil, e.invalid(name)
	}
	return &v, nil
}

// strs returns a string-collection property; null reads as empty.
func (e entity) strs(b body, name string) (*[]string, error) {
	raw, ok := b[name]
	if !ok {
		return nil, nil
	}
	v := []string{}
	if string(raw) != "null" && json.Unmarshal(raw, &v) != nil {
		return nil, e.invalid(name)
	}
	if v == nil {
		v = []string{}
	}
	return &v, nil
}

// keyCredentialIn is a keyCredential as clients send it; az sends the
// certificate's base64 DER (PEM body, newlines and all) in key.
type keyCredentialIn struct {
	OdataType           string     `json:"@odata.type"`
	CustomKeyIdentifier *string    `json:"customKeyIdentifier"`
	DisplayName         *string    `json:"displayName"`
	EndDateTime         *time.Time `json:"endDateTime"`
	StartDateTime       *time.Time `json:"startDateTime"`
	Key                 []byte     `json:"key"`
	KeyID               string     `json:"keyId"`
	Type                string     `json:"type"`
	Usage               string     `json:"usage"`
}

func (k keyCredentialIn) spec() directory.KeyCredentialSpec {
	s := directory.KeyCredentialSpec{KeyID: k.KeyID, Type: k.Type, Usage: k.Usage, Key: k.Key}
	if k.DisplayName != nil {
		s.DisplayName = *k.DisplayName
	}
	if k.StartDateTime != nil {
		s.Start = *k.StartDateTime
	}
	if k.EndDateTime != nil {
		s.End = *k.EndDateTime
	}
	return s
}

// keyCredentials decodes a keyCredentials array strictly.
func (e entity) keyCredentials(b body) (*[]directory.KeyCredentialSpec, error) {
	raw, ok := b["keyCredentials"]
	if !ok {
		return nil, nil
	}
	var in []keyCredentialIn
	if string(raw) != "null" {
		if err := strictDecode(raw, &in); err != nil {
			return nil, e.invalid("keyCredentials")
		}
	}
	out := make([]directory.KeyCredentialSpec, 0, len(in))
	for _, k := range in {
		out = append(out, k.spec())
	}
	return &out, nil
}

// strictDecode decodes raw into v, refusing unknown fields.
func strictDecode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}
