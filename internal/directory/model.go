// Package directory holds Entra ID's objects: tenants, applications, service principals, users and their credentials.
package directory

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Errors the directory returns; faces map them to their own codes.
var (
	ErrTenantNotFound      = errors.New("directory: tenant not found")
	ErrApplicationNotFound = errors.New("directory: application not found")
	ErrPrincipalNotFound   = errors.New("directory: service principal not found")
	ErrInvalidArgument     = errors.New("directory: invalid argument")
	// ErrObjectNotFound is returned for an unknown object of any type.
	ErrObjectNotFound = errors.New("directory: object not found")
	// ErrConflict is returned when a unique value (appId, URI, UPN,
	// membership) is already taken. It is an ErrInvalidArgument too, so
	// callers that know only that one still answer 400.
	ErrConflict = fmt.Errorf("%w: conflict", ErrInvalidArgument)
)

// Extra holds Graph properties aksid stores and returns but does not
// interpret (web, api, appRoles, tags, …), keyed by Graph's name.
type Extra map[string]json.RawMessage

// Tenant is an Entra ID directory.
type Tenant struct {
	ID            string    `json:"id"`
	DisplayName   string    `json:"displayName"`
	DefaultDomain string    `json:"defaultDomain"`
	Domains       []string  `json:"domains"`
	Created       time.Time `json:"createdDateTime"`
}

// Application is an app registration. Token versions follow
// AccessTokenAcceptedVersion as in Entra: 0 or 1 give v1 tokens, 2 gives v2.
type Application struct {
	ObjectID                   string   `json:"id"`
	AppID                      string   `json:"appId"`
	TenantID                   string   `json:"tenantId"`
	DisplayName                string   `json:"displayName"`
	IdentifierURIs             []string `json:"identifierUris"`
	AccessTokenAcceptedVersion int      `json:"accessTokenAcceptedVersion,omitempty"`
	PublicClient               bool     `json:"isFallbackPublicClient,omitempty"`
	FirstParty                 bool     `json:"firstParty,omitempty"`
	// ManagedIdentity marks the hidden registration behind a managed
	// identity: it has no credentials and Graph does not list it.
	ManagedIdentity     bool                 `json:"managedIdentity,omitempty"`
	SupportsCAE         bool                 `json:"supportsCae,omitempty"`
	PasswordCredentials []PasswordCredential `json:"passwordCredentials"`
	KeyCredentials      []KeyCredential      `json:"keyCredentials"`
	// FederatedCredentials trust outside issuers' tokens (workload
	// identity federation); a managed identity's live here too.
	FederatedCredentials []FederatedCredential `json:"federatedIdentityCredentials,omitempty"`
	Created              time.Time             `json:"createdDateTime"`
	Extra                Extra                 `json:"extra,omitempty"`
}

// ServicePrincipal is an application's instance in one tenant; its object
// ID is what tokens carry as oid.
type ServicePrincipal struct {
	ObjectID              string   `json:"id"`
	AppID                 string   `json:"appId"`
	TenantID              string   `json:"tenantId"`
	AppOwnerTenantID      string   `json:"appOwnerOrganizationId"`
	DisplayName           string   `json:"displayName"`
	ServicePrincipalNames []string `json:"servicePrincipalNames"`
	ServicePrincipalType  string   `json:"servicePrincipalType"`
	AccountEnabled        bool     `json:"accountEnabled"`
	// HeldRoles are the app roles assigned to the principal, by the
	// resource's service principal object ID (approles.go keeps it).
	HeldRoles map[string][]string `json:"heldRoles,omitempty"`
	Created   time.Time           `json:"createdDateTime"`
	// Credentials of the principal itself (servicePrincipal addPassword);
	// Entra accepts them for sign-in alongside the application's.
	PasswordCredentials []PasswordCredential `json:"passwordCredentials,omitempty"`
	KeyCredentials      []KeyCredential      `json:"keyCredentials,omitempty"`
	Extra               Extra                `json:"extra,omitempty"`
}

// PasswordCredential is a client secret. Only its SHA-256 is kept: client
// secrets carry ~200 bits of entropy, so a slow hash would buy nothing and
// cost every token request.
type PasswordCredential struct {
	KeyID         string    `json:"keyId"`
	DisplayName   string    `json:"displayName"`
	Hint          string    `json:"hint"`
	StartDateTime time.Time `json:"startDateTime"`
	EndDateTime   time.Time `json:"endDateTime"`
	SecretSHA256  []byte    `json:"secretSha256"`
}

