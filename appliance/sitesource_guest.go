//go:build guest

package appliance

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
)

// RenderedSite is a rendered site: its files and their paths.
type RenderedSite interface {
	FS() fs.FS
	Paths() []string
	Close() error
}

var errGuestRender = errors.New("the appliance image serves the site islet build rendered; it does not render")

// RenderSite is not part of the guest binary.
func RenderSite(context.Context, string, bool, *slog.Logger) (RenderedSite, error) {
	return nil, errGuestRender
}

// Develop is Run in the guest: it has no renderer, and no folder to
// watch.
func Develop(ctx context.Context, opt Options, _ DevOptions) error { return Run(ctx, opt) }
