//go:build !linux

package zones

import (
	"context"
	"net"
)

func (s *Server) serveBatches(ctx context.Context, uc *net.UDPConn) error {
	return s.serveSingles(ctx, uc)
}
