# make test: install the Debian peers the tests talk to when missing, then
# run every test with the race detector, including the ones that compare
# islet with NSD and Knot (build tag "peers"). "go test ./..." alone runs
# only the fast ones.
GO ?= go
PEER_PACKAGES := nsd knot bind9 bind9-dnsutils bind9-utils ldnsutils unbound dnsperf curl iproute2 iputils-ping dnsmasq-base nftables cpio qemu-system-x86 libvirt-clients libxml2-utils jekyll ruby-liquid jekyll-theme-minima ruby-jekyll-feed ruby-jekyll-seo-tag ruby-jekyll-sitemap ruby-jekyll-paginate ruby-jekyll-redirect-from ruby-jekyll-include-cache ruby-jekyll-avatar ruby-jekyll-titles-from-headings ruby-jekyll-default-layout ruby-jekyll-optional-front-matter ruby-jekyll-readme-index ruby-jekyll-relative-links ruby-jekyll-gist ruby-jekyll-mentions ruby-jekyll-github-metadata prometheus chromium libvirt-daemon libvirt-daemon-driver-qemu libvirt-daemon-config-network iptables systemd-boot-efi ovmf dosfstools mtools fdisk openssh-server git
PEER_COMMANDS := nsd knotd named dig delv dnssec-signzone ldns-signzone unbound dnsperf curl ip tc ping dnsmasq nft cpio qemu-system-x86_64 virt-xml-validate xmllint jekyll ruby promtool chromium libvirtd virsh sfdisk fsck.fat mcopy sshd git

.PHONY: test test-fast peers fuzz bench mutants

test: peers
	$(GO) mod tidy -diff
	$(GO) vet -tags peers ./...
	$(GO) test -race -count=1 -tags peers ./...
	$(GO) run ./internal/mutants -fast

# make mutants: every mutation in internal/mutants/mutants.txt must be
# caught by the test it names (make test runs the fast ones).
mutants:
	$(GO) run ./internal/mutants

test-fast:
	$(GO) test ./...

peers:
	@missing=0; for c in $(PEER_COMMANDS); do \
	  PATH="$$PATH:/usr/sbin:/sbin" command -v $$c >/dev/null || missing=1; done; \
	if command -v dpkg >/dev/null; then dpkg -s $(PEER_PACKAGES) >/dev/null 2>&1 || missing=1; fi; \
	if [ $$missing = 1 ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing test peers: $(PEER_PACKAGES)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(PEER_PACKAGES) >/dev/null; \
	    (systemctl disable --now named >/dev/null 2>&1 || pkill -x named || true); \
	  elif command -v sudo >/dev/null; then \
	    sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends $(PEER_PACKAGES) >/dev/null; \
	  else \
	    echo "warning: $(PEER_PACKAGES) missing and not root: peer tests will be skipped"; \
	  fi; \
	fi

# make fuzz: each fuzz target for FUZZTIME (default 30s).
FUZZTIME ?= 30s
fuzz:
	cd zones && $(GO) test -run XXX -fuzz FuzzHandle -fuzztime $(FUZZTIME) .
	cd zones && $(GO) test -run XXX -fuzz FuzzLoadZone -fuzztime $(FUZZTIME) .
	cd site/liquid && $(GO) test -run XXX -fuzz FuzzTemplate -fuzztime $(FUZZTIME) .
	cd site/liquid && $(GO) test -run XXX -fuzz FuzzSearch -fuzztime $(FUZZTIME) .
	cd site/liquid && $(GO) test -run XXX -fuzz FuzzLineage -fuzztime $(FUZZTIME) .
	cd site/liquid && $(GO) test -run XXX -fuzz FuzzStripHTML -fuzztime $(FUZZTIME) .
	cd site && $(GO) test -run XXX -fuzz FuzzRender -fuzztime $(FUZZTIME) .
	cd site && $(GO) test -run XXX -fuzz FuzzCompressHTML -fuzztime $(FUZZTIME) .
	cd site && $(GO) test -run XXX -fuzz FuzzSimpleYAML -fuzztime $(FUZZTIME) .
	cd site && $(GO) test -run XXX -fuzz FuzzStateCodec -fuzztime $(FUZZTIME) .
	cd appliance/netstack && $(GO) test -run XXX -fuzz '^FuzzFastPath$$' -fuzztime $(FUZZTIME) .
	cd appliance/netstack && $(GO) test -run XXX -fuzz '^FuzzFastPath6$$' -fuzztime $(FUZZTIME) .
	cd appliance/netstack && $(GO) test -run XXX -fuzz '^FuzzInbound$$' -fuzztime $(FUZZTIME) .
	cd appliance/netstack && $(GO) test -run XXX -fuzz '^FuzzSupersededACKs$$' -fuzztime $(FUZZTIME) .

bench:
	bench/dns.sh
	bench/http.sh
	bench/site.sh
