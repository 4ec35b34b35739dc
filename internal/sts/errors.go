// Package sts is Entra ID's security token service: it authenticates clients, runs grants and issues signed tokens.
package sts

import "fmt"

// This file is the one catalogue of the AADSTS refusals sts produces:
// every code and its wording live here.

// Error is a token-service refusal carrying Entra's AADSTS code and OAuth
// error string. Description is safe to show the client; it never holds
// internals or secrets.
type Error struct {
	OAuth       string // invalid_client, invalid_request, …
	Code        int    // the AADSTS number
	Description string // text after "AADSTSnnnn: "
	Suberror    string // MSAL's hint at what to do (consent_required, …)
}

func (e *Error) Error() string { return fmt.Sprintf("AADSTS%d: %s", e.Code, e.Description) }

func newErr(oauth string, code int, format string, args ...any) *Error {
	return &Error{OAuth: oauth, Code: code, Description: fmt.Sprintf(format, args...)}
}

// Messages below follow Entra's wording as recorded in real responses.

func errTenantNotFound(tenant string) *Error {
	return newErr("invalid_tenant", 90002, "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", tenant)
}

func errNoTenantInfo() *Error {
	return newErr("invalid_request", 50059, "No tenant-identifying information found in either the request or implied by any provided credentials.")
}

func errMissingParam(name string) *Error {
	return newErr("invalid_request", 900144, "The request body must contain the following parameter: '%s'.", name)
}

func errUnsupportedGrant(grant string) *Error {
	return newErr("unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'.", grant)
}

func errInvalidAppID(clientID string) *Error {
	return newErr("unauthorized_client", 700038, "%s is not a valid application identifier.", clientID)
}

