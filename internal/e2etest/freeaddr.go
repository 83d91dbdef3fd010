package e2etest

import "net"

// FreeAddr returns a loopback address ("127.0.0.1:port") nothing listens
// on right now, for a server a test starts as a separate process (orgid,
// PostgreSQL, Redis, a Sentinel), which must be told its port up front.
func FreeAddr(t T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
