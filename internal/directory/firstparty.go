package directory

import (
	"context"
	"errors"
)

// Well-known application IDs that real clients hard-code.
const (
	MicrosoftServicesTenantID = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
	AzureServiceManagementApp = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
	MicrosoftGraphApp         = "00000003-0000-0000-c000-000000000000"
	AKSServerApp              = "6dae42f8-4368-4678-94ff-3960e28e3630"
	AKSClientApp              = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"
	AzureCLIApp               = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
	// PortalAPIApp is the Azure portal's own API (main.iam.ad.ext.azure.com),
	// which az's admin-consent asks a token for.
	PortalAPIApp = "74658136-14ec-4630-ad9b-26e160ff0fc6"
)

// FirstPartyApps are Microsoft's applications that exist in every Entra
// tenant; ARM, Graph and the AKS server accept v1 tokens.
func FirstPartyApps() []ApplicationSpec {
	return []ApplicationSpec{
		{AppID: AzureServiceManagementApp, DisplayName: "Windows Azure Service Management API", FirstParty: true, SupportsCAE: true,
			IdentifierURIs: []string{"https://management.core.windows.net/", "https://management.azure.com/"}},
		{AppID: MicrosoftGraphApp, DisplayName: "Microsoft Graph", FirstParty: true, SupportsCAE: true,
			IdentifierURIs: []string{"https://graph.microsoft.com"}},
		{AppID: AKSServerApp, DisplayName: "Azure Kubernetes Service AAD Server", FirstParty: true},
		{AppID: AKSClientApp, DisplayName: "Azure Kubernetes Service AAD Client", FirstParty: true, PublicClient: true},
		{AppID: AzureCLIApp, DisplayName: "Microsoft Azure CLI", FirstParty: true, PublicClient: true},
		{AppID: PortalAPIApp, DisplayName: "ADIbizaUX", FirstParty: true},
	}
}

// EnsureFirstParty registers Microsoft's applications (once, in the
// Microsoft services tenant) and gives each a principal in tenantID.
func (d *Directory) EnsureFirstParty(ctx context.Context, tenantID string) error {
	if err := d.EnsureTenant(ctx, Tenant{ID: MicrosoftServicesTenantID, DisplayName: "Microsoft Services",
		DefaultDomain: "microsoftservices.invalid", Domains: []string{}}); err != nil {
		return err
	}
	for _, spec := range FirstPartyApps() {
		if _, err := d.Application(ctx, spec.AppID); errors.Is(err, ErrApplicationNotFound) {
			if _, err := d.CreateApplication(ctx, MicrosoftServicesTenantID, spec); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if _, err := d.EnsureServicePrincipal(ctx, tenantID, spec.AppID); err != nil {
			return err
		}
	}
	return nil
}
