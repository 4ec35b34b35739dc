package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

// proxyTransport sends everything through aksid as an https proxy, the
// way HTTPS_PROXY does, trusting aksid's CA (SSL_CERT_FILE).
func (in *instance) proxyTransport(t *testing.T) *http.Transport {
	t.Helper()
	u, err := url.Parse(in.url)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Transport{Proxy: http.ProxyURL(u), TLSClientConfig: &tls.Config{RootCAs: in.pool}, ForceAttemptHTTP2: true}
}

// TestGoClientsThroughProxy: azidentity's ClientSecretCredential and
// DefaultAzureCredential on the default public cloud, instance discovery
// on, and the ARM SDK reach aksid through its proxy; Kubernetes accepts
// the tokens with Azure's own issuer, discovery fetched through the proxy.
func TestGoClientsThroughProxy(t *testing.T) {
	in := start(t, "")
	tid, sub := in.env["AZURE_TENANT_ID"], in.env["AKSID_SUBSCRIPTION_ID"]
	hc := &http.Client{Timeout: 30 * time.Second, Transport: in.proxyTransport(t)}
	opts := azcore.ClientOptions{Transport: hc}

	cred, err := azidentity.NewClientSecretCredential(tid, in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"],
		&azidentity.ClientSecretCredentialOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	arm1 := getToken(t, cred, "https://management.azure.com/.default")
	if c := claimsOf(t, arm1.Token); c["iss"] != "https://sts.windows.net/"+tid+"/" || c["aud"] != "https://management.azure.com" {
		t.Fatalf("ARM token through the proxy: %v", c)
	}

	t.Setenv("AZURE_TENANT_ID", tid)
	t.Setenv("AZURE_CLIENT_ID", in.env["AKSID_ADMIN_CLIENT_ID"])
	t.Setenv("AZURE_CLIENT_SECRET", in.env["AKSID_ADMIN_CLIENT_SECRET"])
	def, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	groups, err := armresources.NewResourceGroupsClient(sub, def, &arm.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := groups.CreateOrUpdate(ctx, "proxied-rg", armresources.ResourceGroup{Location: new("westus2")}, nil); err != nil {
		t.Fatal(err)
	}
	pager := groups.NewListPager(nil)
	page, err := pager.NextPage(ctx)
	if err != nil || len(page.Value) != 1 || *page.Value[0].Name != "proxied-rg" {
		t.Fatalf("list groups: %v %v", page.Value, err)
	}

	aks := getToken(t, def, aksServerApp+"/.default")
	newProxyKubeAuthenticator(t, in).expectUser(t, aks.Token, claimsOf(t, aks.Token)["oid"].(string))
}

// TestProxyEgressGuard: only Azure's names are served; everything else is
// refused at once, a tunnel must carry the name it was opened for, and no
// socket of aksid ever leaves loopback.
func TestProxyEgressGuard(t *testing.T) {
	in := start(t, "")
	dial := func() net.Conn {
		c, err := tls.Dial("tcp", strings.TrimPrefix(in.url, "https://"), &tls.Config{RootCAs: in.pool, NextProtos: []string{"h2", "http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		return c
	}
	connect := func(c net.Conn, target string) (int, string) {
		fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return 0, err.Error()
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return resp.StatusCode, string(b)
	}
	for _, target := range []string{"example.com:443", "login.microsoftonline.com.evil.example:443", "management.azure.com:80", "169.254.169.254:443"} {
		c := dial()
		st, body := connect(c, target)
		c.Close()
		if st != 403 || !strings.Contains(body, target) {
			t.Fatalf("CONNECT %s: %d %q", target, st, body)
		}
	}
	c := dial()
	if st, _ := connect(c, "no-port"); st != 400 {
		t.Fatalf("malformed CONNECT: %d", st)
	}
	c.Close()

	// A tunnel opened for login.microsoftonline.com may not ask for another name.
	c = dial()
	if st, body := connect(c, "login.microsoftonline.com:443"); st != 200 {
		t.Fatalf("CONNECT to an Azure host: %d %s", st, body)
	}
	inner := tls.Client(c, &tls.Config{ServerName: "example.com", RootCAs: in.pool})
	if err := inner.Handshake(); err == nil {
		t.Fatal("a tunnel served another name than its target")
	}
	c.Close()
	// Plain bytes where TLS is due close the tunnel.
	c = dial()
	connect(c, "graph.microsoft.com:443")
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: graph.microsoft.com\r\n\r\n")
	if n, _ := c.Read(make([]byte, 64)); n > 0 {
		t.Fatal("non-TLS bytes in a tunnel got an answer")
	}
	c.Close()

	// Absolute-form requests on the plain-HTTP proxy port.
	proxyURL, _ := url.Parse(in.httpProxy(t))
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}
	resp, err := hc.Get("http://example.com/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(b), "example.com") {
		t.Fatalf("absolute-form to example.com: %d %s", resp.StatusCode, b)
	}
	assertLoopbackOnly(t, in.cmd.Process.Pid)
}

func (in *instance) httpProxy(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(in.dataDir, "server.json"))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), `"httpProxy": "`)
	if i < 0 {
		t.Fatalf("no plain proxy port in %s", b)
	}
	rest := string(b)[i+len(`"httpProxy": "`):]
	return rest[:strings.IndexByte(rest, '"')]
}

// assertLoopbackOnly checks every TCP socket the process holds: both ends
// must be loopback addresses (from /proc/PID/fd and /proc/net/tcp{,6}).
func assertLoopbackOnly(t *testing.T, pid int) {
	t.Helper()
	inodes := map[string]bool{}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	seen := 0
	for _, table := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			seen++
			for _, addr := range f[1:3] {
				if !loopbackHex(addr) {
					t.Fatalf("aksid holds a socket beyond loopback: %s", line)
				}
			}
		}
	}
	if seen == 0 {
		t.Fatal("found none of aksid's sockets: the check would prove nothing")
	}
}

// loopbackHex reads /proc/net/tcp's "ADDR:PORT" (hex, host byte order per
// 32-bit word) and tells whether ADDR is loopback or unspecified (listeners).
func loopbackHex(s string) bool {
	h, _, _ := strings.Cut(s, ":")
	raw, err := hex.DecodeString(h)
	if err != nil {
		return false
	}
	for i := 0; i+4 <= len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	ip := net.IP(raw)
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	return ip.IsLoopback() || ip.IsUnspecified() || strconv.Itoa(len(raw)) == "0"
}
