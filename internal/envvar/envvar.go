// Package envvar names every environment variable aksid reads or prints, so a rename happens in one place.
package envvar

// aksid's own variables.
const (
	DataDir        = "AKSID_DATA_DIR"        // read: the state directory
	URL            = "AKSID_URL"             // printed: the HTTPS listener
	SubscriptionID = "AKSID_SUBSCRIPTION_ID" // printed: the bootstrap subscription
	Host           = "AKSID_HOST"            // printed: the emulated host a shell speaks for
	// The bootstrap admin principal under aksid's own names: exported as
	// AZURE_CLIENT_ID/SECRET, kubelogin would use them over --client-id.
	AdminClientID     = "AKSID_ADMIN_CLIENT_ID"
	AdminClientSecret = "AKSID_ADMIN_CLIENT_SECRET"
	// KubeAPIServer, read: a kube-apiserver binary to run instead of the
	// one aksid builds from its carried module.
	KubeAPIServer = "AKSID_KUBE_APISERVER"
	// RSABackend, read: what signs tokens (auto, openssl or go), as
	// serve's --rsa-backend.
	RSABackend = "AKSID_RSA_BACKEND"
	// Store, read: the store URL (postgres://…), as serve's --store.
	Store = "AKSID_STORE"
	// AdminAddr, read: the admin listener's loopback address (metrics,
	// probes), as serve's --admin-addr.
	AdminAddr = "AKSID_ADMIN_ADDR"
	// PublicURL, read: the one URL clients use for replicas behind a
	// loopback TCP balancer, as serve's --public-url.
	PublicURL = "AKSID_PUBLIC_URL"
)

// Azure SDK, az and kubelogin variables.
const (
	AzureTenantID      = "AZURE_TENANT_ID"
	AzureClientID      = "AZURE_CLIENT_ID"
	AzureClientSecret  = "AZURE_CLIENT_SECRET"
	AzureAuthorityHost = "AZURE_AUTHORITY_HOST"
	AzureConfigDir     = "AZURE_CONFIG_DIR"
	// az's settings that keep it offline.
	AzureCoreCollectTelemetry       = "AZURE_CORE_COLLECT_TELEMETRY"
	AzureCoreErrorRecommendation    = "AZURE_CORE_ERROR_RECOMMENDATION"
	AzureExtensionUseDynamicInstall = "AZURE_EXTENSION_USE_DYNAMIC_INSTALL"
	AzureCoreSurveyMessage          = "AZURE_CORE_SURVEY_MESSAGE"
	// Managed identity: App Service's form and the older MSI one.
	IdentityEndpoint = "IDENTITY_ENDPOINT"
	IdentityHeader   = "IDENTITY_HEADER"
	MSIEndpoint      = "MSI_ENDPOINT"
	MSISecret        = "MSI_SECRET"
)

// Proxies, in both cases: Go reads the uppercase ones first, curl and wget
// the lowercase ones (curl ignores HTTP_PROXY), Python prefers lowercase.
const (
	HTTPSProxy      = "HTTPS_PROXY"
	HTTPProxy       = "HTTP_PROXY"
	NoProxy         = "NO_PROXY"
	HTTPSProxyLower = "https_proxy"
	HTTPProxyLower  = "http_proxy"
	NoProxyLower    = "no_proxy"
)

// Trust for aksid's CA, per runtime.
const (
	SSLCertFile      = "SSL_CERT_FILE"       // Go, curl (not for the proxy itself: --proxy-cacert)
	CurlCABundle     = "CURL_CA_BUNDLE"      // curl: wins over SSL_CERT_FILE where a system sets it
	RequestsCABundle = "REQUESTS_CA_BUNDLE"  // Python requests, az
	NodeExtraCACerts = "NODE_EXTRA_CA_CERTS" // Node.js
)

// Kubeconfig is kubectl's list of kubeconfig files.
const Kubeconfig = "KUBECONFIG"
