package graph

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/aksid/aksid/internal/directory"
	"github.com/google/uuid"
)

// obj is a rendered Graph object. Maps keep rendering and the opaque
// overlay (properties aksid stores without interpreting) simple; clients
// do not depend on property order.
type obj = map[string]any

// graphTime formats a date as Graph does (UTC, fraction only if any).
func graphTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.9999999Z")
}

func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (c *call) context(fragment string) string { return c.base + "/v1.0/$metadata#" + fragment }

// overlay puts stored opaque properties over the defaults.
func overlay(m obj, extra directory.Extra) obj {
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func passwordJSON(p directory.PasswordCredential, secret string) obj {
	m := obj{"customKeyIdentifier": nil, "displayName": orNull(p.DisplayName), "endDateTime": graphTime(p.EndDateTime),
		"hint": p.Hint, "keyId": p.KeyID, "secretText": nil, "startDateTime": graphTime(p.StartDateTime)}
	if secret != "" {
		m["secretText"] = secret
	}
	return m
}

func passwordsJSON(list []directory.PasswordCredential) []obj {
	out := make([]obj, 0, len(list))
	for _, p := range list {
		out = append(out, passwordJSON(p, ""))
	}
	return out
}

// keyJSON renders a certificate credential. Graph returns key as null
// unless asked for it with $select.
func keyJSON(k directory.KeyCredential) obj {
	return obj{"customKeyIdentifier": orNull(k.CustomKeyIdentifier), "displayName": orNull(k.DisplayName),
		"endDateTime": graphTime(k.EndDateTime), "key": nil, "keyId": k.KeyID, "startDateTime": graphTime(k.StartDateTime),
		"type": k.Type, "usage": k.Usage}
}

func keysJSON(list []directory.KeyCredential) []obj {
	out := make([]obj, 0, len(list))
	for _, k := range list {
		out = append(out, keyJSON(k))
	}
	return out
}

func infoDefault() obj {
	return obj{"logoUrl": nil, "marketingUrl": nil, "privacyStatementUrl": nil, "supportUrl": nil, "termsOfServiceUrl": nil}
}

func verifiedPublisherDefault() obj {
	return obj{"displayName": nil, "verifiedPublisherId": nil, "addedDateTime": nil}
}

func (c *call) appJSON(a directory.Application) obj {
	var publicClient any
	if a.PublicClient {
		publicClient = true
	}
	m := overlay(obj{
		"id": a.ObjectID, "deletedDateTime": nil, "appId": a.AppID, "applicationTemplateId": nil,
		"disabledByMicrosoftStatus": nil, "createdDateTime": graphTime(a.Created.Truncate(time.Second)), "displayName": a.DisplayName,
		"description": nil, "groupMembershipClaims": nil, "identifierUris": nonNil(a.IdentifierURIs),
		"isDeviceOnlyAuthSupported": nil, "isFallbackPublicClient": publicClient, "notes": nil,
		"publisherDomain": c.domain, "serviceManagementReference": nil, "signInAudience": "AzureADMyOrg", "tags": []string{},
		"tokenEncryptionKeyId": nil, "samlMetadataUrl": nil, "defaultRedirectUri": nil, "certification": nil,
		"optionalClaims": nil, "servicePrincipalLockConfiguration": nil, "requestSignatureVerification": nil, "addIns": []any{},
		"api": obj{"acceptMappedClaims": nil, "knownClientApplications": []any{}, "requestedAccessTokenVersion": nil,
			"oauth2PermissionScopes": []any{}, "preAuthorizedApplications": []any{}},
		"appRoles": []any{}, "info": infoDefault(), "keyCredentials": keysJSON(a.KeyCredentials),
		"parentalControlSettings": obj{"countriesBlockedForMinors": []any{}, "legalAgeGroupRule": "Allow"},
		"passwordCredentials":     passwordsJSON(a.PasswordCredentials), "publicClient": obj{"redirectUris": []any{}},
		"requiredResourceAccess": []any{}, "verifiedPublisher": verifiedPublisherDefault(),
		"web": obj{"homePageUrl": nil, "logoutUrl": nil, "redirectUris": []any{}, "redirectUriSettings": []any{},
			"implicitGrantSettings": obj{"enableAccessTokenIssuance": false, "enableIdTokenIssuance": false}},
		"spa": obj{"redirectUris": []any{}},
	}, a.Extra)
	// The token version lives in api.requestedAccessTokenVersion.
	if a.AccessTokenAcceptedVersion != 0 {
		api := obj{}
		if raw, ok := m["api"].(json.RawMessage); ok {
			_ = json.Unmarshal(raw, &api)
		} else if def, ok := m["api"].(obj); ok {
			api = def
		}
		api["requestedAccessTokenVersion"] = a.AccessTokenAcceptedVersion
		m["api"] = api
	}
	return m
}

func (c *call) spJSON(s directory.ServicePrincipal) obj {
	// Microsoft's principals list their permissions, which scripts look up
	// by value before assigning or granting them.
	var roles, scopes any = []any{}, []any{}
	ms := directory.Application{AppID: s.AppID}
	switch s.AppID {
	case directory.MicrosoftGraphApp:
		roles, scopes = ms.AppRoles(), ms.PermissionScopes()
	case directory.AzureServiceManagementApp, directory.AKSServerApp:
		scopes = ms.PermissionScopes()
	}
	return overlay(obj{
		"id": s.ObjectID, "deletedDateTime": nil, "accountEnabled": s.AccountEnabled, "alternativeNames": []string{},
		"appDisplayName": s.DisplayName, "appDescription": nil, "appId": s.AppID, "applicationTemplateId": nil,
		"appOwnerOrganizationId": s.AppOwnerTenantID, "appRoleAssignmentRequired": false, "description": nil,
		"disabledByMicrosoftStatus": nil, "displayName": s.DisplayName, "homepage": nil, "loginUrl": nil, "logoutUrl": nil,
		"notes": nil, "notificationEmailAddresses": []string{}, "preferredSingleSignOnMode": nil,
		"preferredTokenSigningKeyThumbprint": nil, "replyUrls": []string{}, "servicePrincipalNames": nonNil(s.ServicePrincipalNames),
		"servicePrincipalType": s.ServicePrincipalType, "signInAudience": "AzureADMyOrg", "tags": []string{},
		"tokenEncryptionKeyId": nil, "samlSingleSignOnSettings": nil, "addIns": []any{}, "appRoles": roles,
		"info": infoDefault(), "keyCredentials": keysJSON(s.KeyCredentials), "oauth2PermissionScopes": scopes,
		"passwordCredentials": passwordsJSON(s.PasswordCredentials), "resourceSpecificApplicationPermissions": []any{},
		"verifiedPublisher": verifiedPublisherDefault(),
	}, s.Extra)
}

// userJSON renders the properties Graph v1.0 returns without $select.
func userJSON(u directory.User) obj {
	return overlay(obj{
		"id": u.ObjectID, "businessPhones": []string{}, "displayName": u.DisplayName, "givenName": nil, "jobTitle": nil,
		"mail": nil, "mobilePhone": nil, "officeLocation": nil, "preferredLanguage": nil, "surname": nil,
		"userPrincipalName": u.UserPrincipalName,
	}, u.Extra)
}

func groupJSON(g directory.Group) obj {
	created := graphTime(g.Created.Truncate(time.Second))
	return overlay(obj{
		"id": g.ObjectID, "deletedDateTime": nil, "classification": nil, "createdDateTime": created,
		"creationOptions": []string{}, "description": orNull(g.Description), "displayName": g.DisplayName,
		"expirationDateTime": nil, "groupTypes": []string{}, "isAssignableToRole": nil, "mail": nil,
		"mailEnabled": g.MailEnabled, "mailNickname": g.MailNickname, "membershipRule": nil,
		"membershipRuleProcessingState": nil, "onPremisesDomainName": nil, "onPremisesLastSyncDateTime": nil,
		"onPremisesNetBiosName": nil, "onPremisesSamAccountName": nil, "onPremisesSecurityIdentifier": nil,
		"onPremisesSyncEnabled": nil, "preferredDataLocation": nil, "preferredLanguage": nil, "proxyAddresses": []string{},
		"renewedDateTime": created, "resourceBehaviorOptions": []string{}, "resourceProvisioningOptions": []string{},
		"securityEnabled": g.SecurityEnabled, "securityIdentifier": sid(g.ObjectID), "theme": nil, "visibility": nil,
		"onPremisesProvisioningErrors": []any{},
	}, g.Extra)
}

// sid is the security identifier Entra derives from an object ID:
// S-1-12-1 followed by the GUID's bytes as four little-endian words.
func sid(objectID string) string {
	u, err := uuid.Parse(objectID)
	if err != nil {
		return ""
	}
	b := [16]byte(u)
	// Entra reads the GUID in its Microsoft byte order.
	b[0], b[1], b[2], b[3] = b[3], b[2], b[1], b[0]
	b[4], b[5] = b[5], b[4]
	b[6], b[7] = b[7], b[6]
	le := binary.LittleEndian
	return fmt.Sprintf("S-1-12-1-%d-%d-%d-%d", le.Uint32(b[0:]), le.Uint32(b[4:]), le.Uint32(b[8:]), le.Uint32(b[12:]))
}

func roleJSON(r directory.DirectoryRole) obj {
	return obj{"id": r.ObjectID, "deletedDateTime": nil, "description": r.Description, "displayName": r.DisplayName,
		"roleTemplateId": r.RoleTemplateID}
}

// objectJSON renders any directory object with its @odata.type, as
// Graph does in mixed collections.
func (c *call) objectJSON(o directory.Object) obj {
	var m obj
	switch {
	case o.User != nil:
		m = userJSON(*o.User)
	case o.Group != nil:
		m = groupJSON(*o.Group)
	case o.ServicePrincipal != nil:
		m = c.spJSON(*o.ServicePrincipal)
	case o.Application != nil:
		m = c.appJSON(*o.Application)
	case o.DirectoryRole != nil:
		m = roleJSON(*o.DirectoryRole)
	default:
		m = obj{"id": o.ID()}
	}
	m["@odata.type"] = "#microsoft.graph." + o.Type
	return m
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// entityJSON adds the @odata.context of a single entity.
func (c *call) entityJSON(set string, m obj) obj {
	m["@odata.context"] = c.context(set + "/$entity")
	return m
}

func (c *call) ok(v any) error { writeJSON(c.w, http.StatusOK, v); return nil }

func (c *call) created(location string, v any) error {
	c.w.Header().Set("Location", c.base+"/v1.0/"+location)
	writeJSON(c.w, http.StatusCreated, v)
	return nil
}

func (c *call) noContent() error {
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}
