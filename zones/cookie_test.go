package zones

import (
	"encoding/hex"
	"net/netip"
	"testing"
	"time"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func secret(t *testing.T, s string) [16]byte {
	return [16]byte(unhex(t, s))
}

// TestServerCookieVectors: the examples of RFC 9018 Appendix A, byte for
// byte: the cookie each query carries is checked, and the reply's is
// made.
func TestServerCookieVectors(t *testing.T) {
	for _, tc := range []struct {
		name           string
		secret, client string
		query          string // the COOKIE option the query carries
		valid          bool   // its server cookie is one of ours
		now            int64
		reply          string
	}{
		{"A.1 a new client", "e5e973e5a6b2a43f48e7dc849e37bfcf", "198.51.100.100",
			"2464c4abcf10c957", false, 1559731985, "2464c4abcf10c957010000005cf79f111f8130c3eee29480"},
		{"A.2 the same client 40 minutes later", "e5e973e5a6b2a43f48e7dc849e37bfcf", "198.51.100.100",
			"2464c4abcf10c957010000005cf79f111f8130c3eee29480", true, 1559734385, "2464c4abcf10c957010000005cf7a871d4a564a1442aca77"},
		{"A.3 another client, reserved octets set, cookie older than an hour", "e5e973e5a6b2a43f48e7dc849e37bfcf", "203.0.113.203",
			"fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5", false, 1559734700, "fc93fc62807ddb86010000005cf7a9acf73a7810aca2381e"},
		{"A.4 IPv6, the secret rolled over", "445536bcd2513298075a5d379663c962", "2001:db8:220:1:59de:d0f4:8769:82b8",
			"22681ab97d52c298010000005cf7c57926556bd0934c72f8", false, 1559741961, "22681ab97d52c298010000005cf7c609a6bb79d16625507a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, addr, query := secret(t, tc.secret), netip.MustParseAddr(tc.client), unhex(t, tc.query)
			now := time.Unix(tc.now, 0)
			if got := validServerCookie(key, query, addr, now); got != tc.valid {
				t.Errorf("valid = %v, want %v", got, tc.valid)
			}
			if got := hex.EncodeToString(serverCookie(nil, key, query, addr, now)); got != tc.reply {
				t.Errorf("reply cookie %s, want %s", got, tc.reply)
			}
		})
	}
}

// TestServerCookieChecks: a cookie is ours only for the address, the
// secret and the hour it was issued for, with every octet as issued.
func TestServerCookieChecks(t *testing.T) {
	key := secret(t, "e5e973e5a6b2a43f48e7dc849e37bfcf")
	addr := netip.MustParseAddr("198.51.100.100")
	issued := time.Unix(1559731985, 0)
	cookie := serverCookie(nil, key, unhex(t, "2464c4abcf10c957"), addr, issued)
	// The A.3 query's cookie was issued at 1559727985 with reserved
	// octets 0xabcdef: the reserved octets count as sent.
	a3 := unhex(t, "fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5")
	a3addr := netip.MustParseAddr("203.0.113.203")
	flip := func(i int) []byte { c := append([]byte(nil), cookie...); c[i] ^= 1; return c }
	for _, tc := range []struct {
		name   string
		cookie []byte
		addr   netip.Addr
		key    [16]byte
		now    time.Time
		want   bool
	}{
		{"as issued", cookie, addr, key, issued, true},
		{"59 minutes on", cookie, addr, key, issued.Add(59 * time.Minute), true},
		{"61 minutes on", cookie, addr, key, issued.Add(61 * time.Minute), false},
		{"4 minutes ahead of the clock", cookie, addr, key, issued.Add(-4 * time.Minute), true},
		{"6 minutes ahead of the clock", cookie, addr, key, issued.Add(-6 * time.Minute), false},
		{"from another address", cookie, netip.MustParseAddr("198.51.100.101"), key, issued, false},
		{"as an IPv4-mapped IPv6 address", cookie, netip.MustParseAddr("::ffff:198.51.100.100"), key, issued, true},
		{"another secret", cookie, addr, secret(t, "445536bcd2513298075a5d379663c962"), issued, false},
		{"client cookie changed", flip(0), addr, key, issued, false},
		{"reserved octet changed", flip(9), addr, key, issued, false},
		{"timestamp changed", flip(15), addr, key, issued, false},
		{"hash changed", flip(23), addr, key, issued, false},
		{"version 2", func() []byte { c := flip(8); c[8] = 2; return c }(), addr, key, issued, false},
		{"client cookie only", cookie[:8], addr, key, issued, false},
		{"reserved octets as sent (A.3)", a3, a3addr, key, time.Unix(1559727985+60, 0), true},
		{"no address", cookie, netip.Addr{}, key, issued, false},
	} {
		if got := validServerCookie(tc.key, tc.cookie, tc.addr, tc.now); got != tc.want {
			t.Errorf("%s: valid = %v, want %v", tc.name, got, tc.want)
		}
	}
}
