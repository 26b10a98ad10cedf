// Command islet builds and runs a single-purpose appliance serving a
// person's or a project's web presence: authoritative DNS from zone
// files, and the website, rendered from a Jekyll source tree, over
// HTTPS with certificates it obtains itself, plus redirects.
//
//	islet run DIR      serve an appliance folder on localhost (or boot it)
//	islet serve ...    the runtime alone, configured by flags
//	islet check DIR    validate islet.yml and the zones of a folder
//	islet build DIR    pack the folder into a bootable image
//	islet render S D   render a Jekyll source tree
//	islet dnssec ...   DNSSEC keys: the DS records for the parent
//
// As PID 1 of an appliance image it is the guest's init (appliance/guest).
package main

import (
	"fmt"
	"io"
	"os"

	"islet.dev/islet/appliance/guest"
)

const usage = `usage: islet <command> [flags] [args]

commands:
  run DIR     serve the appliance in DIR (islet.yml, zones/) on localhost
  serve       run the services from flags (--zones DIR --dns ADDR ...)
  check DIR   validate islet.yml and the zones of DIR (or of DIR/zones) and exit
  build DIR   pack DIR into a bootable image in DIR/_build
  render SRC DST  render the Jekyll site SRC into DST
  dnssec ds KEYDIR [ZONE]  print the DS records to give to the registrar
  dnssec sign KEYDIR ZONEDIR  print the zones signed as serve signs them
  status ADDR  sum up a running appliance from its metrics (serve --metrics ADDR)
  deploy DIR --to URI  build and deploy to libvirt, with health check and rollback

"islet <command> -h" lists a command's flags.
`

func main() {
	if os.Getpid() == 1 { // the init of an appliance image
		if err := guest.Run(); err != nil {
			os.Exit(1)
		}
		return
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "serve":
		return cmdServe(args[1:], stdout, stderr)
	case "check":
		return cmdCheck(args[1:], stdout, stderr)
	case "build":
		return cmdBuild(args[1:], stdout, stderr)
	case "render":
		return cmdRender(args[1:], stdout, stderr)
	case "dnssec":
		return cmdDNSSEC(args[1:], stdout, stderr)
	case "status":
		return cmdStatus(args[1:], stdout, stderr)
	case "deploy":
		return cmdDeploy(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "islet: unknown command %q\n\n%s", args[0], usage)
	return 2
}
