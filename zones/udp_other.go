//go:build !linux

package zones

import (
	"context"
	"net"
)

func (s *Server) serveBatches(uc *net.UDPConn) error {
	return s.serveSingles(context.Background(), uc)
}