// KeyCredential is a registered X.509 certificate (public part only).
type KeyCredential struct {
	KeyID               string    `json:"keyId"`
	DisplayName         string    `json:"displayName"`
	Type                string    `json:"type"`
	Usage               string    `json:"usage"`
	CustomKeyIdentifier string    `json:"customKeyIdentifier"` // SHA-1 thumbprint, hex upper-case, as Graph shows it
	StartDateTime       time.Time `json:"startDateTime"`
	EndDateTime         time.Time `json:"endDateTime"`
	CertDER             []byte    `json:"key"`
}

// User is a person's account.
type User struct {
	ObjectID          string    `json:"id"`
	TenantID          string    `json:"tenantId"`
	UserPrincipalName string    `json:"userPrincipalName"`
	DisplayName       string    `json:"displayName"`
	AccountEnabled    bool      `json:"accountEnabled"`
	PasswordHash      string    `json:"passwordHash"` // argon2id, PHC string
	Created           time.Time `json:"createdDateTime"`
	MailNickname      string    `json:"mailNickname,omitempty"`
	Extra             Extra     `json:"extra,omitempty"`
	// RequireMFA: a password alone does not sign this user in; the
	// second factor is a verification code kept as an argon2id hash.
	RequireMFA  bool   `json:"requireMfa,omitempty"`
	MFACodeHash string `json:"mfaCodeHash,omitempty"`
	// SessionsValidFrom (aksid's clock): refresh tokens issued before it
	// are revoked (revokeSignInSessions, a new password).
	SessionsValidFrom time.Time `json:"signInSessionsValidFromDateTime,omitzero"`
}

// Group is a security or Microsoft 365 group. Members may be users,
// service principals and other groups.
type Group struct {
	ObjectID        string    `json:"id"`
	TenantID        string    `json:"tenantId"`
	DisplayName     string    `json:"displayName"`
	MailNickname    string    `json:"mailNickname"`
	Description     string    `json:"description,omitempty"`
	SecurityEnabled bool      `json:"securityEnabled"`
	MailEnabled     bool      `json:"mailEnabled"`
	Created         time.Time `json:"createdDateTime"`
	Extra           Extra     `json:"extra,omitempty"`
}

// DirectoryRole is an activated Entra role (Global Administrator, …) in
// one tenant; its members administer the directory.
type DirectoryRole struct {
	ObjectID       string `json:"id"`
	TenantID       string `json:"tenantId"`
	RoleTemplateID string `json:"roleTemplateId"`
	DisplayName    string `json:"displayName"`
	Description    string `json:"description"`
}

// Store kinds used by the directory.
const (
	kindTenant       = "tenant"
	kindDirMeta      = "directory_meta"    // "generation" → a random value every write changes
	kindTenantDomain = "tenant_domain"     // lower-case domain → tenant ID
	kindApp          = "app"               // appId → Application
	kindAppURI       = "app_uri"           // normalized identifier URI → appId
	kindSP           = "sp"                // tenantID/appId → ServicePrincipal
	kindSPObject     = "sp_object"         // tenantID/objectId → appId
	kindUser         = "user"              // tenantID/objectId → User
	kindUserUPN      = "user_upn"          // lower-case UPN → tenantID/objectId
	kindAppObject    = "app_object"        // application objectId → appId
	kindGroup        = "group"             // tenantID/objectId → Group
	kindDirRole      = "directory_role"    // tenantID/objectId → DirectoryRole
	kindMember       = "member"            // tenantID/containerId/memberId → edge (member's type)
	kindMemberOf     = "member_of"         // tenantID/memberId/containerId → edge (container's type)
	kindOwner        = "owner"             // tenantID/objectId/ownerId → edge (owner's type)
	kindOwned        = "owned"             // tenantID/ownerId/objectId → edge (object's type)
	kindGrant        = "permission_grant"  // tenantID/grantId → PermissionGrant
	kindRoleAssigned = "app_role_assigned" // tenantID/resourceSpId/assignmentId → AppRoleAssignment
	kindRoleHeld     = "app_role_held"     // tenantID/principalId/assignmentId → AppRoleAssignment
	kindLockout      = "user_lockout"      // tenantID/objectId → Lockout
	kindPolicy       = "ca_policy"         // tenantID/policyId → Policy
)