func errClientNotFound(clientID, tenantName string) *Error {
	return newErr("unauthorized_client", 700016, "Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, tenantName)
}

func errBadSecret(appID string) *Error {
	return newErr("invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", appID)
}

func errExpiredSecret(appID string) *Error {
	return newErr("invalid_client", 7000222, "The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", appID)
}

func errNoCredential() *Error {
	return newErr("invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
}

func errPublicClient() *Error {
	return newErr("invalid_client", 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
}

// errResourceNotFound names the tenant as the request did (its GUID or
// the domain the client used), as Entra does; not by display name.
func errResourceNotFound(resource, tenantAsAsked string) *Error {
	return newErr("invalid_resource", 500011, "The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, tenantAsAsked)
}

func errInvalidScope(scope string) *Error {
	return newErr("invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", scope)
}

func errScopeNotDefault(scope string) *Error {
	return newErr("invalid_scope", 1002012, "The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope)
}

func errMalformedJWT(reason string) *Error {
	return newErr("invalid_request", 50027, "JWT token is invalid or malformed. [Reason - %s]", reason)
}

func errAssertionType(t string) *Error {
	return newErr("invalid_request", 700026, "Client assertion type '%s' is not supported. Use 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.", t)
}

func errAssertionKeyNotFound(thumb, appID string) *Error {
	return newErr("invalid_client", 700027, "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.]", thumb, appID)
}

func errAssertionSignature(thumb string) *Error {
	return newErr("invalid_client", 700027, "Client assertion contains an invalid signature. [Reason - Key was found, but use of the key to verify the signature failed., Thumbprint of key used by client: '%s']", thumb)
}

func errAssertionKeyExpired(thumb string) *Error {
	return newErr("invalid_client", 700027, "Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '%s']", thumb)
}

func errAssertionTime(now, nbf, exp string) *Error {
	return newErr("invalid_client", 700024, "Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .", now, nbf, exp)
}

func errAssertionSubject() *Error {
	return newErr("invalid_client", 700021, "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .")
}

func errAssertionAudience() *Error {
	return newErr("invalid_client", 700023, "Client assertion audience claim does not match Realm issuer. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .")
}

func errDisabled(appID string) *Error {
	return newErr("unauthorized_client", 7000112, "Application '%s' is disabled.", appID)
}

// ErrMethod is the answer to a non-POST request on the token endpoint.
func ErrMethod(method string) *Error {
	return newErr("invalid_request", 900561, "The endpoint only accepts POST, OPTIONS requests. Received a %s request.", method)
}

// ErrMissingParam is the answer when a required form field is absent
// (also what Entra says when the body is not form-encoded).
func ErrMissingParam(name string) *Error { return errMissingParam(name) }

// ErrBodyTooLarge is the answer to a request body over the limit.
func ErrBodyTooLarge(limit int) *Error {
	return newErr("invalid_request", 90015, "The request body exceeds the maximum allowed size of %d bytes.", limit)
}

func errBadPassword() *Error {
	return newErr("invalid_grant", 50126, "Error validating credentials due to invalid username or password.")
}

func errUserNotFound(tenantName string) *Error {
	return newErr("invalid_grant", 50034, "The user account {EUII Hidden} does not exist in the %s directory. To sign into this application, the account must be added to the directory.", tenantName)
}

func errUserDisabled() *Error {
	return newErr("invalid_grant", 50057, "The user account is disabled.")
}

func errRefreshInvalid() *Error {
	return newErr("invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
}

func errRefreshExpired() *Error {
	return newErr("invalid_grant", 700082, "The refresh token has expired due to inactivity. The token was inactive for 90.00:00:00.")
}

func errRefreshClient() *Error {
	return newErr("invalid_grant", 70000, "The provided value for the 'refresh_token' is not valid. The refresh token was issued to a different client.")
}

func errScopesMixResources(scope string) *Error {
	return newErr("invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope %s is not valid. Scopes of more than one resource cannot be requested together.", scope)
}

// Device-code polling answers; MSAL keeps polling on authorization_pending.
func errAuthorizationPending() *Error {
	return newErr("authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
}

// errSlowDown keeps the device polling, less often (RFC 8628 §3.5).
func errSlowDown() *Error {
	return newErr("slow_down", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling, waiting the interval between requests.")
}

func errDeviceExpired() *Error {
	return newErr("expired_token", 70020, "The provided value for the input parameter 'device_code' is not valid. This device code has expired.")
}

func errAuthorizationDeclined() *Error {
	return newErr("authorization_declined", 70023, "The user declined the sign-in request on the device login page.")
}

func errBadVerificationCode() *Error {
	return newErr("bad_verification_code", 70019, "The provided value for the input parameter 'device_code' is not valid.")
}

// Workload identity federation. Entra names which of issuer, subject or
// audience matched no federated credential; a client with none at all
// gets the older, general record-not-found answer.
const federationDoc = "Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"

func errNoFederatedRecord(iss, sub, aud string) *Error {
	return newErr("invalid_request", 70021, "No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'. https://learn.microsoft.com/entra/workload-id/workload-identity-federation", iss, sub, aud)
}

func errFederatedIssuer(iss string) *Error {
	return newErr("invalid_client", 700211, "No matching federated identity record found for presented assertion issuer '%s'. %s", iss, federationDoc)
}

func errFederatedAudience(aud string) *Error {
	return newErr("invalid_client", 700212, "No matching federated identity record found for presented assertion audience '%s'. %s", aud, federationDoc)
}

func errFederatedSubject(sub string) *Error {
	return newErr("invalid_client", 700213, "No matching federated identity record found for presented assertion subject '%s'. %s", sub, federationDoc)
}

func errExternalOIDC() *Error {
	return newErr("invalid_client", 501661, "Request to External OIDC endpoint failed.")
}

func errFederatedSignature(reason, kid string) *Error {
	return newErr("invalid_client", 50013, "Assertion failed signature validation. [Reason - %s, Kid of key used by client: '%s']", reason, kid)
}

// Browser sign-in (authorization code) answers.
func errRedirectMismatch(uri, appID string) *Error {
	return newErr("invalid_request", 50011, "The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.", uri, appID)
}

func errResponseType(t string) *Error {
	return newErr("unsupported_response_type", 900131, "The response_type '%s' is not supported; this authorization endpoint issues authorization codes (response_type=code).", t)
}

func errResponseMode(m string) *Error {
	return newErr("invalid_request", 900138, "The response_mode '%s' is not supported.", m)
}

func errChallengeMethod(m string) *Error {
	return newErr("invalid_request", 501491, "Invalid size of Code_Challenge parameter or unsupported code_challenge_method '%s'.", m)
}

func errInteractionRequired() *Error {
	return newErr("interaction_required", 50058, "A silent sign-in request was sent but no user is signed in.")
}

func errBadAuthCode() *Error {
	return newErr("invalid_grant", 70000, "The provided value for the 'code' parameter is not valid.")
}

func errAuthCodeRedeemed() *Error {
	return newErr("invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
}

func errAuthCodeExpired() *Error {
	return newErr("invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
}

func errRedirectChanged() *Error {
	return newErr("invalid_grant", 500112, "The reply address does not match the reply address provided when requesting the authorization code.")
}

func errVerifierMismatch() *Error {
	return newErr("invalid_grant", 50148, "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.")
}

// ErrUserCanceled is the answer a client gets when the person cancels.
func ErrUserCanceled() *Error {
	return newErr("access_denied", 65004, "User declined to consent to access the app.")
}

// IsSignInRefusal tells whether a sign-in page should show e and let the
// person try again, rather than end the flow.
func IsSignInRefusal(e *Error) bool {
	switch e.Code {
	case 50126, 50034, 50057, 50053, 50076, 90094:
		return true
	}
	return false
}

func errRefreshRevoked() *Error {
	return newErr("invalid_grant", 50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.")
}

// errInvalidParam is Entra's InvalidRequestParameter (AADSTS90100).
func errInvalidParam(name string) *Error {
	return newErr("invalid_request", 90100, "%s parameter is empty or not valid.", name)
}

// Account-state refusals. Codes and wording from Microsoft's AADSTS
// reference and recorded responses.

func errLocked() *Error {
	return newErr("invalid_grant", 50053, "You've tried to sign in too many times with an incorrect user ID or password.")
}

func errMFARequired(resource string) *Error {
	return newErr("invalid_grant", 50076, "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '%s'.", resource)
}

func errBadSecondFactor() *Error {
	return newErr("invalid_grant", 500121, "Authentication failed during strong authentication request.")
}

func errBlockedByCA() *Error {
	return newErr("interaction_required", 53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.")
}

// Consent refusals (consent.go).

func errConsentRequired(appID, name string) *Error {
	e := newErr("invalid_grant", 65001, "The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", appID, name)
	e.Suberror = "consent_required"
	return e
}

func errScopeNotExposed(client, scope, resourceAppID string) *Error {
	return newErr("invalid_client", 650053, "The application '%s' asked for scope '%s' that doesn't exist on the resource '%s'. Contact the app vendor.", client, scope, resourceAppID)
}

func errResourceNotRequested(appID, name, resource, resourceAppID string) *Error {
	return newErr("invalid_request", 650057, "Invalid resource. The client has requested access to a resource which is not listed in the requested permissions in the client's application registration. Client app ID: %s(%s). Resource value from request: %s. Resource app ID: %s.", appID, name, resource, resourceAppID)
}

// errNeedsAdmin: a permission only an administrator may consent to, for
// a person who is not one. The page lets an administrator sign in instead.
func errNeedsAdmin() *Error {
	return newErr("invalid_grant", 90094, "The grant requires admin permission.")
}
