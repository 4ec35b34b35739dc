package aksidtest

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sync"
)

// Token signing keys for test servers. Generating an RSA key costs about
// 100 ms on a small machine and a server makes two at start, so every
// aksidtest server signs with these fixed keys instead, as net/http's
// httptest serves a fixed certificate. They are public: nothing but a
// test server may ever sign with them. Each server still has its own
// issuer (its own port) and its own certificates and key IDs.
var testKeyPEMs = []string{`-----BEGIN RSA PRIVATE KEY-----
MIIEpAIBAAKCAQEAxs8BAH67oIuWFGezPh4w3SWYXTYDaZLPNREKMCmmftnKTOOM
ZanoFxiwEBc4/YxKGh/3xTAGxnP/LP1Ert9ZzbluhvcpgdlcAdnmJErZMBztHgct
Hn97UwOtSwrroaH5BqWF696b77AgAvk4jpln/3It7cPB/CtY5L1kKflIqp4VdWNJ
GrGBWiHSnWh0eMGAmp+qnqCoTV+OrfeJDA1v2+CI3aBee/6+0Mbs1ZUYGPAqv5C0
UFAzP/AWxPx6rpTCdWKFjGvbGA8bDurUWHIEyMAgC0HSxxWf2975IYvvm+LykhA2
vO8L2M+eKibAjjj9UskxY33aIrUMKPM4DYSAjQIDAQABAoIBAAaabglW7EL1F+9G
EXtE8/EIdGLWLi9Vv7mevwSiAYRxlelPXoSq68lGmeRy7QLo47Yx7SAYzATP6gAT
ynH3e6tcVxo2/+Mu9cIe+2ilrsiNEWgfq2U5rT4w31LggjqMX3HT0hqnOm0v36RR
pEoCOOTQZUuiJqGKTAnO65KEU+BM0E2mfREK9CVCXhz6jteZLrv5zu54Qt21K1+q
zcgmILadXps4jWLWU/5qtdeTEISO7eerD3j7ahdt7gWgTOz51yiRXDWqjJ1L7Lb3
A1+2JWeqT/tAOD5hR0VOy4K/C30GGZuUq5904mY3jB/fE9GPhbOZQl3IbM9JlZ7Z
kovfRfECgYEA+xSC/iOlzcWcVD8Max83CCKTcEf8AwlGy/uGnO0cjdw7o3SxJ9p+
f/jMSxjFjST1oWlmMMA49a2uS/WDFRdggtKDTfgvxhx/Iv9LaWU+KYcHTHj8U61d
6NeCTnx/il/swUtn+of+F+XcnKu1eCFieq0nh2OaCBwFiSlycSjIDR0CgYEAyrRI
nRwH0+WcD0ckOVCZksPIBulkt2GNkEreIEFpCLiwMJRIflq8RipPGgP5QLqXx9zF
U4uEdXtwVznexH75qitLFqVneaR/4o1ROng+GpwqTKtT0NNEy60env8v8Z5yXpeR
MJQGdmRjEvfRbuzQAtpxAiuL5g2T+SQ7fU7HljECgYEAzqWUJnzKcvCIeOInY2ce
kQh8FrZ4WTtiVHKg2Tlh/fPb9e0N/YIcCVGJOumZdlCMBZxM6iTa/IFE6emYSFyk
JygBv8Nb9o7vqKs7svQL1Hv46tzMuEYA+6mb6uMWyZmnr3NTkeQpohuiliPQyJ2Z
guROm2TDmpcNi1VchnwNIpUCgYA71JraRLvKv6sgl08J29B4kXEpGRqxRgoS3QZT
Xvsxp9HZhOsg4IdR7osKksGvaWQDihZ0Ymnmg1jVZi9qsE/g+oZfWNMCBJv6stuW
9obeM9oIZ0mGCdX0iFTReWEdYDdB1Fr2i7qcl2Tm5F7c7uk27mMM0O2qKbfTge5N
PkOLAQKBgQCWAr4ebkmROYCYM6iCD6Q+EKMZCgAIpnDToH9PwAsr6O45CcQX3dLi
SRez3yOV+yT18jIg316nYHfORDmdUDoGWTokxZHPDtBHYE7/gshLCBqBJ/gI1n1O
E0deeFdMAJCBfNjayqSfJNbd6adrsgpaEK0Km+ofDcyYZ9hb8pNJeQ==
-----END RSA PRIVATE KEY-----`, `-----BEGIN RSA PRIVATE KEY-----
MIIEpAIBAAKCAQEAji70MoxHA6oWJ5DOgOHPbAh+GxrynRNygstEOT3Fo6re6frh
bIR6Cmyincar/B/7KPMj1qT3D+eNKZOALRm5YqGtb7VN7iR9pmQIUX1EDsK1Doep
oHAjwdW1U/I8SgIVgnlw7+Ue1d8R0mAM8+dNneBXS3reFlE4hGcqsqyXxUNpum3V
XFLLyYWa5j6zKq/3/eCVQ/Vc+jIbGWqAPwN5UwjAwGxvxiLbJjA1vfjslFmhmw1g
BssMw4/yeVrkNdlQ2VbpnAdRbxT7dQ+QJFvBLCT3iAEI7Lng2uX69qlzP/oGjJLJ
JPgCW4UzXBbKid5m1xU6AF4Fzk9m9jwb+dqbFwIDAQABAoIBAAmrHrbrPA7/O2dw
XOJ9uHWftDeSownUXzaOrPJ5hV2GSoc9pKOU9JmN3pb9Agfwgss7kWXQrO47cCly
Gsa2V5lh5iHRAd4eRB8S8U/dRUn9qoM07W94AK53Ik/1imz77EuFh40AlxKzCwqz
tl3Fjk0cisMatUxuNHooa8pfmyhyPaCDoO1ZEUBUevsRfZI9GFBJQaqU6QiNtZG9
50VPN6eCwXw8JPuRzF3vbc2esOIXOQlOe5JcC6jmzg13gaPs4WfsVS31ah3SWDLe
C694/QvNIpK5cVXzaSjNNgLjbTMRNlgPV6ow8A3SYhN9FBb57kY72XCytm5XbrUr
avbQ6NUCgYEAxjPXN7KHw6l4akaMfkuxjvSMQQ29DB7abZj5tM+OSZ4AjQo1PIbE
MBrKB9czkMv0T00oAO+YUmpnwuDkmN1J8LyAhjNCvwfW9pssmkI9uty1RB1RLWwo
PxoI2ZPFwacbJwNIKEGdwxXbVZJyqEakYCsYBdEDxJ1f3xFELXnKAEUCgYEAt6Ux
AB+577eiJ1CnkkMcBQ/JsK1w5EoUuDBsJBaXoFA5AEVjRq4bJWp7IfqeRIBw3EiU
0B8A+usnRPpX9SelKA7zcv0VVYcRjlTjpZND4Rk6MuS56B4JtmvL4RJijd4CfmHu
eZ+BS4zehRKOwpYPW/7nE+1l2diQzXQVXTXiCasCgYEAkqaK6IgtUgWTtjbK/yus
jhS9reinZ09w2MTmhfVI14mT6MeTylwAz4MS1yhQ3CM8emyhW8fr0ZcvfQ7/tWeO
rRQcmK9XBJedY0w/fUfj+t4RNPvoM46iXMY7pBllqjqlqYERI9AhFdaXOkKomX/j
YdCg7rTPb+vtotRYuLkzUG0CgYAmzTFgPFPV8W/CbMkrHyDRdPeBa/P5WCmujRSc
P2XECo8wnniOW4UCz8+6azB7esPd1zwSCSr02TCP43EoLDs6DoajmhOi4Yn1D7yV
pFroOaNRU4BwKcCVmYsXQAIwxWKzf0+axPfVlasCZNxjAr+2CVKbpEIr2BUoQ8mr
yxG6RwKBgQC4w/N96ivOdfFiwRT++CfM6VERe9fxYwXr9qqRd05wcZRRK6lsYfA2
u59bGJ2OlTD3xRspE7iGbKX3psOEQasIagc527SHNxCMAdoDl0N2rHB5myb/vZ94
7VyWkJsZ2CW5ByACHu9VcSu5sEdD3IEFzPjbxrBhm/9k3TnPIIuapA==
-----END RSA PRIVATE KEY-----`}

var testKeys struct {
	once sync.Once
	keys []*rsa.PrivateKey
	err  error
}

// fixedKeys returns a NewSigningKey for one server: the test keys in turn.
func fixedKeys() func() (*rsa.PrivateKey, error) {
	testKeys.once.Do(func() {
		for _, p := range testKeyPEMs {
			block, _ := pem.Decode([]byte(p))
			if block == nil {
				testKeys.err = fmt.Errorf("aksidtest: a test key is not PEM")
				return
			}
			k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				testKeys.err = fmt.Errorf("aksidtest: test key: %w", err)
				return
			}
			testKeys.keys = append(testKeys.keys, k)
		}
	})
	var mu sync.Mutex
	next := 0
	return func() (*rsa.PrivateKey, error) {
		if testKeys.err != nil {
			return nil, testKeys.err
		}
		mu.Lock()
		defer mu.Unlock()
		k := testKeys.keys[next%len(testKeys.keys)]
		next++
		return k, nil
	}
}
