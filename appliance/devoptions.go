package appliance

import (
	"io"
	"time"
)

// DevOptions are islet run's on a development host: the appliance
// folder, rendered and served, and rendered again as it is edited.
type DevOptions struct {
	Dir string // the appliance folder (islet.yml, zones/, site/)
	// Watch renders the site again, reloads the zones and applies
	// islet.yml's hosts and redirects as they change; Poll > 0 polls
	// the folder that often instead of using inotify.
	Watch bool
	Poll  time.Duration
	// LiveReload puts the live-reload script into every HTML page: a
	// page reloads when it changes, swaps its CSS, and shows a render
	// error over itself until it is fixed.
	LiveReload                  bool
	Drafts, Future, Unpublished bool
	// Stderr hears render errors as file:line: message.
	Stderr io.Writer
	// Rendered, if set, is called after each render of the site with
	// its error (nil: served) and the output files that changed.
	Rendered func(err error, changed []string)
}
