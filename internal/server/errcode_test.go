package server

import "testing"

// TestErrorCode: the code of each face's error shape, and nothing for
// successes, non-JSON answers and bodies without a code.
func TestErrorCode(t *testing.T) {
	const js = "application/json; charset=utf-8"
	for _, c := range []struct {
		status      int
		contentType string
		body        string
		want        string
	}{
		{401, js, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}`, "AADSTS7000215"},
		{400, js, `{"error":"invalid_request","error_description":"Identity not found"}`, "invalid_request"},
		{404, "application/json;odata.metadata=minimal", `{"error":{"code":"Request_ResourceNotFound","message":"…","innerError":{}}}`, "Request_ResourceNotFound"},
		{403, js, `{"error":{"code":"AuthorizationFailed","message":"…"}}`, "AuthorizationFailed"},
		{200, js, `{"error":{"code":"Failed"}}`, ""}, // an operation's status, not a refusal
		{404, "text/plain; charset=utf-8", "404 page not found\n", ""},
		{500, js, `{"error":{"code":"Internal`, ""}, // cut short
		{400, js, `{"message":"no code"}`, ""},
		{400, js, `[]`, ""},
	} {
		if got := errorCode(c.status, c.contentType, []byte(c.body)); got != c.want {
			t.Errorf("%d %s: %q, want %q", c.status, c.body, got, c.want)
		}
	}
}
