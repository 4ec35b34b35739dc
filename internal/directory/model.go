// Package directory holds Entra ID's objects: tenants, applications, service principals, users and their credentials.
package directory

import (
	"errors"
	"time"
)

// Errors the directory returns; faces map them to their own codes.
var (
	ErrTenantNotFound      = errors.New("directory: tenant not found")
	ErrApplicationNotFound = errors.New("directory: application not found")
	ErrPrincipalNotFound   = errors.New("directory: service principal not found")
	ErrInvalidArgument     = errors.New("directory: invalid argument")
)

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
	ObjectID                   string               `json:"id"`
	AppID                      string               `json:"appId"`
	TenantID                   string               `json:"tenantId"`
	DisplayName                string               `json:"displayName"`
	IdentifierURIs             []string             `json:"identifierUris"`
	AccessTokenAcceptedVersion int                  `json:"accessTokenAcceptedVersion,omitempty"`
	PublicClient               bool                 `json:"isFallbackPublicClient,omitempty"`
	FirstParty                 bool                 `json:"firstParty,omitempty"`
	SupportsCAE                bool                 `json:"supportsCae,omitempty"`
	PasswordCredentials        []PasswordCredential `json:"passwordCredentials"`
	KeyCredentials             []KeyCredential      `json:"keyCredentials"`
	Created                    time.Time            `json:"createdDateTime"`
}

// ServicePrincipal is an application's instance in one tenant; its object
// ID is what tokens carry as oid.
type ServicePrincipal struct {
	ObjectID              string    `json:"id"`
	AppID                 string    `json:"appId"`
	TenantID              string    `json:"tenantId"`
	AppOwnerTenantID      string    `json:"appOwnerOrganizationId"`
	DisplayName           string    `json:"displayName"`
	ServicePrincipalNames []string  `json:"servicePrincipalNames"`
	ServicePrincipalType  string    `json:"servicePrincipalType"`
	AccountEnabled        bool      `json:"accountEnabled"`
	AppRoles              []string  `json:"appRoles,omitempty"`
	Created               time.Time `json:"createdDateTime"`
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
}

// Store kinds used by the directory.
const (
	kindTenant       = "tenant"
	kindTenantDomain = "tenant_domain" // lower-case domain → tenant ID
	kindApp          = "app"           // appId → Application
	kindAppURI       = "app_uri"       // normalized identifier URI → appId
	kindSP           = "sp"            // tenantID/appId → ServicePrincipal
	kindSPObject     = "sp_object"     // tenantID/objectId → appId
	kindUser         = "user"          // tenantID/objectId → User
	kindUserUPN      = "user_upn"      // lower-case UPN → tenantID/objectId
)
