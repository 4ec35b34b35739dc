package server

import (
	"encoding/json"
	"strconv"
	"strings"
)

// maxErrorBody is how much of an error answer's body the recorder keeps
// to read its code: Azure's error bodies are well under it.
const maxErrorBody = 8 << 10

// keepErrorBody copies the start of an error answer's body (status 400 and
// up) for errorCode, when the server has an observer to tell.
func (s *statusRecorder) keepErrorBody(b []byte) {
	if !s.capture || s.status < 400 || len(s.errBody) >= maxErrorBody {
		return
	}
	n := min(len(b), maxErrorBody-len(s.errBody))
	s.errBody = append(s.errBody, b[:n]...)
}

// errorCode is the Azure error code of an answer: empty for success and
// for answers without one. Each face has one error writer and renders one
// of Azure's two shapes, so the listener reads the code from the body
// instead of importing a face:
//   - Entra (and aksid's managed-identity endpoints): {"error": "invalid_client",
//     "error_codes": [7000215], …} → AADSTS7000215, or the OAuth error
//     when there are no error codes (IMDS);
//   - Resource Manager, Graph, the admin face: {"error": {"code": "…"}}.
//
// The metrics registry bounds what it makes labels of.
func errorCode(status int, contentType string, body []byte) string {
	if status < 400 || len(body) == 0 || !strings.Contains(contentType, "json") {
		return ""
	}
	var doc struct {
		Error      json.RawMessage `json:"error"`
		ErrorCodes []int           `json:"error_codes"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return ""
	}
	if len(doc.ErrorCodes) > 0 {
		return "AADSTS" + strconv.Itoa(doc.ErrorCodes[0])
	}
	var oauth string
	if json.Unmarshal(doc.Error, &oauth) == nil {
		return oauth
	}
	var nested struct {
		Code string `json:"code"`
	}
	if json.Unmarshal(doc.Error, &nested) == nil {
		return nested.Code
	}
	return ""
}
