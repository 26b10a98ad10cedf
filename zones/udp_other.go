//go:build !linux

package zones

import (
	"net"
)

func (s *Server) serveBatches(uc *net.UDPConn) error {
	return s.serveSingles(uc)
}
